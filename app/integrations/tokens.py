"""The job path ``app.integrations.tokens.refresh_expiring_tokens`` from before the
integration hub's groups: a periodic run queued under that name still runs.
The periodic job now names ``app.integrations.oauth.refresh_expiring_tokens``.
Delete this module once no queue holds a job of that name (a release later).
"""

from app.integrations.oauth import refresh_expiring_tokens

__all__ = ["refresh_expiring_tokens"]
