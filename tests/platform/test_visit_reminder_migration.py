"""Migration 0082: the visit_reminders table and the WhatsApp template visit_reminder,
added where no template mirrors Meta's visit_reminder yet."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.platform.extensions import db
from app.platform.models import CommunicationTemplate
from app.platform.models.enums import TemplateCategory, TemplateChannelType

BEFORE = "0080_signatures_per_visit"


def _mirrors() -> list[tuple[str, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(
            CommunicationTemplate.template_name,
            CommunicationTemplate.channel_type,
            CommunicationTemplate.message_template,
        ).where(CommunicationTemplate.whatsapp_template_name == "visit_reminder")
    ).all()
    db.session.rollback()  # no lock left for the next migration step to wait on
    return [(name, channel.value, body) for name, channel, body in rows]


def test_0082_adds_the_whatsapp_reminder_template_once(app):
    db.session.rollback()
    downgrade(revision=BEFORE)
    upgrade()
    [(name, channel, body)] = _mirrors()
    assert (name, channel) == ("visit_reminder_whatsapp", "whatsapp_business")
    assert "{{visit_moment}}" in body and "Bevestigen" in body and "Verzetten" in body


def test_0082_leaves_a_deployments_own_mirror_alone(app):
    own = "Hoi {{customer_name}}, tot {{visit_moment}}!"
    db.session.rollback()
    downgrade(revision=BEFORE)
    try:
        db.session.add(
            CommunicationTemplate(
                template_name="herinnering_eigen",
                display_name="Herinnering (eigen)",
                template_category=TemplateCategory.INSTALLATION_SCHEDULING,
                channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
                message_template=own,
                whatsapp_template_name="visit_reminder",
                variables=["customer_name", "visit_moment"],
            )
        )
        db.session.commit()
    finally:
        upgrade()
    assert _mirrors() == [("herinnering_eigen", "whatsapp_business", own)]
