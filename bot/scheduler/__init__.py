"""The scheduler: reminders and digests that arrive on time, once, through crashes and replicas.

- `jobs.py`    the periodic jobs (daily digests / revisit reminders; `register_job` hook);
               they only write notification rows
- `outbox.py`  writing rows (`enqueue`, unique key) and sending them (`Sender`: claim with a
               lease, post, mark sent on ok; 429 / 5xx / permanent errors)
- `hours.py`   quiet hours in the recipient's own time zone
- `runner.py`  `Scheduler`: `sweep` once, or APScheduler in `serve` / `worker`
"""
