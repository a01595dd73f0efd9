"""Benchmarks: a deterministic data generator (`bench.generate`) and one command that runs
every registered benchmark and writes `docs/PERFORMANCE.md` (`bench.run`).

Speed is measured here, never in timed asserts in tests. See README, Benchmarks.
"""
