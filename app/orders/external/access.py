"""Who may send through ``/api/v1/external``, and into which conversations.

Writing to customers is desk work: agents, team leads, managers and admins (the
routes check the role). A send to a customer who already has an open
conversation on that channel is added to that conversation, so it follows the
inbox's rule (:mod:`app.conversations.inbox.access`): the caller must be able to open it.
Checked before anything is written, so a refused send leaves no contact, thread
or message behind and nothing reaches the provider.
"""

from __future__ import annotations

from app.conversations.core import thread_a_send_would_join
from app.conversations.inbox.access import can_access_thread
from app.platform.models import User
from app.platform.models.enums import ChannelType


class SendRefused(PermissionError):
    """The send would land in a conversation the sender may not open."""


def check_send_target(sender: User, kind: str, address: str, channel_type: ChannelType) -> None:
    """Raise :class:`SendRefused` if ``address``'s open thread is not ``sender``'s to see."""
    thread = thread_a_send_would_join(kind, address, channel_type)
    if thread is not None and not can_access_thread(sender, thread):
        raise SendRefused(
            "This customer's conversation belongs to another team; you cannot send into it."
        )
