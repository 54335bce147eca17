"""What the property-management connectors (ROVIDA, Yardi) share: work orders.

A work order is read into one :class:`RemoteWorkOrder` whatever the provider
calls its fields, and answered the other way by closing it and attaching the
technician's photos. Each provider's connector knows its own wire format;
:mod:`app.integrations.work_orders.intake` (in) and :mod:`app.integrations.work_orders.closing`
(back out) only see this interface.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import date

from app.integrations.connectors.base import Connector, ConnectorError

WORK_ORDERS = "work_orders"


@dataclass(frozen=True)
class RemoteWorkOrder:
    """One work order as the intake needs it, in no provider's words."""

    remote_id: str
    status: str
    is_open: bool
    description: str
    street: str | None = None
    house_number: str | None = None
    house_number_addition: str | None = None
    postal_code: str | None = None
    city: str | None = None
    # One line ("Kerkstraat 12, 1234 AB Utrecht") when the provider sends no parts.
    address_line: str | None = None
    unit: str | None = None
    tenant_name: str | None = None
    tenant_email: str | None = None
    tenant_phone: str | None = None
    preferred_date: date | None = None
    reference: str | None = None  # the provider's human-readable number


@dataclass(frozen=True)
class PhotoUpload:
    filename: str
    mime_type: str
    data: bytes
    caption: str | None = None


class WorkOrderConnector(Connector):
    """A property system's API seen as work orders to read, close and attach photos to."""

    objects = (WORK_ORDERS,)
    pulled_orders = (WORK_ORDERS,)

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.list_remote(WORK_ORDERS)
        except ConnectorError as exc:
            return False, exc.message
        return True, "The API answered a list of work orders."

    def create_remote(self, object_type, payload, idempotency_key=None):
        raise ConnectorError("work orders are created at the property system, not pushed")

    def update_remote(self, object_type, remote_id, payload):
        raise ConnectorError("work orders change at the property system, not by a push")

    @abstractmethod
    def work_order_of(self, record: dict) -> RemoteWorkOrder:
        """Read a listed record; ConnectorError when it is not a work order we can read."""

    @abstractmethod
    def close_work_order(self, remote_id: str, resolution: str) -> None:
        """Mark the work order done at the provider; closing a closed one is no error."""

    @abstractmethod
    def attach_photo(self, remote_id: str, photo: PhotoUpload, idempotency_key: str) -> str | None:
        """Upload one photo to the work order; the provider's id for it, when it says."""


def text_of(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def date_of(value) -> date | None:
    """``YYYY-MM-DD`` (or the date part of an ISO timestamp); None when unreadable."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
