"""Request bodies of the partner API, as pydantic models.

The same models validate requests and produce the JSON Schema the OpenAPI
document is built from, so the docs cannot drift from what is enforced.
Both order shapes are accepted: ``line_items[].sku`` and ``products[].partner_sku``
(docs/partners.md documents both).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from app.conversations.contacts.emails import is_email_address
from app.conversations.contacts.phones import normalise_phone
from app.orders.addresses.pdok import normalise_postal_code, split_house_number
from app.orders.deliveries.partner_events import EVENT_NAMES, openapi_description
from app.platform.json_api.schema_patterns import (
    EMAIL_PATTERN,
    HOUSE_NUMBER_PATTERN,
    HTTPS_URL_PATTERN,
    NON_BLANK,
    PHONE_PATTERN,
    POSTAL_CODE_PATTERN,
    TRIMMED,
    schema_pattern,
)
from app.platform.json_api.validation import field_errors

OrderStatusName = Literal[
    "new",
    "quote_sent",
    "approved",
    "scheduled",
    "in_progress",
    "completed",
    "on_hold",
    "cancelled",
]
# The catalogue's names (app.orders.deliveries.partner_events), so the enum is what is sent.
EventName = Literal[EVENT_NAMES]  # type: ignore[valid-type]


def _email(value: str) -> str:
    value = value.strip().lower()
    if not is_email_address(value):
        raise ValueError("must be an e-mail address like jan@example.com")
    return value


def _phone(value: str) -> str:
    phone = normalise_phone(value)
    if phone is None:
        raise ValueError("must be a phone number, e.g. +31612345678 or 06-12345678")
    return phone


def _postal_code(value: str) -> str:
    code = normalise_postal_code(value)
    if code is None:
        raise ValueError("must be a Dutch postal code like 1012AB")
    return code


Email = Annotated[
    str,
    Field(
        max_length=254,
        examples=["jan@example.com"],
        json_schema_extra=schema_pattern(EMAIL_PATTERN),
    ),
    AfterValidator(_email),
]
Phone = Annotated[
    str,
    Field(
        max_length=32,
        description="Any common notation; stored as E.164. The pattern shows Dutch numbers; "
        "other countries' numbers in international form (+32…) are taken too.",
        examples=["+31612345678"],
        json_schema_extra=schema_pattern(PHONE_PATTERN),
    ),
    AfterValidator(_phone),
]
PostalCode = Annotated[
    str,
    Field(max_length=8, examples=["1012AB"], json_schema_extra=schema_pattern(POSTAL_CODE_PATTERN)),
    AfterValidator(_postal_code),
]
Text = Annotated[str, Field(max_length=200)]
NonBlank = schema_pattern(NON_BLANK)
Reference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e ]+$",
        # Printable ASCII, not only spaces (trimmed, it would be empty).
        json_schema_extra=schema_pattern(r"^[\x21-\x7e ]*[\x21-\x7e][\x21-\x7e ]*$"),
    ),
]


class Schema(BaseModel):
    # Partners send more than we read (their own ids, metadata): keep it lenient.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# A street that ends in its house number ("Hoofdstraat 123", "Dorpsweg 7-b"): the
# validator splits it off the street it was sent (trimmed), and the JSON Schema
# says the same of the street as sent with STREET_WITH_NUMBER_PATTERN. Digits are
# 0-9, as in JSON Schema's regular expressions.
STREET_WITH_NUMBER = r"^(.*?[^0-9])\s*([0-9]{1,5})\s*[-\s]?([A-Za-z0-9]{0,6})$"
# Before the number, something that trimming keeps and is no digit (" 12" is only
# a number once trimmed); spaces where the validator takes any whitespace.
STREET_WITH_NUMBER_PATTERN = r"^(.*?[^\s0-9\x1c-\x1f\x85]) *([0-9]{1,5}) *[- ]?([A-Za-z0-9]{0,6})$"


class AddressIn(Schema):
    """An address. The house number is required: in ``house_number``, or at the
    end of ``street`` ("Hoofdstraat 123")."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["house_number"],
                    "properties": {
                        "house_number": {"type": "string", "pattern": HOUSE_NUMBER_PATTERN}
                    },
                },
                {
                    "required": ["street"],
                    "properties": {
                        "street": {"type": "string", "pattern": STREET_WITH_NUMBER_PATTERN}
                    },
                },
            ]
        }
    )
    street: Text | None = Field(
        None,
        description="Street; may end with the house number instead of giving house_number",
        examples=["Hoofdstraat"],
    )
    house_number: (
        # As long as the stored column (addresses.house_number, 10): "12300-ABCDEF"
        # fits the pattern but not the column, and got a 500.
        Annotated[str, Field(max_length=10, json_schema_extra=schema_pattern(HOUSE_NUMBER_PATTERN))]
        | None
    ) = Field(
        None,
        description="Required unless street ends with it: a number, optionally with a "
        "letter or addition (12, 12a, 12-2)",
        examples=["123"],
    )
    house_number_addition: Annotated[str, Field(max_length=10)] | None = None
    postal_code: PostalCode
    city: Annotated[str, Field(max_length=120)] | None = None  # addresses.city

    @model_validator(mode="after")
    def _number_from_street(self) -> "AddressIn":
        # Partners write "Hoofdstraat 123": split the number off the street.
        if not self.house_number and self.street:
            match = re.match(STREET_WITH_NUMBER, self.street)
            if match:
                self.street = match.group(1).strip(" ,")
                self.house_number = match.group(2)
                self.house_number_addition = self.house_number_addition or match.group(3) or None
        if not self.house_number:
            raise ValueError("house_number: required (separately or at the end of street)")
        if split_house_number(self.house_number) is None:
            raise ValueError("house_number: must be a number, optionally with a letter (12a)")
        return self


class CustomerIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=NonBlank)]
    email: Email
    phone: Phone
    address: AddressIn


class LineItemIn(Schema):
    sku: Annotated[str, Field(min_length=1, max_length=64, json_schema_extra=NonBlank)]
    description: Annotated[str, Field(max_length=255)] | None = None
    quantity: Annotated[int, Field(ge=1, le=100)] = 1
    partner_item_id: Annotated[str, Field(max_length=100)] | None = None


class ProductIn(Schema):
    partner_sku: Annotated[str, Field(min_length=1, max_length=64, json_schema_extra=NonBlank)]
    description: Annotated[str, Field(max_length=255)] | None = None
    quantity: Annotated[int, Field(ge=1, le=100)] = 1


class InstallationPreferences(Schema):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)
    preferred_date: dt.date | None = None
    time_preference: Annotated[str, Field(max_length=40)] | None = None
    access_notes: Annotated[str, Field(max_length=2000)] | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None


class PartnerReferences(Schema):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)
    dealer_group_id: Reference | None = None
    purchase_order: Reference | None = None
    customer_account: Reference | None = None


class PartnerOrderIn(Schema):
    """A new installation order from a partner's system."""

    # At least one line, in either shape (the validator's ``_has_products``).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["line_items"],
                    "properties": {"line_items": {"type": "array", "minItems": 1}},
                },
                {
                    "required": ["products"],
                    "properties": {"products": {"type": "array", "minItems": 1}},
                },
            ]
        }
    )

    partner_order_id: Reference = Field(
        description="Your id for the order; sending it again returns the same order."
    )
    partner_customer_id: Reference | None = None
    dealer_group_id: Reference | None = None
    purchase_order_number: Reference | None = None
    customer: CustomerIn
    line_items: Annotated[list[LineItemIn], Field(max_length=50)] | None = Field(
        None, description="The order's lines by your SKU. Give this or `products`."
    )
    products: Annotated[list[ProductIn], Field(max_length=50)] | None = Field(
        None, description="The same lines by `partner_sku`. Give this or `line_items`."
    )
    installation_preferences: InstallationPreferences | None = None
    partner_references: PartnerReferences | None = None

    @model_validator(mode="after")
    def _has_products(self) -> "PartnerOrderIn":
        if not self.line_items and not self.products:
            raise ValueError("line_items: at least one line (or products[]) is required")
        return self

    def lines(self) -> list[LineItemIn]:
        """Both shapes as one list of lines."""
        if self.line_items:
            return list(self.line_items)
        return [
            LineItemIn(sku=p.partner_sku, description=p.description, quantity=p.quantity)
            for p in self.products or []
        ]


def _partner_words_as_keys(schema: dict) -> None:
    # pydantic writes a key pattern as patternProperties, which lets other keys
    # through unchecked; propertyNames says it of every key.
    rows = schema["properties"]["partner_to_chargecars"]["anyOf"][0]
    (values,) = rows.pop("patternProperties").values()
    rows["propertyNames"] = {"maxLength": 64, "pattern": TRIMMED}
    rows["additionalProperties"] = values


class StatusMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_partner_words_as_keys)
    chargecars_to_partner: (
        dict[
            OrderStatusName,
            Annotated[str, Field(max_length=64, json_schema_extra=schema_pattern(TRIMMED))],
        ]
        | None
    ) = Field(None, description="Our status → the word your system uses.")
    partner_to_chargecars: (
        dict[
            Annotated[str, Field(max_length=64, json_schema_extra=schema_pattern(TRIMMED))],
            OrderStatusName,
        ]
        | None
    ) = Field(
        None,
        description=(
            "Your status → ours; used by the partner status webhook. Only the "
            "statuses ChargeCars granted you may be reached (on_hold unless agreed "
            "otherwise); any other is refused with 422 naming the status."
        ),
    )


class IntegrationConfigIn(BaseModel):
    """Your integration's configuration. Only the fields sent are changed.

    ``is_active``, ``rate_limit_per_minute``, ``max_delivery_attempts``,
    ``order_email_address``, ``sync_enabled``, ``sync_frequency`` and
    ``granted_statuses`` are set by ChargeCars: sending any of them is refused
    (422 naming the field).

    The key's mode decides which callback settings are changed: a live key's
    ``webhook_url`` and ``webhook_events`` are the live ones; a test key's are
    the sandbox's, where test orders' callbacks go. A test key may send only
    ``webhook_url``, ``webhook_events`` and ``test_callbacks_to_live_url``
    (any other field: 403 ``live_key_required`` naming it); a live key may not
    send ``test_callbacks_to_live_url`` (403 ``test_key_required``).
    """

    model_config = ConfigDict(extra="forbid")
    # Optional, but not nullable: the configuration refuses null for these.
    integration_name: Annotated[
        str, Field(min_length=1, max_length=120, json_schema_extra=NonBlank)
    ] = None  # type: ignore[assignment]
    api_base_url: (
        Annotated[str, Field(max_length=2000, json_schema_extra=schema_pattern(HTTPS_URL_PATTERN))]
        | None
    ) = None
    api_version: Annotated[str, Field(max_length=20)] | None = None
    authentication_type: Literal["api_key", "oauth2", "basic_auth", "bearer_token"] = None  # type: ignore[assignment]
    webhook_url: (
        Annotated[str, Field(max_length=2000, json_schema_extra=schema_pattern(HTTPS_URL_PATTERN))]
        | None
    ) = Field(
        None,
        description="https URL that receives status callbacks (see StatusCallback); "
        "null removes it. With a live key: live orders' callbacks. With a test key: the "
        "sandbox's URL, for test orders' callbacks only.",
    )
    webhook_events: list[EventName] = Field(  # type: ignore[assignment]
        None,
        description=openapi_description()
        + ". With a test key: the events of test orders' callbacks.",
    )
    test_callbacks_to_live_url: bool = Field(  # type: ignore[assignment]
        None,
        description="Test key only. true: while the sandbox's webhook_url is empty, test "
        "orders' callbacks go to your live webhook_url (signed with the live secret). "
        "false (the default): they are not sent, and the delivery log says why.",
    )
    status_mapping: StatusMapping = None  # type: ignore[assignment]
    alert_email: Email | None = Field(
        None, description="Where we write when callbacks to your webhook_url keep failing."
    )


class PartnerStatusUpdateIn(Schema):
    """A status change in your system, posted to us."""

    partner_order_id: Reference
    partner_customer_id: Reference | None = None
    status: Annotated[str, Field(min_length=1, max_length=64, json_schema_extra=NonBlank)]
    timestamp: dt.datetime | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None
    technician_info: dict | None = None


def validate_partner_order(body: object) -> PartnerOrderIn:
    """The order in ``body``; :class:`ValidationError` → use :func:`order_field_errors`."""
    return PartnerOrderIn.model_validate(body)


def order_field_errors(body: object, exc: ValidationError) -> dict[str, str]:
    """Field errors of an order, including "no lines" next to the others.

    Pydantic skips the model-level check when a field already failed; a
    partner fixing one error at a time would learn of the missing lines last.
    """
    fields = field_errors(exc)
    if isinstance(body, dict) and not body.get("line_items") and not body.get("products"):
        fields.setdefault("line_items", "at least one line (or products[]) is required")
    return fields


# --- answers, for the OpenAPI document -----------------------------------------


class OrderAcceptedData(BaseModel):
    chargecars_order_id: str = Field(examples=["CC-2026-00001"])
    chargecars_order_uuid: str
    status: Literal["received"] = "received"
    estimated_processing_time: str = Field(examples=["24-48 hours"])
    needs_review: bool | None = Field(
        None, description="Present when an address or SKU could not be confirmed."
    )
    review_reasons: list[str] | None = None


class OrderAccepted(BaseModel):
    success: Literal[True] = True
    data: OrderAcceptedData


class StatusDetails(BaseModel):
    from_status: OrderStatusName | None
    to_status: OrderStatusName
    reason: str | None = Field(
        description="ChargeCars' note to you about this change, if it wrote one."
    )
    timestamp: dt.datetime


class OrderStatusData(BaseModel):
    partner_order_id: str
    chargecars_order_id: str
    status: str = Field(description="In your vocabulary (chargecars_to_partner mapping).")
    internal_status: OrderStatusName
    needs_review: bool
    updated_at: dt.datetime
    status_details: StatusDetails | None = Field(
        None, description="The last status change, as its callback told it."
    )


class OrderStatusOut(BaseModel):
    success: Literal[True] = True
    data: OrderStatusData


class ErrorDetail(BaseModel):
    code: str = Field(
        examples=["validation_failed"],
        description="What went wrong, for your code to act on. The partner API's codes, each "
        "with its meaning and what to do: /api/docs/partners#error-codes.",
    )
    message: str
    fields: dict[str, str] | None = Field(
        None, examples=[{"customer.email": "must be an e-mail address like jan@example.com"}]
    )
    chargecars_order_id: str | None = Field(
        None,
        description="With order_conflict (409): the order this partner_order_id made.",
        examples=["CC-2026-00001"],
    )


class ErrorBody(BaseModel):
    success: Literal[False] = False
    error: ErrorDetail


class CustomerInfo(BaseModel):
    name: str | None
    email: str | None


class CallbackVisit(BaseModel):
    """The visit a ``visit_scheduled``, ``visit_rescheduled`` or ``visit_completed``
    callback is about."""

    number: int = Field(description="Which of the order's visits: 1, or 2 and up for a later one")
    purpose: str | None = Field(
        description="Why a later visit is needed: second_day, missing_part or meter_box; "
        "null for the first"
    )
    date: dt.date | None = Field(description="Null when a later visit's plan was taken back")
    window_start: str | None = Field(description="HH:MM, Europe/Amsterdam")
    window_end: str | None
    reason: Literal["customer"] | None = Field(
        None,
        description="On visit_rescheduled: customer when the customer moved the visit on "
        "their personal page; absent when we moved it",
    )


class StatusCallback(BaseModel):
    """What we POST to your ``webhook_url`` when an order's status changes.

    Headers: ``X-ChargeCars-Event``, ``X-ChargeCars-Signature`` (hex HMAC-SHA256
    of the raw body keyed with your ``whsec_…`` secret as given), and Standard
    Webhooks ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``.
    """

    timestamp: dt.datetime
    event: EventName
    chargecars_order_id: str
    partner_order_id: str
    partner_customer_id: str | None
    status: str
    status_details: StatusDetails
    customer_info: CustomerInfo
    visit: CallbackVisit | None = Field(
        None, description="Only on visit_scheduled, visit_rescheduled and visit_completed."
    )
