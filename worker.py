"""Worker entry point: ``python worker.py`` runs RQ on every named queue, with the scheduler.

Run as many as the load needs; each takes jobs from the same Redis. RQ's
scheduler lock makes sure only one of them moves scheduled jobs at a time.
"""

from __future__ import annotations

import logging
import sys

from app import create_app
from app.jobs.periodic import PeriodicScheduler
from app.jobs.queues import QUEUE_NAMES
from app.jobs.worker import AppWorker
from app.webhooks.pump import InboxPump

log = logging.getLogger("worker")


def main() -> int:
    app = create_app(start_embedded_worker=False)
    broker = app.extensions["broker"]
    if broker.embedded:
        log.error(
            "REDIS_URL is not set: worker.py needs Redis (make run uses an in-process worker)"
        )
        return 2
    queues = [broker.queue(name) for name in QUEUE_NAMES]
    worker = AppWorker(queues, connection=broker.connection, app=app)
    PeriodicScheduler(broker).start()
    InboxPump(broker).start()
    log.info("worker %s listening on %s", worker.name, ", ".join(QUEUE_NAMES))
    worker.work(with_scheduler=True, logging_level="INFO")
    return 0


if __name__ == "__main__":
    sys.exit(main())
