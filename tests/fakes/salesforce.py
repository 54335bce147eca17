"""A fake Salesforce org sending outbound messages, as Salesforce's outbound messaging does.

:meth:`FakeSalesforceOrg.envelope` builds the documented SOAP 1.1 request: a
``soapenv:Envelope`` whose Body holds ``notifications`` in
``http://soap.sforce.com/2005/09/outbound`` with ``OrganizationId``,
``ActionId``, ``SessionId``, ``EnterpriseUrl``, ``PartnerUrl`` and up to 100
``Notification`` elements, each an ``Id`` and an ``sObject`` typed
``sf:<Object>`` in ``urn:sobject.enterprise.soap.sforce.com`` holding the
message's fields (``xsi:nil`` for empty ones). Ids are 18 characters, their
last three the case checksum Salesforce documents.

:meth:`FakeSalesforceOrg.deliver` posts it as Salesforce does (``text/xml``,
``SOAPAction: ""``) and reads the answer as Salesforce would: delivered only on
HTTP 200 with a ``notificationsResponse`` whose ``Ack`` is ``true``; anything
else is a failure Salesforce would retry (kept in :attr:`retry_queue`).
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET  # noqa: S405  (parses our own app's answers)
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
URL = "/api/v1/webhooks/salesforce"


def id18(id15: str) -> str:
    """Salesforce's 18-character form of a 15-character id (its documented checksum)."""
    suffix = ""
    for start in (0, 5, 10):
        chunk = id15[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += CHECKSUM[bits]
    return id15 + suffix


@dataclass(frozen=True)
class Notification:
    notification_id: str
    object_type: str
    fields: dict


@dataclass
class Delivery:
    status: int
    content_type: str
    body: str
    acked: bool


@dataclass
class FakeSalesforceOrg:
    organization_id_15: str = "00D5g000004AbCd"
    action_id: str = "04k5g000000XyZaAAC"
    session_id: str = "00D5g000004AbCd!AQ0AQSecretSessionToken"
    deliveries: list[Delivery] = field(default_factory=list)
    retry_queue: list[bytes] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def organization_id(self) -> str:
        return id18(self.organization_id_15)

    def new_id(self, prefix: str) -> str:
        return id18(f"{prefix}5g0000{next(self._counter):06d}")

    def notification(self, object_type: str, record_id: str | None = None, **fields):
        """One notification of a record; its ``Id`` field is the record's id."""
        record_id = record_id or self.new_id(
            {"Contact": "003", "Account": "001"}.get(object_type, "006")
        )
        return Notification(self.new_id("04l"), object_type, {"Id": record_id, **fields})

    def envelope(self, notifications, organization_id: str | None = None) -> bytes:
        """The SOAP request of one outbound message holding ``notifications``."""
        items = "".join(self._notification_xml(n) for n in notifications)
        org = organization_id or self.organization_id
        instance = "https://example.my.salesforce.com/services/Soap"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
            f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="{XSI}">\n'
            " <soapenv:Body>\n"
            f'  <notifications xmlns="{OUTBOUND}">\n'
            f"   <OrganizationId>{org}</OrganizationId>\n"
            f"   <ActionId>{self.action_id}</ActionId>\n"
            f"   <SessionId>{escape(self.session_id)}</SessionId>\n"
            f"   <EnterpriseUrl>{instance}/c/60.0/{org[:15]}</EnterpriseUrl>\n"
            f"   <PartnerUrl>{instance}/u/60.0/{org[:15]}</PartnerUrl>\n"
            f"{items}"
            "  </notifications>\n"
            " </soapenv:Body>\n"
            "</soapenv:Envelope>\n"
        ).encode()

    @staticmethod
    def _notification_xml(notification: Notification) -> str:
        fields = "".join(
            f'     <sf:{name} xsi:nil="true"/>\n'
            if value is None
            else f"     <sf:{name}>{escape(str(value))}</sf:{name}>\n"
            for name, value in notification.fields.items()
        )
        object_type = quoteattr(f"sf:{notification.object_type}")
        return (
            "   <Notification>\n"
            f"    <Id>{notification.notification_id}</Id>\n"
            f'    <sObject xsi:type={object_type} xmlns:sf="{SOBJECT}">\n'
            f"{fields}"
            "    </sObject>\n"
            "   </Notification>\n"
        )

    def deliver(self, client, body: bytes, url: str = URL) -> Delivery:
        """POST one message as Salesforce does; acknowledged or queued for a retry."""
        response = client.post(
            url,
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        )
        text = response.get_data(as_text=True)
        delivery = Delivery(response.status_code, response.content_type, text, False)
        delivery.acked = response.status_code == 200 and _acknowledged(text)
        if not delivery.acked:
            self.retry_queue.append(body)
        self.deliveries.append(delivery)
        return delivery


def _acknowledged(text: str) -> bool:
    try:
        root = ET.fromstring(text)  # noqa: S314  (our own app's answer)
    except ET.ParseError:
        return False
    ack = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notificationsResponse/{{{OUTBOUND}}}Ack")
    return ack is not None and (ack.text or "").strip() == "true"


def fault_of(text: str) -> tuple[str, str, str]:
    """``(faultcode, faultstring, our error code)`` of a SOAP fault answer."""
    root = ET.fromstring(text)  # noqa: S314  (our own app's answer)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, text
    code = fault.findtext("detail/{urn:switchboard:webhooks}error/{urn:switchboard:webhooks}code")
    return fault.findtext("faultcode"), fault.findtext("faultstring"), code
