"""The RQ worker class every process uses: jobs run inside an app context."""

from __future__ import annotations

import logging

from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue

from app.platform.extensions import db
from app.platform.jobs.turns import job_turn
from app.platform.logs import job_context

log = logging.getLogger(__name__)


class AppWorker(SimpleWorker):
    """Runs each job in its own Flask app context, in its turn (:mod:`app.platform.jobs.turns`).

    A fresh context per job means a fresh ``db.session``: nothing one job loaded
    or left uncommitted leaks into the next. Jobs run in the worker process
    (no fork per job), which keeps the database pool warm; scale out by running
    more ``worker.py`` processes.
    """

    def __init__(self, *args, app, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job: Job, queue: Queue) -> bool:
        with job_turn(job.origin):
            return self._perform(job, queue)

    def _perform(self, job: Job, queue: Queue) -> bool:
        request_id = (job.meta or {}).get("request_id")
        with self.app.app_context(), job_context(job.id, request_id):
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()
