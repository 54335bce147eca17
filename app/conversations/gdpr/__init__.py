"""GDPR tools for admins: export everything stored about a contact, and erase it.

See :mod:`app.conversations.gdpr.export`, :mod:`app.conversations.gdpr.erasure` (with the
conversation
owner's part in :mod:`app.conversations.core.erasure`) and
docs/security.md, "Privacy (GDPR)".
"""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.conversations.gdpr.routes:bp",))
