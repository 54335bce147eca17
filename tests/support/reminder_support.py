"""Shared by the reminder tests: our mirror of Meta's approved ``visit_reminder``."""

from __future__ import annotations

from app.platform.extensions import db
from app.platform.models.enums import TemplateCategory, TemplateChannelType
from tests.support import factories


def add_reminder_template() -> None:
    """The template as migration 0082 adds it (the suite empties the tables between
    tests, so each test that sends reminders adds it again)."""
    factories.template(
        "Hoi {{customer_name}}, een herinnering aan de installatie van uw laadpaal. "
        "Wanneer: {{visit_moment}}. Monteur: {{technician_name}}. Tik op Bevestigen als "
        "het past, of op Verzetten. Uw afspraak bekijken: {{customer_link}} Groet, ChargeCars",
        template_name="visit_reminder_whatsapp",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        whatsapp_template_name="visit_reminder",
        language="nl",
    )
    db.session.commit()
