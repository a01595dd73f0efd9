"""A process's start-up heap, set aside from the garbage collector once it is built."""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Once a process has built what it runs (the app and its listeners, or the scheduler and
    its jobs: modules, the schema, the texts), what it built is set aside from the garbage
    collector (`gc.freeze`): a full collection then scans only what came since. With the
    start-up heap in it (about 300,000 objects), one took 90-120 ms and came every thousand
    requests or so in a web worker, holding every thread of the process meanwhile, and a dozen
    times per 10,000 messages in the sender (docs/PERFORMANCE.md, second round, sections 44, 68)."""
    gc.collect()
    gc.freeze()
    log.info("start-up heap set aside from the garbage collector: %d objects", gc.get_freeze_count())
