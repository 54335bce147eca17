"""Salesforce outbound messages: SOAP notifications in, ``notificationsResponse`` out.

A workflow rule or flow action posts a SOAP 1.1 envelope (``text/xml``) whose
body is ``notifications`` in ``http://soap.sforce.com/2005/09/outbound``:
``OrganizationId``, ``ActionId``, ``SessionId`` (often nil), ``EnterpriseUrl``,
``PartnerUrl`` and 1–100 ``Notification`` elements, each an ``Id`` (the
notification's own id) and an ``sObject`` whose ``xsi:type`` (``sf:Contact``)
names the object and whose children are the fields the message was set up with.

Salesforce signs nothing. What says a call is genuine is the organisation id,
which must be the ``organization_id`` set on an active Salesforce integration
(15- and 18-character ids compared as Salesforce does). The listener must
answer 200 with ``<Ack>true</Ack>``; until it does, Salesforce redelivers the
whole message for up to 24 hours, so each notification is stored once under
its ``Id`` and a redelivery is acknowledged with nothing done twice.

The body is parsed with expat directly, refusing any DTD (SOAP allows none):
no entity is ever declared, so no external entity is fetched and no entity
bomb expands. The ``SessionId`` is an API session of the sending user: it is
never stored.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # noqa: S405  (builds the tree; expat below parses)
from dataclasses import dataclass
from xml.parsers import expat  # noqa: S410  (DTDs refused before any entity is read)

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.integrations.provider_webhooks.receiving import INTEGRATION_HEADER
from app.integrations.salesforce_ids import canonical_id, is_organization_id
from app.platform.extensions import db
from app.platform.json_api.errors import ApiError
from app.platform.models import Integration
from app.platform.webhooks.recording import kept_headers, read_raw_body, record_event

SOURCE = "salesforce"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">'
    "<soapenv:Body>"
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body>"
    "</soapenv:Envelope>"
)
CONTENT_TYPE = "text/xml; charset=utf-8"

_OBJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")


# --- the message ---------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    notification_id: str
    object_type: str
    fields: dict[str, str | None]


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    enterprise_url: str
    partner_url: str
    notifications: tuple[Notification, ...]


class XmlRefused(ValueError):
    """The body declares a DTD or entities: never parsed further."""


def _refuse(*_args) -> None:
    raise XmlRefused("a DTD or entity declaration is not allowed in a SOAP message")


def parse_xml(raw_body: bytes) -> ET.Element:
    """The body as an element tree, tags in ``{namespace}name`` form.

    Raises :class:`XmlRefused` for a DTD (and so any entity) and ``ValueError``
    for anything expat cannot read.
    """
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse

    def clark(name: str) -> str:
        return "{" + name if "}" in name else name

    parser.StartElementHandler = lambda name, attrs: builder.start(
        clark(name), {clark(k): v for k, v in attrs.items()}
    )
    parser.EndElementHandler = lambda name: builder.end(clark(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(raw_body, True)
    except expat.ExpatError as exc:
        raise ValueError(str(exc)) from exc
    return builder.close()


class MalformedMessage(ValueError):
    """Well-formed XML that is not an outbound message; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def read_message(root: ET.Element) -> OutboundMessage:
    """The ``notifications`` call of a SOAP envelope; :class:`MalformedMessage` otherwise."""
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise MalformedMessage("Envelope", "not a SOAP 1.1 envelope")
    call = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notifications")
    if call is None:
        raise MalformedMessage("notifications", "no outbound notifications call in the Body")

    def text(name: str, *, required: bool = True) -> str:
        value = (call.findtext(f"{{{OUTBOUND}}}{name}") or "").strip()
        if required and not value:
            raise MalformedMessage(name, "required")
        return value

    organization_id = text("OrganizationId")
    if not is_organization_id(organization_id):
        raise MalformedMessage("OrganizationId", "not a Salesforce organisation id")
    elements = call.findall(f"{{{OUTBOUND}}}Notification")
    if not elements:
        raise MalformedMessage("Notification", "at least one is required")
    if len(elements) > MAX_NOTIFICATIONS:
        raise MalformedMessage("Notification", f"at most {MAX_NOTIFICATIONS} in one message")
    return OutboundMessage(
        organization_id=organization_id,
        action_id=text("ActionId", required=False),
        enterprise_url=text("EnterpriseUrl", required=False),
        partner_url=text("PartnerUrl", required=False),
        notifications=tuple(_notification(n, element) for n, element in enumerate(elements)),
    )


def _notification(index: int, element: ET.Element) -> Notification:
    where = f"Notification[{index}]"
    notification_id = (element.findtext(f"{{{OUTBOUND}}}Id") or "").strip()
    if canonical_id(notification_id) is None:
        raise MalformedMessage(f"{where}.Id", "not a Salesforce id")
    sobject = element.find(f"{{{OUTBOUND}}}sObject")
    if sobject is None:
        raise MalformedMessage(f"{where}.sObject", "required")
    # xsi:type="sf:Contact": the prefix is the sObject namespace's, the name is ours.
    object_type = sobject.get(f"{{{XSI}}}type", "").rpartition(":")[2]
    if not _OBJECT_NAME.fullmatch(object_type):
        raise MalformedMessage(f"{where}.sObject", "xsi:type must name the object")
    fields: dict[str, str | None] = {}
    for child in sobject:
        name = child.tag.rpartition("}")[2]
        if child.get(f"{{{XSI}}}nil") in ("true", "1"):
            fields[name] = None
        else:
            fields[name] = child.text or ""
    return Notification(notification_id, object_type, fields)


# --- receiving -----------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    integration_id: str
    stored: int
    duplicates: int


def receive_outbound() -> Received:
    """Read, check and store one outbound message in the session (the route commits).

    400 for a body that is not an outbound message, 404 with no active
    Salesforce integration, 401 when none has its organisation id set, 403 when
    the message comes from another organisation.
    """
    raw_body = read_raw_body()
    try:
        message = read_message(parse_xml(raw_body))
    except XmlRefused as exc:
        raise ApiError(400, "xml_refused", str(exc)) from exc
    except MalformedMessage as exc:
        raise ApiError(
            400,
            "malformed_message",
            "This is not a Salesforce outbound message.",
            {exc.field: exc.problem},
        ) from exc
    except ValueError as exc:
        raise ApiError(400, "malformed_xml", f"The body is not well-formed XML: {exc}") from exc
    integration = sending_integration(message.organization_id)
    headers = kept_headers()
    headers[INTEGRATION_HEADER] = str(integration.id)
    stored = 0
    for notification in message.notifications:
        _, is_new = record_event(
            SOURCE,
            notification.notification_id,
            stored_body(message, notification),
            event_type=notification.object_type,
            headers=headers,
        )
        stored += is_new
    return Received(str(integration.id), stored, len(message.notifications) - stored)


def stored_body(message: OutboundMessage, notification: Notification) -> bytes:
    """One notification as the JSON the webhook job reads (never the session id)."""
    body = {
        "organization_id": message.organization_id,
        "action_id": message.action_id,
        "enterprise_url": message.enterprise_url,
        "partner_url": message.partner_url,
        "notification_id": notification.notification_id,
        "object_type": notification.object_type,
        "fields": notification.fields,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def sending_integration(organization_id: str) -> Integration:
    """The active Salesforce integration of this organisation, or the refusal why not."""
    integrations = db.session.scalars(
        sa.select(Integration)
        .where(Integration.provider == SOURCE, Integration.status == "active")
        .options(so.undefer(Integration.credentials))
        .order_by(Integration.created_at)
    ).all()
    if not integrations:
        raise ApiError(404, "no_integration", "There is no active Salesforce integration.")
    sender = canonical_id(organization_id)
    configured = [
        (integration, canonical_id((integration.config or {}).get("organization_id") or ""))
        for integration in integrations
    ]
    for integration, expected in configured:
        if expected is not None and expected == sender:
            return integration
    if not any(expected for _, expected in configured):
        raise ApiError(
            401,
            "not_configured",
            "No Salesforce integration has its organization id set to check messages with.",
        )
    raise ApiError(
        403, "unknown_organization", "This message comes from another Salesforce organization."
    )


# --- answers -------------------------------------------------------------------------


def fault(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> str:
    """A SOAP 1.1 fault: ``Client`` for what the sender got wrong, ``Server`` for ours."""
    side = "soapenv:Client" if status < 500 else "soapenv:Server"
    detail = "".join(
        f"<field><name>{_escape(name)}</name><problem>{_escape(problem)}</problem></field>"
        for name, problem in (fields or {}).items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>{side}</faultcode>"
        f"<faultstring>{_escape(message)}</faultstring>"
        f'<detail><error xmlns="urn:switchboard:webhooks"><code>{_escape(code)}</code>'
        f"{detail}</error></detail>"
        "</soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
