"""Partner orders that arrive by e-mail (Alva): parsed into drafts, created or reviewed."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=("app.orders.email_intake.routes:bp",),
    # Mail to a partner's order mailbox is read as an order too.
    listeners=("app.orders.email_intake.outlook",),
)
