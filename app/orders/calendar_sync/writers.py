"""Writing events to Outlook calendars: Graph, or the sandbox beside it.

One small interface (:class:`CalendarWriter`: create, update, delete) with the
real Graph writer and a sandbox that records what would have been sent, as the
message transports do: Graph credentials unset = sandbox, and its
requests are listed in the channels page's sandbox outbox.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

from flask import current_app

from app.conversations.channels.outlook.client import GraphClient, GraphError
from app.platform.extensions import db
from app.platform.models import SandboxSend
from app.platform.transports.registry import is_sandboxed

PROVIDER = "graph"


class CalendarWriter(Protocol):
    def create(self, mailbox: str, event: dict) -> str:
        """Create ``event`` (with its ``transactionId``); Graph's event id."""

    def update(self, mailbox: str, event_id: str, event: dict) -> bool:
        """Change the event; False when it is gone (deleted in Outlook)."""

    def delete(self, mailbox: str, event_id: str) -> None:
        """Delete the event; one already gone counts as deleted."""


def events_path(mailbox: str, *parts: str) -> str:
    quoted = [quote(part, safe="") for part in parts]
    return "/".join([f"users/{quote(mailbox, safe='@')}", "events", *quoted])


class GraphCalendarWriter:
    """Calendars.ReadWrite (application permission) on the technicians' mailboxes."""

    def __init__(self) -> None:
        self.client = GraphClient(current_app.config)

    def create(self, mailbox: str, event: dict) -> str:
        # A POST with a transactionId Graph has seen answers with the event made
        # then, so a retry after a lost answer does not create a second one.
        return self.client.post(events_path(mailbox), event)["id"]

    def update(self, mailbox: str, event_id: str, event: dict) -> bool:
        try:
            self.client.patch(events_path(mailbox, event_id), event)
        except GraphError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def delete(self, mailbox: str, event_id: str) -> None:
        try:
            self.client.request("DELETE", events_path(mailbox, event_id))
        except GraphError as exc:
            if exc.status != 404:
                raise


class SandboxCalendarWriter:
    """Records each Graph request in the sandbox outbox instead of making it."""

    def create(self, mailbox: str, event: dict) -> str:
        self._record(mailbox, "POST", events_path(mailbox), event)
        return f"sandbox.graph.event.{event['transactionId']}"

    def update(self, mailbox: str, event_id: str, event: dict) -> bool:
        self._record(mailbox, "PATCH", events_path(mailbox, event_id), event)
        return True

    def delete(self, mailbox: str, event_id: str) -> None:
        self._record(mailbox, "DELETE", events_path(mailbox, event_id), {})

    @staticmethod
    def _record(mailbox: str, method: str, path: str, event: dict) -> None:
        db.session.add(
            SandboxSend(
                provider=PROVIDER,
                recipient=mailbox,
                request_body={"request": f"{method} /v1.0/{path}", **event},
                simulated_status="sent",
            )
        )


def calendar_writer() -> CalendarWriter:
    """Graph when its credentials are set, else the sandbox."""
    if is_sandboxed(PROVIDER):
        return SandboxCalendarWriter()
    return GraphCalendarWriter()
