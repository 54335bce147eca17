"""Merging duplicates: two conversations of one customer, and two contacts.

Who may merge what:

- **Conversations** (:mod:`.conversations`): desk staff (agents and up) who may
  open both (``app.conversations.inbox.access``); both must be the same customer's, and the
  kept one not closed. The conversation's owner does the writing
  (``app.conversations.core.merge_threads``). Final: there is no undo, as replies
  and notes may land in the kept conversation at once.
- **Contacts** (:mod:`.contacts`): desk staff (agents and up). Agents and team
  leads only when they may open every conversation of both contacts (a merge
  moves them all, and another team's customer is not theirs to rearrange);
  managers and admins always. Erased contacts (GDPR) are never merged.
  Undoable for :data:`.contacts.UNDO_WINDOW` by anyone who may merge the two.
"""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.conversations.merges.routes:bp",))
