"""Request and answer bodies of the partner's order API.

Kept apart from :mod:`app.orders.partners.schemas` (intake and configuration) so the
order API's shapes are read in one place. The contact fields reuse intake's
validators: what an order may be created with is what it may be changed to.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.orders.partners.schemas import (
    Email,
    InstallationPreferences,
    OrderStatusName,
    Phone,
    StatusDetails,
)

LOCKED_NOTE = (
    "Only while the order is not yet planned: status new, quote_sent or approved and "
    "no visit date; otherwise 409 `order_locked`."
)


class CustomerChangeIn(BaseModel):
    """The customer's contact details as you now know them; only the fields sent change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    email: Email | None = None
    phone: Phone | None = None


class OrderChangeIn(BaseModel):
    """A change to an order not yet planned: contact details, installation preferences.

    Only the fields sent change; a body that changes nothing answers the order
    as it is. The address and the lines cannot be changed here (write to
    ChargeCars); sending them is refused with 422 naming them.
    """

    model_config = ConfigDict(extra="forbid")
    customer: CustomerChangeIn | None = None
    installation_preferences: InstallationPreferences | None = None


class CancelIn(BaseModel):
    """Why the order is cancelled; the reason is kept as the partner-visible note."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")] = Field(
        description="Shown in the order's history and the `order_cancelled` callback."
    )


# --- answers -----------------------------------------------------------------


class OrderLine(BaseModel):
    sku: str | None = Field(description="Your SKU as sent")
    description: str
    quantity: int
    partner_item_id: str | None


class VisitOut(BaseModel):
    number: int = Field(description="Which of the order's visits: 1, or 2 and up for a later one")
    purpose: str | None = Field(
        description="Why a later visit is needed: second_day, missing_part or meter_box; "
        "null for the first"
    )
    date: dt.date | None = Field(description="Null when a later visit's plan was taken back")
    window_start: str | None = Field(description="HH:MM, Europe/Amsterdam")
    window_end: str | None


class OrderSummary(BaseModel):
    partner_order_id: str
    chargecars_order_id: str
    chargecars_order_uuid: str
    status: str = Field(description="In your vocabulary (chargecars_to_partner mapping).")
    internal_status: OrderStatusName
    is_test: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerOut(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class AddressOut(BaseModel):
    street: str | None
    house_number: str | None
    house_number_addition: str | None
    postal_code: str | None
    city: str | None


class OrderDetail(OrderSummary):
    partner_customer_id: str | None
    partner_references: dict = Field(description="Your references as sent")
    customer: CustomerOut = Field(description="As you sent it (or last changed it)")
    address: AddressOut | None
    installation_preferences: dict
    lines: list[OrderLine]
    visit: VisitOut | None = Field(
        description="The current visit (the first not yet done), when planned; null while not"
    )
    visits: list[VisitOut] = Field(
        description="Every planned visit by number: more than one when the order needs a "
        "second day or a return visit"
    )
    needs_review: bool
    review_reasons: list[str]
    changeable: bool = Field(description=f"Whether PATCH may change it now. {LOCKED_NOTE}")
    history: list[StatusDetails] = Field(
        description="Every status change, oldest first, with ChargeCars' note to you"
    )


class OrderPage(BaseModel):
    success: Literal[True] = True
    data: list[OrderSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class OrderDetailOut(BaseModel):
    success: Literal[True] = True
    data: OrderDetail


class EventOut(BaseModel):
    name: str
    description: str
    order_status: OrderStatusName | None = Field(description="The status that sends it")
    alias_of: str | None
    example_payload: dict = Field(description="A callback body for this event (made up)")


class EventCatalogueOut(BaseModel):
    success: Literal[True] = True
    data: list[EventOut]


class IntegrationConfigData(BaseModel):
    """Your integration as it is now. Never the signing secret or credentials.

    A test key is shown the sandbox's callback settings in ``webhook_url`` and
    ``webhook_events``, a live key the live ones.
    """

    partner_id: str
    mode: Literal["live", "test"] = Field(
        description="The key's mode, and so whose callback settings webhook_url and "
        "webhook_events are: the live ones, or the sandbox's (test orders' callbacks)."
    )
    integration_name: str
    api_base_url: str | None
    api_version: str | None
    authentication_type: str
    webhook_url: str | None
    webhook_events: list[str]
    test_callbacks_to_live_url: bool = Field(
        description="Whether test orders' callbacks go to the live webhook_url while the "
        "sandbox's is empty (set with a test key)."
    )
    status_mapping: dict
    granted_statuses: list[str]
    sync_frequency: str
    sync_enabled: bool
    is_active: bool
    rate_limit_per_minute: int
    max_delivery_attempts: int
    webhook_disabled_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    success_rate: float | None


class IntegrationConfigOut(BaseModel):
    success: Literal[True] = True
    data: IntegrationConfigData
