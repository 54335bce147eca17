"""The ``/api/v1/external/*`` bodies as pydantic models, for OpenAPI and a last check.

The field-by-field parsers (``email.py``, ``whatsapp.py``) give the detailed
messages; these models describe the same bodies for the OpenAPI document, and
the routes validate every body against them too, so the document and what is
accepted cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextBody(Lenient):
    body: Annotated[str, Field(min_length=1, max_length=4096)]


class TemplateLanguage(Lenient):
    code: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] = "nl"


class TemplateParameter(Lenient):
    type: Literal["text"] = "text"
    text: str


class TemplateComponent(Lenient):
    type: Literal["body"] = "body"
    parameters: Annotated[list[TemplateParameter], Field(max_length=20)] = []


class TemplateSpec(Lenient):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")]
    language: TemplateLanguage | None = None
    components: list[TemplateComponent] = []


class ReplyContext(Lenient):
    message_id: Annotated[str, Field(min_length=1)]


class SendWhatsAppIn(Lenient):
    """A WhatsApp send: a text inside the 24-hour window, or a template."""

    messaging_product: Literal["whatsapp"] | None = "whatsapp"
    to: str | int = Field(description="The customer's number, e.g. 31687654321 or +31687654321")
    type: Literal["text", "template"]
    text: TextBody | None = None
    template: TemplateSpec | None = None
    context: ReplyContext | None = None


class SendEmailIn(Lenient):
    """A transactional e-mail through a SendGrid dynamic template."""

    to: Annotated[str, Field(max_length=254)]
    template_id: str = Field(description="Our template key (order_confirmation, …) or d-… id")
    dynamic_data: dict = {}
    category: Annotated[str, Field(max_length=255)] | None = None
    name: Annotated[str, Field(max_length=255)] | None = None
    send_at: str | None = Field(None, description="ISO 8601 with time zone; empty = now")


class SendBulkEmailIn(Lenient):
    """One template to a whole audience, in a background job."""

    list_id: str
    template_id: str
    send_at: str | None = None


class Accepted(BaseModel):
    success: Literal[True] = True
    data: dict = Field(description="message_id, thread_id, delivery_status (pending)")
