"""Everything stored about a contact, as one ZIP: ``contact.json`` and their files.

The document is read from the database first (:func:`build_export`, one
footprint, see :mod:`app.conversations.gdpr.footprint`); the ZIP is then streamed from it
(:func:`zip_chunks`), attachments read from disk a chunk at a time, so a
customer with hundreds of photos costs neither memory nor a wait before the
download starts, and nothing of it is left on the server afterwards.
``contact.json`` is written last, so it names exactly the files that are in
the archive.
"""

from __future__ import annotations

import enum
import json
import os
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.attachments.storage import stored_file
from app.conversations.gdpr.footprint import Footprint, footprint_of
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Contact,
    CsatResponse,
    CustomerFeedback,
    FormSubmission,
    InternalTask,
    Order,
    OrderInvoice,
    Payment,
    PaymentRefund,
)
from app.platform.ui import DISPLAY_ZONE

FORMAT = "switchboard.contact-export"
VERSION = 1
DOCUMENT_NAME = "contact.json"
READ_CHUNK = 256 * 1024

CONTACT_FIELDS = (
    "id", "contact_type", "display_name", "first_name", "last_name", "email", "phone",
    "whatsapp_profile_name", "job_title", "preferred_channel", "locale", "detected_language",
    "extra", "created_at", "updated_at", "erased_at",
)  # fmt: skip
ORGANIZATION_FIELDS = (
    "id", "name", "organization_type", "email", "phone", "website", "kvk_number", "vat_number",
)  # fmt: skip
ADDRESS_FIELDS = (
    "id", "address_type", "street", "house_number", "house_number_addition", "postal_code",
    "city", "province", "country", "latitude", "longitude", "validation_state",
    "raw_input", "created_at",
)  # fmt: skip
THREAD_FIELDS = (
    "id", "thread_subject", "thread_type", "status", "priority", "order_id", "tags",
    "created_at", "last_message_at", "resolved_at",
)  # fmt: skip
MESSAGE_FIELDS = (
    "id", "direction", "message_type", "subject", "message_content", "message_html", "language",
    "sender_external", "recipient_external", "external_message_id", "delivery_status",
    "created_at", "sent_at", "delivered_at", "read_at",
)  # fmt: skip
ORDER_FIELDS = (
    "id", "order_number", "status", "source", "order_type", "business_entity",
    "total_amount", "currency", "scheduled_date", "completed_at", "notes",
    "installation_preferences", "customer_as_sent", "partner_order_id", "created_at",
)  # fmt: skip
LINE_FIELDS = ("description", "partner_sku", "quantity", "unit_price", "line_item_status")
TRANSITION_FIELDS = (
    "from_status", "to_status", "transition_reason", "partner_note", "created_at",
)  # fmt: skip
PAYMENT_FIELDS = ("amount", "currency", "method", "external_reference", "paid_at")
INVOICE_FIELDS = (
    "state", "currency", "amount_due", "amount_paid", "amount_refunded",
    "paid_at", "last_refund_at",
)  # fmt: skip
REFUND_FIELDS = ("amount", "currency", "status", "external_reference", "refunded_at")
TASK_FIELDS = (
    "id", "task_title", "task_description", "task_type", "status", "due_date",
    "completed_at", "completion_notes", "thread_id", "order_id", "created_at",
)  # fmt: skip


@dataclass
class ContactExport:
    """The export of one contact: the document and the files that go beside it."""

    contact_id: uuid.UUID
    document: dict[str, Any]
    # (name in the ZIP, file on disk)
    files: list[tuple[str, Path]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How much is in it, for the audit log (numbers only, nothing personal)."""
        conversations = self.document["conversations"]
        return {
            "conversations": len(conversations),
            "messages": sum(len(c["messages"]) for c in conversations),
            "attachments": len(self.files),
            "orders": len(self.document["orders"]),
        }


def build_export(contact: Contact) -> ContactExport:
    """Read everything stored about ``contact`` into a :class:`ContactExport`."""
    footprint = footprint_of(contact)
    export = ContactExport(contact.id, {})
    organization = contact.organization
    export.document = {
        "export": {
            "format": FORMAT,
            "version": VERSION,
            "generated_at": _value(utcnow()),
            "contact_id": str(contact.id),
        },
        "contact": _fields(contact, CONTACT_FIELDS),
        "channel_identities": [
            {"kind": i.kind, "address": i.address, "since": _value(i.created_at)}
            for i in footprint.identities
        ],
        "organization": _fields(organization, ORGANIZATION_FIELDS) if organization else None,
        "addresses": [_fields(address, ADDRESS_FIELDS) for address in footprint.addresses],
        "conversations": _conversations(footprint, export),
        "orders": _orders(footprint),
        "form_submissions": [
            {"submitted_at": _value(s.submitted_at), "answers": s.raw_data}
            for s in _rows(FormSubmission, footprint, FormSubmission.contact_id)
        ],
        "feedback": [
            {"score": f.score, "comment": f.comment, "given_at": _value(f.created_at)}
            for f in _rows(CustomerFeedback, footprint, CustomerFeedback.contact_id)
        ],
        "satisfaction": [
            {"rating": r.rating, "comment": r.comment, "answered_at": _value(r.answered_at)}
            for r in db.session.scalars(
                sa.select(CsatResponse)
                .where(CsatResponse.contact_id == footprint.contact.id)
                .where(CsatResponse.rating.is_not(None))
                .order_by(CsatResponse.answered_at)
            )
        ],
        "tasks": [_fields(task, TASK_FIELDS) for task in _tasks(footprint)],
    }
    return export


def _conversations(footprint: Footprint, export: ContactExport) -> list[dict]:
    threads = db.session.scalars(
        sa.select(CommunicationThread)
        .options(so.selectinload(CommunicationThread.channel))
        .where(CommunicationThread.id.in_(footprint.thread_ids))
        .order_by(CommunicationThread.created_at)
    )
    result = []
    for thread in threads:
        messages = db.session.scalars(
            sa.select(CommunicationMessage)
            .options(
                so.selectinload(CommunicationMessage.channel),
                so.selectinload(CommunicationMessage.sender_user),
            )
            .where(CommunicationMessage.thread_id == thread.id)
            .order_by(CommunicationMessage.created_at)
        )
        result.append(
            {
                **_fields(thread, THREAD_FIELDS),
                "channel": thread.channel.channel_type.value if thread.channel else None,
                "messages": [_message(message, export) for message in messages],
            }
        )
    return result


def _message(message: CommunicationMessage, export: ContactExport) -> dict:
    attachments = []
    for entry in message.attachments or []:
        if not isinstance(entry, dict):
            continue
        path = stored_file(entry)
        name = f"attachments/{message.id}/{path.name}" if path else None
        if path is not None:
            export.files.append((name, path))
        attachments.append(
            {
                "filename": entry.get("filename"),
                "mime_type": entry.get("mime_type"),
                "size": entry.get("size"),
                "caption": entry.get("caption"),
                "file": name,
            }
        )
    return {
        **_fields(message, MESSAGE_FIELDS),
        "channel": message.channel.channel_type.value if message.channel else None,
        "written_by": message.sender_user.name if message.sender_user else None,
        "attachments": attachments,
    }


def _orders(footprint: Footprint) -> list[dict]:
    orders = db.session.scalars(
        sa.select(Order)
        .options(
            so.selectinload(Order.line_items),
            so.selectinload(Order.transitions),
            so.selectinload(Order.partner_organization),
            so.selectinload(Order.installation_address),
        )
        .where(Order.id.in_(footprint.order_ids))
        .order_by(Order.created_at)
    )
    payments: dict[uuid.UUID, list[Payment]] = {}
    for payment in db.session.scalars(
        sa.select(Payment).where(Payment.order_id.in_(footprint.order_ids))
    ):
        payments.setdefault(payment.order_id, []).append(payment)
    invoices = {
        invoice.order_id: invoice
        for invoice in db.session.scalars(
            sa.select(OrderInvoice).where(OrderInvoice.order_id.in_(footprint.order_ids))
        )
    }
    refunds: dict[uuid.UUID, list[PaymentRefund]] = {}
    for refund in db.session.scalars(
        sa.select(PaymentRefund)
        .join(Payment, Payment.id == PaymentRefund.payment_id)
        .where(Payment.order_id.in_(footprint.order_ids))
    ):
        refunds.setdefault(refund.payment_id, []).append(refund)
    return [
        {
            **_fields(order, ORDER_FIELDS),
            "partner": order.partner_organization.name if order.partner_organization else None,
            "installation_address": (
                _fields(order.installation_address, ADDRESS_FIELDS)
                if order.installation_address
                else None
            ),
            "lines": [_fields(line, LINE_FIELDS) for line in order.line_items],
            "status_history": [_fields(t, TRANSITION_FIELDS) for t in order.transitions],
            "payments": [
                {
                    **_fields(p, PAYMENT_FIELDS),
                    "refunds": [_fields(r, REFUND_FIELDS) for r in refunds.get(p.id, [])],
                }
                for p in payments.get(order.id, [])
            ],
            "invoice": (
                _fields(invoices[order.id], INVOICE_FIELDS) if order.id in invoices else None
            ),
        }
        for order in orders
    ]


def _rows(model, footprint: Footprint, contact_column) -> list:
    conditions = [contact_column == footprint.contact.id]
    if footprint.order_ids:
        conditions.append(model.order_id.in_(footprint.order_ids))
    return list(
        db.session.scalars(sa.select(model).where(sa.or_(*conditions)).order_by(model.created_at))
    )


def _tasks(footprint: Footprint) -> list[InternalTask]:
    conditions = []
    if footprint.thread_ids:
        conditions.append(InternalTask.thread_id.in_(footprint.thread_ids))
    if footprint.order_ids:
        conditions.append(InternalTask.order_id.in_(footprint.order_ids))
    if not conditions:
        return []
    return list(
        db.session.scalars(
            sa.select(InternalTask).where(sa.or_(*conditions)).order_by(InternalTask.created_at)
        )
    )


def _fields(row: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in names}


def _value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


# --- the ZIP, streamed -------------------------------------------------------------


class _Pipe:
    """What ``zipfile`` writes to: bytes collected until the response takes them.

    It cannot seek, so ``zipfile`` writes each entry's sizes after its data (a
    data descriptor), which is what lets the archive be sent as it is made.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_chunks(export: ContactExport) -> Iterator[bytes]:
    """The ZIP of ``export``, in pieces as it is made (for a streamed response)."""
    pipe = _Pipe()
    stamp = utcnow().astimezone(DISPLAY_ZONE).timetuple()[:6]
    included: set[str] = set()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in export.files:
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                continue  # erased since the document was read
            with handle:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                # Known up front, so zipfile picks ZIP64 for a file over 2 GB.
                info.file_size = os.fstat(handle.fileno()).st_size
                with archive.open(info, "w") as entry:
                    while chunk := handle.read(READ_CHUNK):
                        entry.write(chunk)
                        yield pipe.take()
            included.add(name)
        document = _with_files(export.document, included)
        info = zipfile.ZipInfo(DOCUMENT_NAME, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, json.dumps(document, indent=2, ensure_ascii=False))
        yield pipe.take()
    yield pipe.take()


def _with_files(document: dict, included: set[str]) -> dict:
    for conversation in document["conversations"]:
        for message in conversation["messages"]:
            for attachment in message["attachments"]:
                if attachment["file"] not in included:
                    attachment["file"] = None
    return document
