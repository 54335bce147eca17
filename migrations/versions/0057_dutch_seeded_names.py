"""Names and descriptions the app seeded in English, in the Dutch desk's words

The default SLA policies and business calendar (stored by the service-levels page
the first time it opens) and the descriptions of the seeded message templates
(the technician's quick replies of migration 0029, the demo's templates) were
stored in English, while the templates' names were Dutch. Rows an admin has
edited since are left alone: only a value still exactly as seeded changes.

Revision ID: 0057_dutch_names
Revises: 0056_language
Create Date: 2026-11-25 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0057_dutch_names"
down_revision = "0056_language"
branch_labels = None
depends_on = None

# English as seeded -> Dutch, copied here: a migration must not change when the app does.
POLICY_NAMES = {
    "Escalated": "Geëscaleerd",
    "Internal task, critical": "Interne taak, kritiek",
    "Internal task, urgent": "Interne taak, urgent",
    "Internal task, high": "Interne taak, hoog",
    "Internal task, normal": "Interne taak, normaal",
    "Internal task, low": "Interne taak, laag",
}
CALENDAR_NAMES = {"Office hours (NL)": "Kantooruren (NL)"}
TEMPLATE_DESCRIPTIONS = {
    "order_status_update": (
        "Tells the customer their order moved to a new status. Approved by WhatsApp, "
        "so it can be sent after the 24-hour window.",
        "Meldt de klant dat de order een nieuwe status heeft. Goedgekeurd door WhatsApp, "
        "dus ook na het venster van 24 uur te versturen.",
    ),
    "order_confirmation": (
        "Confirms a new order by e-mail: total, ordered items and the installation date.",
        "Bevestigt een nieuwe order per e-mail: totaalbedrag, bestelde artikelen en "
        "installatiedatum.",
    ),
    "installation_scheduling": (
        "Proposes the installation date and time window, with the technician's name.",
        "Stelt de installatiedatum en het tijdvak voor, met de naam van de monteur.",
    ),
    "visit_reminder": (
        "The day before the visit: date, time, technician and how to prepare.",
        "De dag voor het bezoek: datum, tijd, monteur en hoe de klant zich voorbereidt.",
    ),
    "visit_reminder_whatsapp": (
        "The day before the visit, on WhatsApp. Approved template.",
        "De dag voor het bezoek, via WhatsApp. Goedgekeurd sjabloon.",
    ),
    "visit_reminder_sms": (
        "Short reminder of tomorrow's visit by text message.",
        "Korte herinnering aan het bezoek van morgen per sms.",
    ),
    "technician_eta": (
        "From the technician's phone: on the way, with the expected arrival picked there.",
        "Vanaf de telefoon van de monteur: onderweg, met de verwachte aankomsttijd die daar "
        "is gekozen.",
    ),
    "technician_running_late": (
        "From the technician's phone: running about 15 minutes late.",
        "Vanaf de telefoon van de monteur: ongeveer 15 minuten later.",
    ),
    "technician_at_the_door": (
        "From the technician's phone: at the customer's door.",
        "Vanaf de telefoon van de monteur: staat voor de deur van de klant.",
    ),
    "complaint_response": (
        "Apologises and says who will call back, and by when.",
        "Biedt excuses aan en zegt wie terugbelt, en wanneer.",
    ),
    "technical_support_follow_up": (
        "Asks whether the charger works again after a repair or remote fix.",
        "Vraagt of de laadpaal weer werkt na een reparatie of een oplossing op afstand.",
    ),
    "quote_follow_up": (
        "A few days after a quote: offers help with questions about the installation.",
        "Een paar dagen na een offerte: biedt hulp bij vragen over de installatie.",
    ),
    "order_completion_notification": (
        "Thanks the customer once the installation is done. Approved WhatsApp template.",
        "Bedankt de klant als de installatie klaar is. Goedgekeurd WhatsApp-sjabloon.",
    ),
    "out_of_hours_auto_response": (
        "Sent automatically outside office hours with the next opening time.",
        "Gaat automatisch uit buiten kantooruren, met het volgende openingstijdstip.",
    ),
    "internal_escalation": (
        "Internal note asking the assignee to pick up a conversation past its SLA.",
        "Interne notitie die de toegewezen medewerker vraagt een gesprek over de SLA op te "
        "pakken.",
    ),
}


def _rename(table: str, column: str, names: dict[str, str]) -> None:
    statement = sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old")  # noqa: S608
    for old, new in names.items():
        op.get_bind().execute(statement, {"old": old, "new": new})


def _describe(forward: bool) -> None:
    statement = sa.text(
        "UPDATE communication_template SET description = :new "
        "WHERE template_name = :name AND description = :old"
    )
    for name, (english, dutch) in TEMPLATE_DESCRIPTIONS.items():
        old, new = (english, dutch) if forward else (dutch, english)
        op.get_bind().execute(statement, {"name": name, "old": old, "new": new})


def upgrade():
    _rename("sla_policies", "name", POLICY_NAMES)
    _rename("business_calendars", "name", CALENDAR_NAMES)
    _describe(forward=True)


def downgrade():
    _rename("sla_policies", "name", {new: old for old, new in POLICY_NAMES.items()})
    _rename("business_calendars", "name", {new: old for old, new in CALENDAR_NAMES.items()})
    _describe(forward=False)
