"""gunicorn's settings, read from the working directory (``gunicorn wsgi:app``).

Command-line options (workers, threads, bind, ``--access-logfile``) still come
from the deployment; this file only makes gunicorn's logs as careful as ours.
"""

import os
import sys


def _gevent_worker_asked() -> bool:
    """Whether this gunicorn runs the gevent worker class (the pages process)."""
    words = sys.argv[1:] + os.environ.get("GUNICORN_CMD_ARGS", "").split()
    for place, word in enumerate(words):
        following = words[place + 1] if place + 1 < len(words) else ""
        if word in ("-k", "--worker-class") and following == "gevent":
            return True
        if word in ("-kgevent", "--worker-class=gevent"):
            return True
    return False


if _gevent_worker_asked():
    # Before anything below imports the app: what imports ssl, sockets or psycopg
    # before gevent patched them would block the whole process instead of one
    # greenlet (psycopg picks its way of waiting for the database when imported).
    import gevent
    from gevent import monkey

    # gevent records, for every greenlet, the greenlet that spawned it and up to
    # ten frames of where (for gevent.util.print_run_info, which we never call):
    # kept for as long as an open live connection's greenlets live, 61 → 58 KiB a
    # connection at 200 agents (benchmarks/agents.py's measure; app.platform.live_sockets
    # has the rest). Off before the first greenlet is made.
    gevent.config.track_greenlet_tree = False
    monkey.patch_all()

from gunicorn.glogging import Logger  # noqa: E402

from app.platform.security.redaction import QuerySecretsFilter  # noqa: E402
from app.platform.serving import settle_heap  # noqa: E402


class RedactingLogger(Logger):
    """gunicorn's logger; its access and error lines never carry query-string secrets.

    Both print the request line (the error log on a failed request), query
    string included, where Meta puts ``hub.verify_token`` and Fillout ``?secret=``.
    """

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(QuerySecretsFilter())


logger_class = RedactingLogger


def post_worker_init(worker):
    """Without ``REDIS_URL`` each gunicorn worker runs the embedded queue worker;
    then what the app built at start is kept out of full collections (app.platform.serving).

    Started here, in the serving process after the fork, not when the app is
    built: building it also happens in CLI commands, which must run no jobs.
    """
    app = worker.wsgi  # the loaded application (wsgi:app)
    broker = getattr(app, "extensions", {}).get("broker")
    if broker is not None and broker.embedded:
        broker.start_embedded_worker(app)
    settle_heap()


def child_exit(server, worker):
    """A gunicorn worker ended: its live gauges (connected sockets) stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
