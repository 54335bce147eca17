"""Pushing small values onto Redis lists from a background thread, many per round trip.

Every ``/api/*`` request, the inbound webhooks among them, leaves an API usage
record (:mod:`app.integrations.usage`). A Redis round trip of its own for each
took as much CPU as the webhook's database insert. A request now appends to an
in-process buffer and moves on; one daemon thread per process sends whatever has
gathered in one pipeline a moment later.

What may be lost, and why that is acceptable: values still in the buffer when a
process is killed (a clean exit flushes them), or a batch sent while Redis is
down. A usage record is statistics.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)

# A thread with nothing to send for this long stops (apps built in tests, quiet
# processes); the next push starts another.
IDLE_STOP_SECONDS = 30.0


@dataclass(frozen=True)
class ListSpec:
    """How values reach one list: at its tail (``RPUSH``), with a length cap."""

    max_length: int | None = None


class ListPusher:
    """Buffers ``(list, value)`` pairs and pushes them in batches.

    ``linger`` is how long the thread waits after the first value of a batch, so
    that the values of concurrent requests share one round trip. ``synchronous``
    pushes at once instead (the embedded single-process mode, where there is no
    traffic to batch and tests read the lists straight after a request).
    """

    def __init__(
        self, connection: redis.Redis, *, linger: float = 0.005, synchronous: bool = False
    ) -> None:
        self.connection = connection
        self.linger = linger
        self.synchronous = synchronous
        self._specs: dict[str, ListSpec] = {}
        self._buffer: deque[tuple[str, bytes | str]] = deque()
        self._wake = threading.Event()
        self._flush_lock = threading.Lock()
        # Guards starting and stopping the thread, so a value pushed just as an
        # idle thread stops always finds a thread to send it.
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None  # the process the running thread belongs to
        self._exit_hook = False

    def push(self, key: str, value: bytes | str, *, max_length: int | None = None) -> None:
        """Queue ``value`` for the tail of the list ``key``; never raises for Redis trouble.

        ``max_length`` keeps only that many of the newest values.
        """
        if key not in self._specs:
            self._specs[key] = ListSpec(max_length=max_length)
        if self.synchronous:
            self._buffer.append((key, value))
            self.flush()
            return
        self._buffer.append((key, value))
        with self._state_lock:
            if self._pid != os.getpid():
                self._start_thread()
        if not self._wake.is_set():
            self._wake.set()

    def flush(self) -> int:
        """Send everything buffered now, in one pipeline; returns how many values."""
        with self._flush_lock:
            batch: dict[str, list] = {}
            count = 0
            while True:
                try:
                    key, value = self._buffer.popleft()
                except IndexError:
                    break
                batch.setdefault(key, []).append(value)
                count += 1
            if not batch:
                return 0
            try:
                pipe = self.connection.pipeline(transaction=False)
                for key, values in batch.items():
                    spec = self._specs.get(key, ListSpec())
                    pipe.rpush(key, *values)
                    if spec.max_length:
                        pipe.ltrim(key, -spec.max_length, -1)
                pipe.execute()
            except redis.RedisError as exc:
                log.warning("dropped %d buffered Redis list values: %s", count, exc)
            return count

    def _start_thread(self) -> None:
        """Start the sending thread (caller holds ``_state_lock``)."""
        if self._pid is not None:
            # A fork (gunicorn workers): the parent's thread does not exist here,
            # and what its buffer held is the parent's to send, not ours.
            newest = self._buffer.pop()
            self._buffer.clear()
            self._buffer.append(newest)
            self._wake = threading.Event()
            self._flush_lock = threading.Lock()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="redis-list-pusher", daemon=True)
        self._thread.start()
        if not self._exit_hook:
            # A clean exit sends what is left; weakly, so the hook keeps nothing alive.
            this = weakref.ref(self)
            atexit.register(lambda: (pusher := this()) is not None and pusher.flush())
            self._exit_hook = True

    def _run(self) -> None:
        while True:
            if not self._wake.wait(timeout=IDLE_STOP_SECONDS):
                with self._state_lock:
                    if not self._buffer:  # idle: stop; the next push starts a thread
                        self._pid = None
                        return
                continue
            self._wake.clear()
            if self.linger:
                time.sleep(self.linger)
            try:
                self.flush()
            except Exception:  # the thread must outlive any one bad batch
                log.exception("Redis list pusher failed; continuing")
