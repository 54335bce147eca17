"""The Outlook channel's hand-off: a stored mail to an order mailbox becomes a job."""

from __future__ import annotations

from app.email_intake.mailbox import graph_recipients, partner_for_recipients
from app.jobs.queues import enqueue
from app.models import CommunicationMessage
from app.transactions import after_commit


def hand_over_order_email(message: CommunicationMessage, graph_message: dict) -> bool:
    """Queue :func:`app.email_intake.jobs.process_order_email` for a partner's order mail.

    Called in the Outlook processor's transaction right after the message is
    stored. The recipients are kept on the message (Graph's resource is not
    stored), so the job can tell which partner the mail is for. The mail stays
    in its thread either way: a person may still want to answer it.
    """
    recipients = graph_recipients(graph_message)
    if partner_for_recipients(recipients) is None:
        return False
    message.recipient_external = {**(message.recipient_external or {}), "addresses": recipients}
    message_id = str(message.id)
    after_commit(lambda: enqueue("app.email_intake.jobs.process_order_email", message_id))
    return True
