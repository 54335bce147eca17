"""Migration 0057: what the app seeded in English is renamed in Dutch, edits left alone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from app.platform.extensions import db
from app.platform.models import BusinessCalendar, CommunicationTemplate, SlaPolicy
from app.platform.models.enums import TemplateCategory, TemplateChannelType

SEEDED = "The day before the visit: date, time, technician and how to prepare."


def _before_0057() -> str:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision("0057_dutch_names").down_revision


def _template(name: str, description: str) -> CommunicationTemplate:
    return CommunicationTemplate(
        template_name=name,
        display_name=name,
        description=description,
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        channel_type=TemplateChannelType.ANY,
        message_template="Hallo {{customer_name}}",
    )


def _names() -> tuple[set[str], set[str], dict[str, str]]:
    db.session.expire_all()
    names = (
        set(db.session.scalars(sa.select(SlaPolicy.name))),
        set(db.session.scalars(sa.select(BusinessCalendar.name))),
        dict(
            db.session.execute(
                sa.select(CommunicationTemplate.template_name, CommunicationTemplate.description)
            ).all()
        ),
    )
    # The read's transaction ends here: a migration after it drops tables that refer
    # to these (the suggestions' own, on communication_template), which would wait on
    # this session's locks for ever.
    db.session.rollback()
    return names


def test_0057_renames_the_seeded_english_and_leaves_edits_alone(app):
    db.session.rollback()  # the fixtures' reads hold locks a downgrade would wait on
    downgrade(revision=_before_0057())
    try:
        db.session.add_all(
            [
                SlaPolicy(
                    name="Internal task, critical",
                    channel_type="internal_task",
                    priority="critical",
                    response_minutes=30,
                ),
                SlaPolicy(name="Escalated", escalated=True, response_minutes=30),
                SlaPolicy(name="Weekend", response_minutes=600),  # an admin's own
                BusinessCalendar(name="Office hours (NL)", is_default=True),
                _template("visit_reminder", SEEDED),
                _template("technician_eta", "Edited: on the way."),  # an admin's edit
            ]
        )
        db.session.commit()
        # This migration's own work, before later ones add templates of their own.
        upgrade(revision="0057_dutch_names")
        policies, calendars, descriptions = _names()
    finally:
        upgrade()
    assert policies == {"Interne taak, kritiek", "Geëscaleerd", "Weekend"}
    assert calendars == {"Kantooruren (NL)"}
    assert descriptions == {
        "visit_reminder": "De dag voor het bezoek: datum, tijd, monteur en hoe de klant zich "
        "voorbereidt.",
        "technician_eta": "Edited: on the way.",
    }

    downgrade(revision=_before_0057())
    try:
        policies, calendars, descriptions = _names()
        assert policies == {"Internal task, critical", "Escalated", "Weekend"}
        assert calendars == {"Office hours (NL)"}
        assert descriptions["visit_reminder"] == SEEDED
    finally:
        upgrade()
