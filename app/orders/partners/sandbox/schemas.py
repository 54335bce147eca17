"""The sandbox endpoints' answers, as the OpenAPI description shows them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from app.orders.partners.schemas import OrderStatusName, StatusDetails


class SandboxMoveData(BaseModel):
    partner_order_id: str
    chargecars_order_id: str = Field(examples=["CC-TEST-2026-00001"])
    status: str = Field(description="In your vocabulary (chargecars_to_partner mapping).")
    internal_status: OrderStatusName
    status_details: StatusDetails
    test: Literal[True] = True


class SandboxMoveOut(BaseModel):
    success: Literal[True] = True
    data: SandboxMoveData


class SandboxStep(BaseModel):
    status: OrderStatusName
    due_at: dt.datetime = Field(description="When the step is planned (UTC).")


class SandboxTimelineData(BaseModel):
    partner_order_id: str
    chargecars_order_id: str = Field(examples=["CC-TEST-2026-00001"])
    internal_status: OrderStatusName = Field(description="The order's status now.")
    step_seconds: float
    steps: list[SandboxStep] = Field(description="The moves to come, in order.")
    test: Literal[True] = True


class SandboxTimelineOut(BaseModel):
    success: Literal[True] = True
    data: SandboxTimelineData
