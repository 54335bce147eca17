"""Who else has a conversation open, and who is typing in it.

Browsers join a conversation's Socket.IO room only after the access check
(:mod:`app.conversations.inbox.access`); who is there is kept in Redis with an expiry
(:mod:`app.conversations.presence.board`), so every web process sees the same people and a
closed tab or a killed process leaves no avatar behind for long. Also the
colleagues an internal note can @mention (the picker's list).
"""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=("app.conversations.presence.routes:bp",),
    # Socket.IO handlers go on each app's own server, once it exists.
    init_app="app.conversations.presence.socket:init_app",
)
