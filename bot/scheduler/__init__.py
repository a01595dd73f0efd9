"""The scheduler: reminders and digests that arrive on time, once, through crashes and replicas.

- `base.py`    what a job is given (`JobRun`) and how it is registered (`register_job`)
- `jobs.py`    `run_jobs`, and the other periodic jobs: complaint warnings and escalations,
               stages, response reminders, check-ins, the weekly report, App Homes' rendering,
               the purge of uninstalled workspaces; jobs only write notification rows
- `reminders.py` the daily digests and revisit / follow-up reminders (`revisit_reminders`)
- `outbox.py`  writing rows (`enqueue`, unique key) and sending them (`Sender`: claim with a
               lease, post, mark sent on ok; 429 / 5xx / permanent errors)
- `hours.py`   quiet hours in the recipient's own time zone
- `runner.py`  `Scheduler`: `sweep` once, or APScheduler in `serve` / `worker`
"""
