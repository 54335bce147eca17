"""Migration 0081: the planned, moved and cancelled templates end with the customer's
link, except one standing for an approved WhatsApp template; a downgrade takes it out."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.platform.extensions import db
from app.platform.models import CommunicationTemplate
from app.platform.models.enums import TemplateCategory, TemplateChannelType

PLANNED = "Beste {{customer_name}}, uw laadpaal (order {{order_id}}) is ingepland {{visit_moment}}."
LINK_LINE = "\n\nUw afspraak bekijken: {{customer_link}}"


def _template(name: str, whatsapp_name: str | None = None) -> CommunicationTemplate:
    return CommunicationTemplate(
        template_name=name,
        display_name=name,
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        channel_type=TemplateChannelType.ANY,
        message_template=PLANNED,
        variables=["order_id", "customer_name", "visit_moment"],
        whatsapp_template_name=whatsapp_name,
    )


def _bodies() -> dict[str, tuple[str, list]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(
            CommunicationTemplate.template_name,
            CommunicationTemplate.message_template,
            CommunicationTemplate.variables,
        )
    ).all()
    db.session.rollback()  # no lock left for the next migration step to wait on
    return {name: (body, variables) for name, body, variables in rows}


def test_0081_adds_the_link_to_the_visit_notices_not_to_approved_whatsapp_ones(app):
    db.session.rollback()
    downgrade(revision="0080_signatures_per_visit")
    try:
        db.session.add_all(
            [
                _template("visit_planned"),
                _template("visit_moved", whatsapp_name="visit_moved"),
                _template("quote_follow_up"),
            ]
        )
        db.session.commit()
    finally:
        upgrade()
    bodies = _bodies()
    assert bodies["visit_planned"] == (
        PLANNED + LINK_LINE,
        ["order_id", "customer_name", "visit_moment", "customer_link"],
    )
    assert bodies["visit_moved"][0] == PLANNED  # Meta's approved text has no such parameter
    assert bodies["quote_follow_up"][0] == PLANNED

    downgrade(revision="0080_signatures_per_visit")
    try:
        assert _bodies()["visit_planned"] == (
            PLANNED,
            ["order_id", "customer_name", "visit_moment"],
        )
    finally:
        upgrade()
