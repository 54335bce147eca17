"""GDPR tools for admins: export everything stored about a contact, and erase it.

See :mod:`app.gdpr.export`, :mod:`app.gdpr.erasure` (with the conversation
owner's part in :mod:`app.conversations.erasure`) and
docs/security.md, "Privacy (GDPR)".
"""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.gdpr.routes:bp",))
