"""Worker entry point: ``python worker.py`` runs RQ on every named queue, with the scheduler.

Run as many as the load needs; each takes jobs from the same Redis. RQ's
scheduler lock makes sure only one of them moves scheduled jobs at a time. A
worker that loses Redis waits for it and carries on.

On PostgreSQL each worker also runs the inbox consumer, production's one way in
for webhook events: woken by the insert's NOTIFY, it claims and processes them
in this process (:mod:`app.platform.jobs.consumer`). On SQLite there is none; the web
process queues each event's job instead.

Each worker also keeps the clock of periodic jobs (each slot is claimed once in
Redis, however many keep it). A deployment that wants the clock in a process of
its own, as the ``Procfile`` does, runs ``worker.py --clock`` once and the
workers with ``--no-clock``. How the threads take turns: docs/architecture.md,
*The worker*.
"""

from __future__ import annotations

import gc

# Importing and building the app makes ~250,000 objects that live as long as the
# process; collections during the start free nothing and cost a quarter of it (2.9
# → 2.2 s of CPU here, measured), as in wsgi.py. On again once the app is built,
# before the first job: the jobs' own garbage is collected as before.
gc.disable()

import argparse
import logging
import signal
import sys
import threading
import time

import redis

from app import create_app
from app.platform.extensions import db
from app.platform.jobs.consumer import InboxConsumer
from app.platform.jobs.periodic import PeriodicScheduler
from app.platform.jobs.queues import QUEUE_NAMES
from app.platform.jobs.worker import AppWorker
from app.platform.webhooks.processing import take_waiting
from app.platform.webhooks.recording import NOTIFY_CHANNEL

log = logging.getLogger("worker")


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    app = create_app(start_embedded_worker=False)
    gc.enable()
    broker = app.extensions["broker"]
    if broker.embedded:
        log.error(
            "REDIS_URL is not set: worker.py needs Redis (make run uses an in-process worker)"
        )
        return 2
    if options.clock:
        return _keep_the_clock(broker)
    if not options.no_clock:
        PeriodicScheduler(broker).start()
    consumer = None
    if _on_postgresql(app):
        consumer = InboxConsumer(
            app,
            channel=NOTIFY_CHANNEL,
            take=take_waiting,
            batch_size=app.config["WEBHOOK_BATCH_SIZE"],
            gather_seconds=app.config["WEBHOOK_GATHER_SECONDS"],
        )
        consumer.start()
    while True:
        queues = [broker.queue(name) for name in QUEUE_NAMES]
        worker = AppWorker(queues, connection=broker.connection, app=app)
        log.info("worker %s listening on %s", worker.name, ", ".join(QUEUE_NAMES))
        try:
            worker.work(with_scheduler=True, logging_level="INFO")
            if consumer is not None:  # asked to stop: let it finish the event it is on
                consumer.stop()
                consumer.join(timeout=10)
            return 0  # asked to stop (SIGTERM, SIGINT)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # Redis restarted or unreachable: wait for it and take up work again,
            # instead of leaving the deployment with one worker fewer. What the
            # restart lost is found again by the stalled-event and send sweeps.
            log.warning("worker %s lost Redis (%s); reconnecting", worker.name, exc)
            _wait_for_redis(broker)


def _on_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Switchboard's background worker.")
    roles = parser.add_mutually_exclusive_group()
    roles.add_argument(
        "--clock", action="store_true", help="only keep the clock of periodic jobs (no jobs run)"
    )
    roles.add_argument(
        "--no-clock",
        action="store_true",
        help="run jobs only; a `worker.py --clock` keeps the clock",
    )
    return parser.parse_args(argv)


def _keep_the_clock(broker) -> int:
    """The periodic jobs' clock alone, until SIGTERM or SIGINT."""
    clock = PeriodicScheduler(broker)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    clock.start()
    log.info("keeping the clock of periodic jobs")
    stop.wait()
    clock.stop()
    return 0


def _wait_for_redis(broker, pause_seconds: float = 1.0) -> None:
    while True:
        time.sleep(pause_seconds)
        try:
            broker.ping()
            return
        except (redis.ConnectionError, redis.TimeoutError):
            continue


if __name__ == "__main__":
    sys.exit(main())
