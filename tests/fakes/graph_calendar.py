"""The calendar half of the fake Graph: events in users' calendars (mixed into GraphFake).

Speaks Graph v1.0's documented event API: ``POST /users/{id}/events`` (201 with
the event; a ``transactionId`` already used in that calendar answers with the
event made then, which is what the field is for), ``GET``, ``PATCH`` (200 with
the event) and ``DELETE`` (204) on ``/users/{id}/events/{event-id}``, 404
``ErrorItemNotFound`` for an event not in that calendar. ``start``/``end`` are
``dateTimeTimeZone`` objects, checked as Graph checks them; all-day events must
start and end at midnight. ``DELETE /subscriptions/{id}`` (204) ends a subscription.

Tests read :meth:`events_of`, put meetings booked in Outlook with
:meth:`book_meeting`, and build the change notifications Graph posts for events.
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import jsonify, request

from tests.fakes.graph_resources import graph_time


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _not_found():
    return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")


class GraphCalendarMixin:
    """Adds ``/users/{id}/events`` to a :class:`tests.fakes.graph.GraphFake`."""

    def _init_calendar(self) -> None:
        # Graph event id -> (mailbox, event resource)
        self.events: dict[str, tuple[str, dict]] = {}
        # How many events were ever created, per mailbox (a duplicate would show here).
        self.events_created: dict[str, int] = {}
        # Seconds Graph takes to answer a create after making the event (a worker
        # killed meanwhile never hears the answer).
        self.create_answer_delay = 0.0
        self._calendar_routes()

    # -- test controls -------------------------------------------------------

    def events_of(self, mailbox: str) -> list[dict]:
        """The events in ``mailbox``'s calendar now."""
        with self._lock:
            return [e for box, e in self.events.values() if box.lower() == mailbox.lower()]

    def book_meeting(
        self,
        mailbox: str,
        *,
        subject: str,
        start: datetime,
        end: datetime,
        attendees: tuple[str, ...],
        ical_uid: str | None = None,
    ) -> dict:
        """A meeting someone booked in Outlook in ``mailbox``'s calendar."""
        event = self._event_resource(
            mailbox,
            {
                "subject": subject,
                "start": {"dateTime": _local(start), "timeZone": "UTC"},
                "end": {"dateTime": _local(end), "timeZone": "UTC"},
                "attendees": [
                    {
                        "type": "required",
                        "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                        "emailAddress": {"name": address, "address": address},
                    }
                    for address in attendees
                ],
            },
        )
        if ical_uid:
            event["iCalUId"] = ical_uid
        with self._lock:
            self.events[event["id"]] = (mailbox, event)
        return event

    def change_event(self, event_id: str, **fields) -> dict:
        """Change a meeting as Outlook would (a new start, ``isCancelled``, ...)."""
        with self._lock:
            _, event = self.events[event_id]
            event.update(fields)
            event["lastModifiedDateTime"] = graph_time(self.now())
            event["changeKey"] = base64.b64encode(uuid.uuid4().bytes).decode()
            return event

    def remove_event(self, event_id: str) -> None:
        with self._lock:
            self.events.pop(event_id, None)

    def event_notification(
        self, subscription: dict, event_id: str, change_type: str = "created"
    ) -> dict:
        """Graph's change notification about one event of a calendar subscription."""
        resource = f"Users/{self.user_guid}/Events/{event_id}"
        return {
            "value": [
                {
                    "subscriptionId": subscription["id"],
                    "subscriptionExpirationDateTime": subscription["expirationDateTime"],
                    "changeType": change_type,
                    "resource": resource,
                    "resourceData": {
                        "@odata.type": "#Microsoft.Graph.Event",
                        "@odata.id": resource,
                        "@odata.etag": f'W/"{uuid.uuid4().hex}"',
                        "id": event_id,
                    },
                    "clientState": subscription["clientState"],
                    "tenantId": self.tenant_guid,
                }
            ]
        }

    def events_subscription(self, mailbox: str) -> dict:
        resource = f"users/{mailbox}/events"
        (subscription,) = [s for s in self.subscriptions.values() if s["resource"] == resource]
        return subscription

    # -- serving -------------------------------------------------------------

    def _calendar_routes(self) -> None:
        app = self.app

        @app.post("/v1.0/users/<mailbox>/events")
        def _create_event(mailbox):
            body = request.get_json() or {}
            problem = _event_problem(body, creating=True)
            if problem:
                return _error(400, "ErrorInvalidRequest", problem)
            with self._lock:
                transaction = body.get("transactionId")
                for box, event in self.events.values():
                    if transaction and box == mailbox and event.get("transactionId") == transaction:
                        return jsonify(event), 201
                event = self._event_resource(mailbox, body)
                self.events[event["id"]] = (mailbox, event)
                self.events_created[mailbox] = self.events_created.get(mailbox, 0) + 1
            time.sleep(self.create_answer_delay)
            return jsonify(event), 201

        @app.get("/v1.0/users/<mailbox>/events/<event_id>")
        def _get_event(mailbox, event_id):
            found = self.events.get(event_id)
            if found is None or found[0].lower() != mailbox.lower():
                return _not_found()
            return jsonify(found[1])

        @app.patch("/v1.0/users/<mailbox>/events/<event_id>")
        def _update_event(mailbox, event_id):
            body = request.get_json() or {}
            problem = _event_problem(body, creating=False)
            if problem:
                return _error(400, "ErrorInvalidRequest", problem)
            with self._lock:
                found = self.events.get(event_id)
                if found is None or found[0].lower() != mailbox.lower():
                    return _not_found()
                event = found[1]
                event.update(body)
                event["lastModifiedDateTime"] = graph_time(self.now())
                event["changeKey"] = base64.b64encode(uuid.uuid4().bytes).decode()
            return jsonify(event)

        @app.delete("/v1.0/subscriptions/<subscription_id>")
        def _delete_subscription(subscription_id):
            with self._lock:
                if self.subscriptions.pop(subscription_id, None) is None:
                    return _error(404, "ResourceNotFound", "The object was not found.")
            return "", 204

        @app.delete("/v1.0/users/<mailbox>/events/<event_id>")
        def _delete_event(mailbox, event_id):
            with self._lock:
                found = self.events.get(event_id)
                if found is None or found[0].lower() != mailbox.lower():
                    return _not_found()
                del self.events[event_id]
            return "", 204

    def _event_resource(self, mailbox: str, body: dict) -> dict:
        event_id = "AAMkAGI2T" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        now = graph_time(self.now())
        return {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{mailbox}')/events/$entity",
            "@odata.etag": f'W/"{uuid.uuid4().hex}"',
            "id": event_id,
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "changeKey": base64.b64encode(uuid.uuid4().bytes).decode(),
            "iCalUId": "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
            "isAllDay": False,
            "isCancelled": False,
            "showAs": "busy",
            "type": "singleInstance",
            "organizer": {"emailAddress": {"name": mailbox, "address": mailbox}},
            "attendees": [],
            "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}",
            **body,
        }


def _event_problem(body: dict, *, creating: bool) -> str | None:
    """What Graph would refuse in an event body; None when it is fine."""
    for key in ("start", "end"):
        if key not in body:
            if creating:
                return f"{key} is required."
            continue
        moment = body[key] or {}
        try:
            ZoneInfo(moment.get("timeZone") or "")
            parsed = datetime.fromisoformat(moment.get("dateTime") or "")
        except (ValueError, ZoneInfoNotFoundError):
            return f"{key} needs a dateTime and a known timeZone."
        if body.get("isAllDay") and (parsed.hour, parsed.minute, parsed.second) != (0, 0, 0):
            return "An all-day event must start and end at midnight."
    if "start" in body and "end" in body:
        start = datetime.fromisoformat(body["start"]["dateTime"]).replace(
            tzinfo=ZoneInfo(body["start"]["timeZone"])
        )
        end = datetime.fromisoformat(body["end"]["dateTime"]).replace(
            tzinfo=ZoneInfo(body["end"]["timeZone"])
        )
        if end < start:
            return "The end of the event must come after its start."
    return None


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None).isoformat(timespec="seconds")
