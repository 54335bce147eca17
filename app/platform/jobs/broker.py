"""The Redis connection behind the queues: real Redis, or an embedded stand-in.

With ``REDIS_URL`` unset (``make run``, tests without services) the queues live
in an in-memory fakeredis server and an in-process worker thread runs them, so
the whole app works with nothing installed.
"""

from __future__ import annotations

import logging
import threading

import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.utils import current_timestamp

from app.platform.jobs.list_pusher import ListPusher
from app.platform.jobs.periodic import enqueue_due_periodic_jobs
from app.platform.jobs.queues import QUEUE_NAMES
from app.platform.jobs.worker import AppWorker

log = logging.getLogger(__name__)

# A process's connections to Redis. redis-py 8 refuses the 101st connection asked for
# at once (MaxConnectionsError); a web process's threads can ask that many together
# (200 agents' tabs closing at once each leave the presence board), so past the limit
# a thread waits its turn, up to POOL_WAIT_SECONDS, instead of failing.
POOL_SIZE = 100
POOL_WAIT_SECONDS = 20
# How long a process gathers API usage records before sending them (app.integrations.usage).
USAGE_LINGER_SECONDS = 1.0


class Broker:
    """Owns the Redis connection and hands out queues bound to it."""

    def __init__(self, connection: redis.Redis, embedded: bool) -> None:
        self.connection = connection
        self.embedded = embedded
        self._queues: dict[str, Queue] = {}
        # What the schedulers enqueue on their clocks; the features' jobs, set by create_app.
        self.periodic_jobs: tuple = ()
        self._embedded_worker: EmbeddedWorker | None = None
        # API usage records are statistics, summed by a periodic job: a second's
        # worth go in one round trip, and the request thread wakes the sender once
        # a second rather than once a request (a sixth of a webhook's CPU before).
        # The embedded mode pushes at once (one process, nothing to batch).
        self.usage = ListPusher(connection, linger=USAGE_LINGER_SECONDS, synchronous=embedded)

    @classmethod
    def from_url(cls, url: str | None) -> "Broker":
        if url:
            pool = redis.BlockingConnectionPool.from_url(
                url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS, socket_timeout=30
            )
            return cls(redis.Redis(connection_pool=pool), embedded=False)
        import fakeredis  # only the embedded mode needs it

        return cls(fakeredis.FakeRedis(server=fakeredis.FakeServer()), embedded=True)

    def queue(self, name: str) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.connection)
        return self._queues[name]

    def ping(self) -> bool:
        return bool(self.connection.ping())

    def start_embedded_worker(self, app) -> "EmbeddedWorker":
        """Run the queues in a daemon thread of this process (embedded mode)."""
        if self._embedded_worker is None or not self._embedded_worker.is_alive():
            self._embedded_worker = EmbeddedWorker(app, self)
            self._embedded_worker.start()
        return self._embedded_worker

    @property
    def embedded_worker_running(self) -> bool:
        return self._embedded_worker is not None and self._embedded_worker.is_alive()

    def embedded_worker_busy(self) -> bool:
        return self._embedded_worker is not None and self._embedded_worker.busy

    def stop_embedded_worker(self, *, wait_if_busy: bool = False) -> None:
        """Stop the thread; ``wait_if_busy`` waits for a job it is running to end.

        Tests wait: a batch job of one test's app still claiming rows would take
        the next test's work on a shared database.
        """
        if self._embedded_worker is not None:
            self._embedded_worker.stop(wait=wait_if_busy and self._embedded_worker.busy)
            self._embedded_worker = None


class ThreadWorker(AppWorker):
    """An :class:`AppWorker` that can live in a non-main thread.

    Signal handlers can only be installed from the main thread, and job timeouts
    use a timer instead of SIGALRM for the same reason.
    """

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


class EmbeddedWorker(threading.Thread):
    """Polls the embedded queues, and moves due scheduled/retried jobs onto them.

    RQ's own scheduler forks a process, which cannot see an in-memory Redis, so
    this thread does the scheduler's one duty itself.
    """

    # How long one blocking wait for a job lasts; also the longest delay before a
    # due scheduled (retried) job is moved onto its queue, or a stop is noticed.
    wait_seconds = 1

    def __init__(self, app, broker: Broker) -> None:
        super().__init__(name="embedded-rq-worker", daemon=True)
        self.app = app
        self.broker = broker
        self._stop_event = threading.Event()
        # True from the moment a job is taken off a queue until it has run, so
        # "nothing queued and nothing running" can be told apart from the gap
        # between the two (tests and the CLI wait on it).
        self.busy = False

    def stop(self, wait: bool = False) -> None:
        """Ask the thread to finish; it does within ``wait_seconds`` of its current job."""
        self._stop_event.set()
        if wait:
            self.join(timeout=self.wait_seconds + 5)

    def run(self) -> None:
        queues = [self.broker.queue(name) for name in QUEUE_NAMES]
        worker = ThreadWorker(queues, connection=self.broker.connection, app=self.app)
        worker.bootstrap(logging_level="WARNING")
        try:
            while not self._stop_event.is_set():
                try:
                    self._enqueue_due_scheduled_jobs(queues)
                    enqueue_due_periodic_jobs(self.broker)
                    # Blocks on the queues (no polling) until a job arrives or
                    # wait_seconds pass.
                    result = worker.dequeue_job_and_maintain_ttl(
                        timeout=self.wait_seconds, max_idle_time=self.wait_seconds
                    )
                    if result is not None:
                        self.busy = True
                        worker.execute_job(*result)
                except Exception:
                    log.exception("embedded worker loop failed; continuing")
                    self._stop_event.wait(self.wait_seconds)
                finally:
                    self.busy = False
        finally:
            worker.teardown()

    def _enqueue_due_scheduled_jobs(self, queues: list[Queue]) -> None:
        now = current_timestamp()
        for queue in queues:
            registry = ScheduledJobRegistry(queue=queue)
            for job_id in registry.get_jobs_to_schedule(now):
                job = queue.fetch_job(job_id)
                registry.remove(job_id)
                if job is not None:
                    queue._enqueue_job(job)
