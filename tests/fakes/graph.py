"""A fake Microsoft identity platform + Graph mail API, over HTTPS.

MSAL only talks to ``https://`` authorities, so this fake serves TLS with a
throwaway CA made at first use; a test points ``REQUESTS_CA_BUNDLE`` at
:attr:`GraphFake.ca_bundle` (MSAL and the Graph client both use requests).

It speaks the documented shapes: OpenID discovery and the v2.0 token endpoint
(client credentials), subscriptions (create with the validationToken handshake,
renew), messages with ``$select``, attachments, each mailbox's Inbox and
SentItems delta with nextLink/deltaLink, ``reply`` and ``sendMail`` (202, no body; recipients and
``fileAttachment``s checked as Graph checks them, 4 MB per request), calendar events
(:mod:`tests.fakes.graph_calendar`), and Graph's ``{"error": {"code", "message"}}`` errors.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from flask import jsonify, request

from tests.fakes import FakeServer
from tests.fakes.graph_calendar import GraphCalendarMixin
from tests.fakes.graph_resources import (
    change_notification,
    file_attachment,
    graph_time,
    lifecycle_notification,
    message_resource,
    openid_configuration,
    selected,
)

MAX_MAIL_SUBSCRIPTION = timedelta(minutes=4230)
# Graph refuses a request body over 4 MB; larger attachments need upload sessions.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
SUBSCRIPTION_FIELDS = (
    "resource",
    "changeType",
    "clientState",
    "notificationUrl",
    "lifecycleNotificationUrl",
    "expirationDateTime",
)


def graph_error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


class GraphFake(GraphCalendarMixin, FakeServer):
    """Entra ID's token endpoint and Graph's mail API for the tenant's mailboxes.

    ``mailbox`` is the default one (GRAPH_MAILBOX); a message lives in one
    mailbox, and Graph answers 404 for it under another mailbox's path.
    """

    tls = True

    def __init__(self, *, mailbox: str, tenant: str = "tenant-id") -> None:
        super().__init__("graph-fake")
        self.mailbox = mailbox
        self.tenant = tenant
        self.tenant_guid = str(uuid.uuid4())
        self.user_guid = str(uuid.uuid4())
        self.client_id = "switchboard-app"
        # Unique per fake: the app keeps one MSAL client (and its cached token) per
        # authority and secret, and a later fake may get an earlier one's port.
        self.client_secret = f"graph-client-secret-{uuid.uuid4().hex}"
        self.tokens_issued: list[str] = []
        self.subscriptions: dict[str, dict] = {}
        self.messages: dict[str, dict] = {}
        # Graph message id -> (mailbox, folder) it is in.
        self.locations: dict[str, tuple[str, str]] = {}
        self.attachments: dict[str, list[dict]] = {}
        self.now = lambda: datetime.now(timezone.utc)
        # Called with the validation URL when a subscription is created, as Graph
        # calls the notificationUrl; returns (status, mimetype, text).
        self.validator = None
        # Per (mailbox, folder): the walk being served and the next one.
        self._delta_walk: dict[tuple[str, str], list[list[dict]]] = {}
        self._next_walk: dict[tuple[str, str], list[list[dict]]] = {}
        self._walks = itertools.count(1)
        self._failures: list[tuple[str, int, dict | None, dict, float]] = []
        self._client_state: str | None = None
        self._routes()
        self._init_calendar()

    # -- test controls -------------------------------------------------------

    def app_config(self) -> dict:
        return {
            "GRAPH_API_BASE": self.url,
            "GRAPH_AUTHORITY": f"{self.url}/{self.tenant}",
            "GRAPH_TENANT_ID": self.tenant,
            "GRAPH_CLIENT_ID": self.client_id,
            "GRAPH_CLIENT_SECRET": self.client_secret,
            "GRAPH_MAILBOX": self.mailbox,
        }

    def fail_next(self, path_part, status, body=None, headers=None, times=1, delay=0.0):
        """The next ``times`` Graph calls whose path contains ``path_part`` fail so."""
        with self._lock:
            for _ in range(times):
                self._failures.append((path_part, status, body, headers or {}, delay))

    def queue_delta(
        self, pages: list[list[dict]], *, mailbox: str | None = None, folder: str = "Inbox"
    ) -> None:
        """What the next delta walk (initial or from the deltaLink) of a mailbox's
        folder returns, page by page."""
        self._next_walk[(mailbox or self.mailbox, folder)] = pages

    def active_subscription(self, mailbox: str | None = None, folder: str = "Inbox") -> dict:
        resource = f"users/{mailbox or self.mailbox}/mailFolders('{folder}')/messages"
        (subscription,) = [s for s in self.subscriptions.values() if s["resource"] == resource]
        return subscription

    def add_message(
        self, message_id: str, *, sender: str, mailbox: str | None = None, **fields
    ) -> dict:
        """Put a message in a mailbox's Inbox (fields: see ``message_resource``)."""
        mailbox = mailbox or self.mailbox
        fields.setdefault("received", self.now())
        message = message_resource(message_id, mailbox=mailbox, sender=sender, **fields)
        message["hasAttachments"] = bool(self.attachments.get(message_id))
        self.messages[message_id] = message
        self.locations[message_id] = (mailbox, "Inbox")
        return message

    def add_sent_message(
        self, message_id: str, *, mailbox: str | None = None, to: tuple[str, ...], **fields
    ) -> dict:
        """A mail sent as ``mailbox`` from Outlook itself, now in its Sent Items.

        ``fields["colleague"]``: who sent it on the mailbox's behalf (Graph's ``sender``).
        """
        mailbox = mailbox or self.mailbox
        colleague = fields.pop("colleague", None)
        fields.setdefault("received", self.now())
        fields.setdefault("name", "Klantenservice")
        message = message_resource(message_id, mailbox=mailbox, sender=mailbox, to=to, **fields)
        if colleague:
            message["sender"] = {"emailAddress": {"name": colleague, "address": colleague}}
        message["isRead"] = True
        self.messages[message_id] = message
        self.locations[message_id] = (mailbox, "SentItems")
        return message

    def add_attachment(self, message_id: str, name: str, content_type: str, size: int) -> None:
        attachment = file_attachment(name, content_type, size, self.now())
        self.attachments.setdefault(message_id, []).append(attachment)
        if message_id in self.messages:
            self.messages[message_id]["hasAttachments"] = True

    def notification(self, message_id: str, client_state: str | None = None) -> dict:
        """A change notification for a new message, as Graph posts it (from the
        subscription on the message's mailbox and folder)."""
        mailbox, folder = self.locations.get(message_id, (self.mailbox, "Inbox"))
        subscription = self.active_subscription(mailbox, folder)
        item = change_notification(
            subscription,
            message_id,
            user_guid=self.user_guid,
            tenant_guid=self.tenant_guid,
            client_state=client_state or subscription["clientState"],
        )
        return {"value": [item]}

    def lifecycle(self, event: str, subscription_id: str | None = None) -> dict:
        """A lifecycle notification about the live subscription, or an old one by id."""
        current = self.active_subscription() if subscription_id is None else {}
        item = lifecycle_notification(
            event,
            subscription_id or current["id"],
            expiry=current.get("expirationDateTime", graph_time(self.now())),
            client_state=self._client_state,
            tenant_guid=self.tenant_guid,
        )
        return {"value": [item]}

    # -- serving -------------------------------------------------------------

    def _routes(self) -> None:
        app = self.app

        @app.before_request
        def _graph_gate():
            if not request.path.startswith("/v1.0/"):
                return None
            expected = f"Bearer {self.tokens_issued[-1]}" if self.tokens_issued else None
            if request.headers.get("Authorization") != expected:
                return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
            with self._lock:
                failure = next((f for f in self._failures if f[0] in request.path), None)
                if failure is None:
                    return None
                self._failures.remove(failure)
            _, status, body, headers, delay = failure
            time.sleep(delay)
            response = jsonify(body or {"error": {"code": "Failure", "message": "faked"}})
            response.status_code = status
            response.headers.update(headers)
            return response

        @app.get("/<tenant>/v2.0/.well-known/openid-configuration")
        def _discovery(tenant):
            return jsonify(openid_configuration(f"{self.url}/{tenant}"))

        @app.post("/<tenant>/oauth2/v2.0/token")
        def _token(tenant):
            form = request.form
            if form.get("client_id") != self.client_id or (
                form.get("client_secret") != self.client_secret
            ):
                return jsonify(
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided.",
                        "error_codes": [7000215],
                    }
                ), 401
            if form.get("grant_type") != "client_credentials" or (
                form.get("scope") != "https://graph.microsoft.com/.default"
            ):
                return jsonify({"error": "invalid_request", "error_description": "bad"}), 400
            token = f"fake-graph-token-{uuid.uuid4().hex}"
            self.tokens_issued.append(token)
            return jsonify({"token_type": "Bearer", "expires_in": 3599, "access_token": token})

        @app.post("/v1.0/subscriptions")
        def _create_subscription():
            body = request.get_json()
            problem = self._subscription_problem(body)
            if problem:
                return graph_error(400, "InvalidRequest", problem)
            subscription = {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
                "id": str(uuid.uuid4()),
                "applicationId": self.client_id,
                "creatorId": str(uuid.uuid4()),
                "latestSupportedTlsVersion": "v1_2",
                "includeResourceData": False,
                **{key: body.get(key) for key in SUBSCRIPTION_FIELDS},
            }
            self.subscriptions[subscription["id"]] = subscription
            self._client_state = body["clientState"]
            return jsonify(subscription), 201

        @app.patch("/v1.0/subscriptions/<subscription_id>")
        def _renew_subscription(subscription_id):
            subscription = self.subscriptions.get(subscription_id)
            if subscription is None:
                return graph_error(404, "ResourceNotFound", "The object was not found.")
            expiry = (request.get_json() or {}).get("expirationDateTime", "")
            problem = self._expiry_problem(expiry)
            if problem:
                return graph_error(400, "InvalidRequest", problem)
            subscription["expirationDateTime"] = expiry
            return jsonify(subscription)

        @app.get("/v1.0/users/<mailbox>/messages/<message_id>")
        def _message(mailbox, message_id):
            message = self.messages.get(message_id) if self._holds(mailbox, message_id) else None
            if message is None:
                return _not_found()
            return jsonify(selected(message, request.args.get("$select")))

        @app.get("/v1.0/users/<mailbox>/messages/<message_id>/attachments")
        def _attachments(mailbox, message_id):
            if not self._holds(mailbox, message_id):
                return _not_found()
            items = self.attachments.get(message_id, [])
            fields = request.args.get("$select")
            return jsonify({"value": [selected(item, fields) for item in items]})

        @app.get("/v1.0/users/<mailbox>/<folder_segment>/messages/delta")
        def _delta(mailbox, folder_segment):
            folder = folder_segment.removeprefix("mailFolders('").removesuffix("')")
            if folder not in ("Inbox", "SentItems"):
                return _not_found()
            key = (mailbox, folder)
            skip = request.args.get("$skiptoken")
            with self._lock:
                if skip is None:
                    self._delta_walk[key] = self._next_walk.pop(key, None) or [[]]
                    index = 0
                else:
                    index = int(skip)
                walk = self._delta_walk.get(key) or [[]]
            body = {"value": walk[index]}
            prefix = f"{self.url}/v1.0/users/{quote(mailbox, safe='@')}"
            link = f"{prefix}/mailFolders('{folder}')/messages/delta"
            if index + 1 < len(walk):
                body["@odata.nextLink"] = f"{link}?$skiptoken={index + 1}"
            else:
                body["@odata.deltaLink"] = f"{link}?$deltatoken=walk-{next(self._walks)}"
            return jsonify(body)

        @app.post("/v1.0/users/<mailbox>/messages/<message_id>/reply")
        def _reply(mailbox, message_id):
            if not self._holds(mailbox, message_id):
                return _not_found()
            body = request.get_json()
            if body.get("comment") is not None and (body.get("message") or {}).get("body"):
                return graph_error(400, "ErrorInvalidRequest", "Specify comment or body, not both.")
            return self._message_problem(body.get("message") or {}) or ("", 202)

        @app.post("/v1.0/users/<mailbox>/sendMail")
        def _send_mail(mailbox):
            message = (request.get_json() or {}).get("message") or {}
            if not message.get("toRecipients"):
                return graph_error(400, "ErrorInvalidRecipients", "At least one recipient.")
            return self._message_problem(message) or ("", 202)

    def _holds(self, mailbox: str, message_id: str) -> bool:
        location = self.locations.get(message_id)
        return location is not None and location[0].lower() == mailbox.lower()

    def _message_problem(self, message: dict):
        """Graph's answer to a message resource it would refuse; None when it is fine."""
        if request.content_length and request.content_length > MAX_REQUEST_BYTES:
            return graph_error(413, "RequestBodyTooLarge", "The request body is over 4 MB.")
        for key in ("toRecipients", "ccRecipients", "bccRecipients"):
            for recipient in message.get(key) or []:
                address = ((recipient or {}).get("emailAddress") or {}).get("address") or ""
                if "@" not in address:
                    problem = f"Invalid recipient {address!r}."
                    return graph_error(400, "ErrorInvalidRecipients", problem)
        for attachment in message.get("attachments") or []:
            if attachment.get("@odata.type") != "#microsoft.graph.fileAttachment" or not (
                attachment.get("name")
            ):
                return graph_error(400, "ErrorInvalidRequest", "Attachment type or name missing.")
            try:
                base64.b64decode(attachment.get("contentBytes") or "", validate=True)
            except (binascii.Error, ValueError):
                return graph_error(400, "ErrorInvalidRequest", "contentBytes is not base64.")
        return None

    def _subscription_problem(self, body: dict) -> str | None:
        for key in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not body.get(key):
                return f"{key} is required."
        if len(body.get("clientState") or "") > 255:
            return "clientState is longer than 255 characters."
        problem = self._expiry_problem(body["expirationDateTime"])
        if problem or self.validator is None:
            return problem
        for url in dict.fromkeys(
            filter(None, [body["notificationUrl"], body.get("lifecycleNotificationUrl")])
        ):
            token = f"Validation: Testing client application reachability {uuid.uuid4()}"
            status, mimetype, text = self.validator(f"{url}?validationToken={quote(token)}")
            if status != 200 or mimetype != "text/plain" or text != token:
                return (
                    "Subscription validation request failed. Response must exactly match "
                    "validationToken query parameter."
                )
        return None

    def _expiry_problem(self, value: str) -> str | None:
        try:
            expiry = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "expirationDateTime is not a date."
        now = self.now()
        if not now < expiry <= now + MAX_MAIL_SUBSCRIPTION:
            return "Subscription expiration can only be 4230 minutes in the future."
        return None


def _not_found():
    return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
