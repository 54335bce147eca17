"""The thread in every ``worker.py`` that turns webhook hand-offs into RQ jobs."""

from __future__ import annotations

from app.jobs.periodic import BrokerLoop
from app.webhooks.events import pump_inbox


class InboxPump(BrokerLoop):
    """Turns webhook hand-offs into RQ jobs, waiting up to a second for the next."""

    def __init__(self, broker, *, batch_size: int) -> None:
        super().__init__(broker, "webhook-inbox-pump")
        self.batch_size = batch_size

    def round(self) -> None:
        pump_inbox(self.broker, block_seconds=1, batch_size=self.batch_size)
