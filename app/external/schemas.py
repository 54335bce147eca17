"""The ``/api/v1/external/*`` bodies as pydantic models, for OpenAPI and a last check.

The field-by-field parsers (``email.py``, ``whatsapp.py``) give the detailed
messages; these models describe the same bodies for the OpenAPI document, and
the routes validate every body against them too, so the document and what is
accepted cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schema_patterns import EMAIL_PATTERN, NON_BLANK, schema_pattern

# In the JSON Schema only (the parsers give the detailed messages): what they take.
WHATSAPP_NUMBER = r"^\+?31[1-9][0-9]{8}$"
TEMPLATE_KEY = (
    r"^(order_confirmation|visit_reminder|partner_order_confirmation|order_status_update"
    r"|daily_digest|d-[A-Za-z0-9-]{1,120})$"
)
TEMPLATE_DESCRIPTION = "Our template key (order_confirmation, …) or a SendGrid id (d-…)"


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
    components: list[TemplateComponent] = []


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
    send_at: str | None = Field(None, description="ISO 8601 with time zone; empty = now")


class SendBulkEmailIn(Lenient):
    """One template to a whole audience, in a background job."""

    list_id: Literal["customers_with_open_orders"]
    template_id: str = Field(
        description=TEMPLATE_DESCRIPTION, json_schema_extra=schema_pattern(TEMPLATE_KEY)
    )
    send_at: str | None = Field(None, description="ISO 8601 with time zone; empty = now")


class Accepted(BaseModel):
    success: Literal[True] = True
    data: dict = Field(description="message_id, thread_id, delivery_status (pending)")
