"""What every scheduled job is given and how it is registered: `JobRun` and `register_job`.

A job is `fn(run, team_id) -> rows written`; `run_jobs` (bot/scheduler/jobs.py) walks `JOBS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.notify import Directory


@dataclass
class JobRun:
    """One run of the jobs: the instant it is "as of", and what jobs may read people with."""

    session: Session
    now: dt.datetime  # aware
    directory: Directory | None
    default_tz: str = "UTC"
    retention: dt.timedelta = dt.timedelta(days=30)  # UNINSTALLED_RETENTION_DAYS
    # A job given many workspaces at once reads each one's people with its own directory.
    directories: Callable[[str], Directory | None] | None = None

    def directory_of(self, team_id: str) -> Directory | None:
        return self.directories(team_id) if self.directories is not None else self.directory


Job = Callable[[JobRun, str], int]
# Of the workspaces given, those the job may have work for at the instant: every one it would
# write for, and as few more as one statement can tell (session, workspaces, now, default tz).
Candidates = Callable[[Session, Sequence[str], dt.datetime, str], Collection[str]]
JOBS: dict[str, Job] = {}
FOR_UNINSTALLED: set[str] = set()  # the jobs that run for uninstalled workspaces, and only for them
# Jobs that also take a list of workspaces and do them together (a few statements for all
# rather than a few each): run_jobs hands them `jobs.TEAMS_AT_ONCE` at a time, in one session.
AT_ONCE: set[str] = set()
# Jobs run one workspace at a time that first narrow the workspaces down, for all of them at
# once: a quiet minute then costs a statement per job, not a transaction per job and workspace.
CANDIDATES: dict[str, Candidates] = {}


def register_job(
    name: str, *, uninstalled: bool = False, teams_at_once: bool = False, candidates: Candidates | None = None
) -> Callable[[Job], Job]:
    def add(fn: Job) -> Job:
        JOBS[name] = fn
        if uninstalled:
            FOR_UNINSTALLED.add(name)
        if teams_at_once:
            AT_ONCE.add(name)
        if candidates is not None:
            CANDIDATES[name] = candidates
        return fn

    return add
