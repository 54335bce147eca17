"""Suggested replies: the three likely answers to a customer's message.

- ``harvest``: the team's replies from conversations that ended well, made general
  (``placeholders``, ``dates``) and stored with the questions they answered.
- ``ranking``: PostgreSQL full text (Dutch/English Snowball stemming) over those
  and the templates, weighed by context and by what agents did before.
- ``compute``: the job that stores a message's sets when it arrives.
- ``offer``: what the composer shows, filled in as the thread is now.
- ``outcomes``: picks, and used / edited / ignored per answered message.
- ``listeners``: the conversation's events that set the above going.

The thread page's routes for it live with the page
(``app.conversations.workspace.web.suggestions``).
"""

from app.platform.features import Feature

FEATURE = Feature(listeners=("app.conversations.reply_suggestions.listeners",))
