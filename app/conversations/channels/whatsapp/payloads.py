"""Reading Meta's webhook payloads: their shape, and each message type's content.

A payload is ``{"object": "whatsapp_business_account", "entry": [{"changes":
[{"field": "messages", "value": {...}}]}]}``; a ``value`` carries ``contacts``
(profile names), ``messages`` (from customers) and ``statuses`` (of ours).
Every message type becomes readable text for the inbox; what text cannot hold
(coordinates, button ids, the raw message of a type we do not know) goes in
the message's metadata. Nothing a customer sends is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
MEDIA_LABELS = {
    "image": "Photo",
    "video": "Video",
    "audio": "Audio message",
    "document": "Document",
    "sticker": "Sticker",
}


def shape_problems(payload: dict) -> dict[str, str]:
    """Fields of a webhook payload that are not as Meta sends them (empty: fine)."""
    if payload.get("object") != "whatsapp_business_account":
        return {"object": 'must be "whatsapp_business_account"'}
    entries = payload.get("entry")
    if not isinstance(entries, list):
        return {"entry": "must be a list"}
    for e, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("changes", []), list):
            return {f"entry[{e}].changes": "must be a list"}
        for c, change in enumerate(entry.get("changes", [])):
            where = f"entry[{e}].changes[{c}]"
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                return {f"{where}.value": "must be an object"}
            for key, required in (("messages", ("id", "from")), ("statuses", ("id", "status"))):
                items = value.get(key, [])
                if not isinstance(items, list):
                    return {f"{where}.value.{key}": "must be a list"}
                for i, item in enumerate(items):
                    for name in required:
                        if not isinstance(item, dict) or not isinstance(item.get(name), str):
                            return {f"{where}.value.{key}[{i}].{name}": "must be a string"}
    return {}


def event_type(payload: dict) -> str:
    """What an event holds, for the events page: "messages", "statuses" or both."""
    kinds = {
        key
        for value in change_values(payload)
        for key in ("messages", "statuses", "errors")
        if value.get(key)
    }
    return ",".join(sorted(kinds)) or "other"


def change_values(payload: dict) -> Iterator[dict]:
    """Every ``entry[].changes[].value`` of a payload that passed :func:`shape_problems`."""
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            yield change["value"]


def profile_names(value: dict) -> dict[str, str]:
    """``wa_id`` → the WhatsApp profile name the customer chose."""
    names = {}
    for contact in value.get("contacts") or []:
        if isinstance(contact, dict) and contact.get("wa_id"):
            name = (contact.get("profile") or {}).get("name")
            if name:
                names[str(contact["wa_id"])] = str(name)
    return names


@dataclass
class ParsedMessage:
    """A customer message as the inbox shows it: text, files to fetch, the rest."""

    content: str
    attachments: list[dict] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


def parse_message(message: dict) -> ParsedMessage:
    """The inbox's view of one customer message of any type."""
    kind = str(message.get("type") or "unknown")
    part = message.get(kind) if isinstance(message.get(kind), dict) else {}
    metadata: dict = {"whatsapp_type": kind}
    if isinstance(message.get("context"), dict):
        metadata["context"] = message["context"]
    reader = _READERS.get(kind)
    if reader is None:
        metadata["raw_message"] = message
        return ParsedMessage(f"Unsupported message (type {kind})", metadata=metadata)
    parsed = reader(message, part)
    parsed.metadata = {**metadata, **parsed.metadata}
    return parsed


def _text(message: dict, part: dict) -> ParsedMessage:
    return ParsedMessage(str(part.get("body") or ""))


def _media(message: dict, part: dict) -> ParsedMessage:
    kind = message["type"]
    label = "Voice message" if kind == "audio" and part.get("voice") else MEDIA_LABELS[kind]
    caption = part.get("caption")
    filename = part.get("filename")
    attachment = {
        "media_id": str(part.get("id") or ""),
        "kind": kind,
        "mime_type": part.get("mime_type"),
        "filename": filename,
        "sha256": part.get("sha256"),
        "caption": caption,
        "status": "pending",
    }
    if kind == "document" and filename:
        label = f"{label}: {filename}"
    content = f"[{label}] {caption}" if caption else f"[{label}]"
    return ParsedMessage(content, [attachment])


def _location(message: dict, part: dict) -> ParsedMessage:
    where = ", ".join(str(part[k]) for k in ("name", "address") if part.get(k))
    coordinates = f"{part.get('latitude')}, {part.get('longitude')}"
    content = f"Location: {where} ({coordinates})" if where else f"Location: {coordinates}"
    return ParsedMessage(content, metadata={"location": part})


def _contacts(message: dict, part: dict) -> ParsedMessage:
    shared = message.get("contacts") or []
    described = []
    for card in shared:
        name = (card.get("name") or {}).get("formatted_name") or "Unnamed"
        phones = ", ".join(p.get("phone", "") for p in card.get("phones") or [] if p.get("phone"))
        described.append(f"{name} ({phones})" if phones else name)
    return ParsedMessage(
        "Shared contact: " + "; ".join(described) if described else "Shared contact",
        metadata={"shared_contacts": shared},
    )


def _interactive(message: dict, part: dict) -> ParsedMessage:
    reply_type = str(part.get("type") or "")
    reply = part.get(reply_type) if isinstance(part.get(reply_type), dict) else {}
    if not reply:
        return ParsedMessage(
            f"Unsupported message (type interactive/{reply_type or 'unknown'})",
            metadata={"raw_message": message},
        )
    return ParsedMessage(
        str(reply.get("title") or reply.get("id") or ""),
        metadata={"reply_type": reply_type, "reply_id": reply.get("id"), "reply": reply},
    )


def _button(message: dict, part: dict) -> ParsedMessage:
    # The quick-reply button of a template we sent.
    return ParsedMessage(
        str(part.get("text") or part.get("payload") or ""),
        metadata={"button_payload": part.get("payload")},
    )


def _reaction(message: dict, part: dict) -> ParsedMessage:
    emoji = part.get("emoji")
    content = f"Reacted {emoji} to a message" if emoji else "Removed a reaction"
    return ParsedMessage(
        content, metadata={"reaction": {"message_id": part.get("message_id"), "emoji": emoji}}
    )


_READERS = {
    "text": _text,
    "image": _media,
    "video": _media,
    "audio": _media,
    "document": _media,
    "sticker": _media,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
}
