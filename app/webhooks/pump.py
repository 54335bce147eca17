"""The thread in every ``worker.py`` that turns webhook hand-offs into RQ jobs."""

from __future__ import annotations

import logging
import threading

from app.webhooks.events import pump_inbox

log = logging.getLogger(__name__)


class InboxPump(threading.Thread):
    """A daemon thread of ``worker.py`` turning webhook hand-offs into RQ jobs."""

    def __init__(self, broker) -> None:
        super().__init__(name="webhook-inbox-pump", daemon=True)
        self.broker = broker
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                pump_inbox(self.broker, block_seconds=1)
            except Exception:
                log.exception("webhook inbox pump failed; retrying")
                self._stop_event.wait(1)
