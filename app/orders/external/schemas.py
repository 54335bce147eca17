"""The ``/api/v1/external/*`` bodies as pydantic models, for OpenAPI and a last check.

The field-by-field parsers (``email.py``, ``whatsapp.py``) give the detailed
messages; these models describe the same bodies for the OpenAPI document, and
the routes validate every body against them too, so the document and what is
accepted cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.platform.json_api.schema_patterns import EMAIL_PATTERN, NON_BLANK, schema_pattern

# In the JSON Schema only (the parsers give the detailed messages): what they take.
WHATSAPP_NUMBER = r"^\+?31[1-9][0-9]{8}$"
TEMPLATE_KEY = (
    r"^(order_confirmation|visit_reminder|partner_order_confirmation|order_status_update"
    r"|daily_digest|d-[A-Za-z0-9-]{1,120})$"
)
TEMPLATE_DESCRIPTION = "Our template key (order_confirmation, …) or a SendGrid id (d-…)"
# A moment as the validator reads it (app.platform.typed_dates.parse_moment): RFC 3339 with
# an upper-case T and an offset, seconds 00-59, in the years 2000-2100 that every
# typed date keeps to; ``format: date-time`` bounds the rest.
SEND_AT_PATTERN = (
    r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
SEND_AT_DESCRIPTION = (
    "When to send: an RFC 3339 time with its offset, e.g. 2026-02-01T09:00:00Z, "
    "in the years 2000-2100; empty or null: now. It must not lie in the past (five "
    'minutes\' grace for clock skew): JSON Schema cannot say "in the future", so an '
    "earlier time is refused with 422 naming `send_at`."
)
SendAt = (
    Annotated[
        str,
        Field(json_schema_extra={"format": "date-time", **schema_pattern(SEND_AT_PATTERN)}),
    ]
    | Literal[""]
    | None
)


class Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextBody(Lenient):
    body: Annotated[
        str, Field(min_length=1, max_length=4096, json_schema_extra=schema_pattern(NON_BLANK))
    ]


class TemplateLanguage(Lenient):
    # Required once ``language`` is sent (left out, the language is nl).
    code: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]


class TemplateParameter(Lenient):
    type: Literal["text"]
    text: str


class TemplateComponent(Lenient):
    type: Literal["body"]
    parameters: Annotated[list[TemplateParameter], Field(max_length=20)] = []


class TemplateSpec(Lenient):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")]
    language: TemplateLanguage = None  # type: ignore[assignment]  # optional, not null
    # A WhatsApp template has one body; its parameters are at most 20 in all.
    components: Annotated[
        list[TemplateComponent],
        Field(max_length=1, description="The template's body component and its parameters"),
    ] = []


class ReplyContext(Lenient):
    message_id: Annotated[str, Field(min_length=1, json_schema_extra=schema_pattern(NON_BLANK))]


class SendWhatsAppIn(Lenient):
    """A WhatsApp send: a text inside the 24-hour window, or a template."""

    # ``text`` with type text, ``template`` with type template.
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["type", "text"],
                    "properties": {"type": {"const": kind}, kind: {"type": "object"}},
                }
                if kind == "text"
                else {
                    "required": ["type", "template"],
                    "properties": {"type": {"const": kind}, kind: {"type": "object"}},
                }
                for kind in ("text", "template")
            ]
        },
    )
    messaging_product: Literal["whatsapp"] | None = "whatsapp"
    to: (
        Annotated[str, Field(json_schema_extra=schema_pattern(WHATSAPP_NUMBER))]
        | Annotated[int, Field(json_schema_extra={"minimum": 31100000000, "maximum": 31999999999})]
    ) = Field(
        description="The customer's number, e.g. 31687654321 or +31687654321 (the pattern "
        "shows Dutch numbers; others in international form are taken too)"
    )
    type: Literal["text", "template"]
    text: TextBody | None = None
    template: TemplateSpec | None = None
    context: ReplyContext | None = None


class SendEmailIn(Lenient):
    """A transactional e-mail through a SendGrid dynamic template."""

    to: Annotated[str, Field(max_length=254, json_schema_extra=schema_pattern(EMAIL_PATTERN))]
    template_id: str = Field(
        description=TEMPLATE_DESCRIPTION, json_schema_extra=schema_pattern(TEMPLATE_KEY)
    )
    dynamic_data: dict = {}
    category: (
        Annotated[str, Field(max_length=255, json_schema_extra=schema_pattern(r"^[\x20-\x7e]*$"))]
        | None
    ) = None
    name: Annotated[str, Field(max_length=255)] | None = None
    send_at: SendAt = Field(None, description=SEND_AT_DESCRIPTION)


class SendBulkEmailIn(Lenient):
    """One template to a whole audience, in a background job."""

    list_id: Literal["customers_with_open_orders"]
    template_id: str = Field(
        description=TEMPLATE_DESCRIPTION, json_schema_extra=schema_pattern(TEMPLATE_KEY)
    )
    send_at: SendAt = Field(None, description=SEND_AT_DESCRIPTION)


class Accepted(BaseModel):
    success: Literal[True] = True
    data: dict = Field(description="message_id, thread_id, delivery_status (pending)")
