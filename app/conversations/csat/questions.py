"""The rating question as the customer gets it: a WhatsApp list, or an e-mail with a link.

Written in the customer's language (the one they write in, else their
contact's locale; Dutch unless that is English). WhatsApp allows at most three
reply buttons, so the five ratings go out as an interactive *list* (one section
of five rows, each row's id ``csat:<survey id>:<rating>``),
which :mod:`app.conversations.csat.answers` reads back.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from app.conversations.core import channel_of_type, post_outbound
from app.conversations.csat.tokens import rating_url
from app.conversations.languages import customer_language as answering_language
from app.platform.models import CommunicationMessage, CommunicationThread, Contact, CsatResponse
from app.platform.models.enums import ChannelType, MessageType

LANGUAGES = ("nl", "en")
REPLY_PREFIX = "csat"
WHATSAPP, EMAIL = "whatsapp", "email"


def customer_language(contact: Contact) -> str:
    """The customer's language (app/conversations/languages) if the question exists in it, else
    Dutch."""
    language = answering_language(contact)
    return language if language in LANGUAGES else "nl"


def rating_labels() -> dict[int, str]:
    """Each rating's words (WhatsApp row titles are at most 24 characters)."""
    return {
        1: _("1 – Very dissatisfied"),
        2: _("2 – Dissatisfied"),
        3: _("3 – Neutral"),
        4: _("4 – Satisfied"),
        5: _("5 – Very satisfied"),
    }


def reply_id(response: CsatResponse, rating: int) -> str:
    return f"{REPLY_PREFIX}:{response.id}:{rating}"


def rating_list(response: CsatResponse, body: str) -> dict:
    """Meta's ``interactive`` object of a list message with the five ratings."""
    return {
        "type": "list",
        "body": {"text": body},
        "action": {
            "button": _("Give a rating"),
            "sections": [
                {
                    "title": _("Your rating"),
                    "rows": [
                        {"id": reply_id(response, rating), "title": title}
                        for rating, title in rating_labels().items()
                    ],
                }
            ],
        },
    }


def post_question(
    thread: CommunicationThread, contact: Contact, response: CsatResponse
) -> CommunicationMessage:
    """Write the question into the conversation; the send job delivers it after the commit."""
    with force_locale(response.language):
        if response.ask_channel == WHATSAPP:
            body = _(
                "Thank you for contacting us. How satisfied are you with our help? "
                "Choose a rating from 1 to 5."
            )
            return post_outbound(
                thread,
                channel_id=thread.channel_id,
                body=body,
                recipient={"phone": contact.phone, "name": contact.display_name},
                message_type=MessageType.AUTO_RESPONSE,
                automation="csat",
                extra={"interactive": rating_list(response, body), "csat": str(response.id)},
            )
        url = rating_url(response.id)
        subject = _("How satisfied are you with our help?")
        thanks = _("Thank you for contacting us. We would like to know how we did.")
        link = _("Give us a rating from 1 to 5 here (it takes a few seconds): %(url)s", url=url)
        text = f"{thanks}\n\n{link}"
        # Built here, not from a template: a worker has no request to render one in.
        html = Markup(
            '<p>{thanks}</p><p>{question}</p><p><a href="{url}">{action}</a></p><p>{note}</p>'
        ).format(
            thanks=thanks,
            question=subject,
            url=url,
            action=_("Give a rating"),
            note=_("It takes a few seconds; you can add a comment if you like."),
        )
    email = channel_of_type(ChannelType.EMAIL_OUTLOOK)
    return post_outbound(
        thread,
        channel_id=email.id,
        body=text,
        html=str(html),
        subject=subject,
        recipient={"email": contact.email, "name": contact.display_name},
        message_type=MessageType.AUTO_RESPONSE,
        automation="csat",
        extra={"csat": str(response.id)},
    )
