"""Visit notices say the visit in words: "ingepland op 01-12-2026 tussen 08:00 en 12:00"

The planned and moved templates (0047) wrote "op {{visit_date}}, tussen {{visit_time}}":
from the composer or the phone's quick replies ``visit_time`` is the intake's own
text, so customers read "tussen hele dag beschikbaar" or "tussen middag (12:00-17:00)",
and a plan without hours read "tussen ." in a notice. ``{{visit_moment}}`` words the
day and window ("op 01-12-2026 tussen 08:00 en 12:00", "morgen (…), de hele dag").
Only texts still as 0047 wrote them change: an admin's own wording stays.

Revision ID: 0060_visit_moment
Revises: 0059_suggestions
Create Date: 2026-11-26 02:20:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0060_visit_moment"
down_revision = "0059_suggestions"
branch_labels = None
depends_on = None

_GREETING = "Beste {{customer_name}},\n\n"
_CLOSING = (
    " Past dit niet? Laat het ons weten door op dit bericht te antwoorden.\n\n"
    "Met vriendelijke groet,\nChargeCars"
)
# name: (0047's text, this revision's text)
TEXTS = {
    "visit_planned": (
        _GREETING + "De installatie van uw laadpaal (order {{order_id}}) is ingepland op "
        "{{visit_date}}, tussen {{visit_time}}." + _CLOSING,
        _GREETING + "De installatie van uw laadpaal (order {{order_id}}) is ingepland "
        "{{visit_moment}}." + _CLOSING,
    ),
    "visit_moved": (
        _GREETING + "De afspraak voor de installatie van uw laadpaal (order {{order_id}}) is "
        "verplaatst naar {{visit_date}}, tussen {{visit_time}}." + _CLOSING,
        _GREETING + "De afspraak voor de installatie van uw laadpaal (order {{order_id}}) is "
        "verplaatst. De monteur komt nu {{visit_moment}}." + _CLOSING,
    ),
}
OLD_VARIABLES = ["order_id", "customer_name", "visit_date", "visit_time"]
NEW_VARIABLES = ["order_id", "customer_name", "visit_moment"]

templates = sa.table(
    "communication_template",
    sa.column("template_name", sa.String()),
    sa.column("message_template", sa.Text()),
    sa.column("variables", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def _swap(old_index: int, new_index: int, variables: list[str]) -> None:
    connection = op.get_bind()
    for name, texts in TEXTS.items():
        connection.execute(
            sa.update(templates)
            .where(
                templates.c.template_name == name,
                templates.c.message_template == texts[old_index],
            )
            .values(message_template=texts[new_index], variables=variables)
        )


def upgrade():
    _swap(0, 1, NEW_VARIABLES)


def downgrade():
    _swap(1, 0, OLD_VARIABLES)
