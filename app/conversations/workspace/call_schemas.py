"""``POST /api/communication/calls`` as pydantic models, for the OpenAPI document.

The route checks a body field by field (:func:`app.conversations.workspace.calls.read_call`,
whose errors name each field in the reader's language); these models describe
that same body and answer, so the document says what the route accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.platform.models.calls import MAX_CALL_SECONDS


class CallIn(BaseModel):
    """A phone call to log on a conversation."""

    thread_id: Annotated[
        str,
        Field(
            description="The conversation the call was about",
            json_schema_extra={"format": "uuid"},
        ),
    ]
    direction: Literal["inbound", "outbound"]
    outcome: Literal["reached", "no_answer", "voicemail", "wrong_number", "callback_requested"]
    duration: Annotated[
        str | None,
        Field(
            description=(
                'How long it lasted: "mm:ss", "h:mm:ss" or minutes ("12", "4,5"). '
                "Required (above 0) when the outcome is reached."
            ),
            examples=["4:12"],
        ),
    ] = None
    duration_seconds: Annotated[
        int | None, Field(ge=0, le=MAX_CALL_SECONDS, description="Instead of duration")
    ] = None
    notes: Annotated[str | None, Field(max_length=20_000)] = None
    called_at: Annotated[
        datetime | None,
        Field(description="When the call was, with time zone; now if left out (up to 31 days ago)"),
    ] = None


class CallFacts(BaseModel):
    direction: Literal["inbound", "outbound"]
    outcome: str
    duration_seconds: int
    duration: str
    called_at: datetime
    agent_id: str | None


class CallMessage(BaseModel):
    """The call's message as the communication API shows messages, with ``call``."""

    id: str
    thread_id: str
    direction: Literal["inbound", "outbound"]
    message_type: str
    channel: Literal["phone_call"]
    content: str
    delivery_status: str
    created_at: datetime
    call: CallFacts


class CallLogged(BaseModel):
    data: CallMessage
