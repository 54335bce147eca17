"""``POST /api/orders/<id>/status`` as pydantic models, for the OpenAPI document.

The route checks the body field by field (:mod:`app.orders.core.web.api`); these models
describe that same body, so the document says what the route accepts.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.platform.models.enums import OrderStatus

MAX_REASON = 2000


class OrderStatusChangeIn(BaseModel):
    """Move an order through the status engine; an illegal move is refused (409)."""

    to_status: Annotated[
        str, Field(json_schema_extra={"enum": OrderStatus.values()}, examples=["on_hold"])
    ]
    reason: Annotated[
        str | None,
        Field(
            max_length=MAX_REASON,
            description="For colleagues only: shown in the order's history, never to a partner.",
            examples=["Klant belt terug over de meterkast"],
        ),
    ] = None
    partner_note: Annotated[
        str | None,
        Field(
            max_length=MAX_REASON,
            description=(
                "What the order's partner may read about this move: sent as "
                "status_details.reason in its callback and shown in its status answers. "
                "Left out, the partner reads no reason."
            ),
            examples=["Waiting for the customer to confirm the meter cupboard."],
        ),
    ] = None
