"""Answers to our interactive WhatsApp messages that another feature takes itself.

A feature that sends an interactive list or buttons (the satisfaction survey,
say) gives its choices ids starting with a prefix of its own and registers a
handler for that prefix here, from its ``init_app``. When a customer's reply
carries such an id, :func:`take_reply` hands it to that handler inside the
webhook job's transaction; a handler that took it returns True and the reply is
not stored as a new customer message (it would reopen a resolved conversation).
A reply no handler takes is stored as any other message: nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

EXTENSION = "whatsapp_reply_handlers"
SEPARATOR = ":"


@dataclass(frozen=True)
class InteractiveReply:
    """A customer's choice in one of our interactive messages."""

    reply_id: str
    title: str
    wa_id: str
    external_message_id: str


ReplyHandler = Callable[[InteractiveReply], bool]


def register_reply_handler(app: Flask, prefix: str, handler: ReplyHandler) -> None:
    """Send replies whose id starts with ``prefix:`` to ``handler``."""
    app.extensions.setdefault(EXTENSION, {})[prefix] = handler


def take_reply(reply: InteractiveReply) -> bool:
    """Give ``reply`` to the handler of its prefix; True when one took it."""
    prefix, separator, _ = reply.reply_id.partition(SEPARATOR)
    handler = current_app.extensions.get(EXTENSION, {}).get(prefix) if separator else None
    return bool(handler and handler(reply))
