"""Bodies of the inbound Make.com scenarios, as pydantic models.

Each scenario posts its own shape. The endpoint validates it before storing
(422 naming the fields), the job validates it again before acting, and the
OpenAPI document can be built from the same models.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from app.orders.partners.schemas import AddressIn, Email, Phone, Reference, field_errors

ORDER_NUMBER = r"^CC-\d{4}-\d{5}$"
# A scale of 1–5 stars, or a 0–10 NPS-style score; at or below these a
# person follows up (see app.orders.make.feedback).
LOW_SCORE = {5: 2, 10: 6}


class Scenario(BaseModel):
    # Make modules add their own bookkeeping fields; ignore what we do not read.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    execution_id: Annotated[str, Field(max_length=120)] | None = Field(
        None,
        description="Make's {{executionId}}; the same id again is the same event. "
        "The X-Make-Execution-Id header may carry it instead.",
    )


class OrderReference(Scenario):
    """Names an existing order by number (``CC-2026-00001``) or UUID."""

    order_number: Annotated[str, Field(pattern=ORDER_NUMBER)] | None = None
    order_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_reference(self):
        if not self.order_number and not self.order_id:
            raise ValueError("order_number: give order_number or order_id")
        return self

    @property
    def order_key(self) -> str:
        return self.order_number or str(self.order_id)


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email | None = None
    phone: Phone | None = None
    address: AddressIn

    @model_validator(mode="after")
    def _reachable(self):
        if not self.email and not self.phone:
            raise ValueError("email: give an e-mail address or a phone number")
        return self


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    sku: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    description: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    quantity: Annotated[int, Field(ge=1, le=100)] = 1

    @model_validator(mode="after")
    def _named(self):
        if not self.sku and not self.description:
            raise ValueError("sku: give a sku or a description")
        return self


class OrderCreated(Scenario):
    """``order-created``: a scenario (a partner's form, say) hands us a new order."""

    customer: CustomerIn
    products: Annotated[list[ProductIn], Field(max_length=50)] = Field(default_factory=list)
    partner_id: uuid.UUID | None = Field(
        None, description="The partner organization the order came through."
    )
    partner_order_id: Reference | None = Field(
        None, description="The partner's id for the order; with partner_id, one order per id."
    )
    notes: Annotated[str, Field(max_length=5000)] | None = None
    installation_preferences: dict | None = None

    @model_validator(mode="after")
    def _partner_reference(self):
        if self.partner_order_id and not self.partner_id:
            raise ValueError("partner_id: required with partner_order_id")
        return self


class VisitCompleted(OrderReference):
    """``visit-completed``: the installation visit is done."""

    completed_at: AwareDatetime | None = None
    technician: Annotated[str, Field(max_length=200)] | dict | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None


class PaymentReceived(OrderReference):
    """``payment-received``: money arrived for an order."""

    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")] = "EUR"
    payment_reference: Annotated[str, Field(min_length=1, max_length=120)] = Field(
        description="The payment provider's id; the same reference is one payment."
    )
    method: Annotated[str, Field(max_length=40)] | None = None
    paid_at: AwareDatetime | None = None


class CustomerFeedback(OrderReference):
    """``customer-feedback``: the customer's score after a visit."""

    score: int
    scale: Literal[5, 10] = Field(5, description="5: 1–5 stars; 10: 0–10.")
    comment: Annotated[str, Field(max_length=5000)] | None = None
    feedback_id: Annotated[str, Field(max_length=120)] | None = Field(
        None, description="The survey tool's id of the response, if it has one."
    )

    @model_validator(mode="after")
    def _score_on_scale(self):
        lowest = 1 if self.scale == 5 else 0
        if not lowest <= self.score <= self.scale:
            raise ValueError(f"score: must be from {lowest} to {self.scale} on scale {self.scale}")
        return self

    @property
    def is_low(self) -> bool:
        return self.score <= LOW_SCORE[self.scale]


SCENARIOS: dict[str, type[Scenario]] = {
    "order-created": OrderCreated,
    "visit-completed": VisitCompleted,
    "payment-received": PaymentReceived,
    "customer-feedback": CustomerFeedback,
}


class InvalidScenarioBody(Exception):
    """The body does not fit its scenario; ``fields`` names each problem."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def validate_scenario(scenario: str, payload: object) -> Scenario:
    """The body of ``scenario`` (a key of :data:`SCENARIOS`); :class:`InvalidScenarioBody`."""
    schema = SCENARIOS[scenario]
    try:
        return schema.model_validate(payload)
    except ValidationError as exc:
        fields = field_errors(exc)
        # Pydantic skips the cross-field checks once a field failed; name those
        # problems too, so a sender fixing one error at a time sees them all.
        for name, problem in _cross_field_problems(schema, payload).items():
            fields.setdefault(name, problem)
        raise InvalidScenarioBody(fields) from exc


def _cross_field_problems(schema: type[Scenario], payload: object) -> dict[str, str]:
    if not isinstance(payload, dict):
        return {}
    problems = {}
    if issubclass(schema, OrderReference) and not (
        payload.get("order_number") or payload.get("order_id")
    ):
        problems["order_number"] = "give order_number or order_id"
    customer = payload.get("customer")
    if schema is OrderCreated and isinstance(customer, dict):
        if not customer.get("email") and not customer.get("phone"):
            problems["customer.email"] = "give an e-mail address or a phone number"
    return problems
