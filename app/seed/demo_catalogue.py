"""The ChargeCars catalogue, partner SKU mappings, channels and message templates."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import (
    Article,
    CommunicationChannel,
    CommunicationTemplate,
    PartnerSkuMapping,
)
from app.platform.models.enums import (
    ArticleType,
    ChannelType,
    TemplateBusinessEntity,
    TemplateCategory,
    TemplateChannelType,
)
from app.seed.context import DemoContext

# sku, name, type, brand, price excl. VAT
ARTICLES = [
    ("ALF-EVE-S-11KW", "Alfen Eve Single Pro-line 11 kW", ArticleType.WALLBOX, "Alfen", "899.00"),
    (
        "ALF-EVE-D-22KW",
        "Alfen Eve Double Pro-line 2x11 kW",
        ArticleType.WALLBOX,
        "Alfen",
        "1749.00",
    ),
    ("MYE-ZAPPI-7KW", "myenergi zappi 7 kW (1-fase)", ArticleType.WALLBOX, "myenergi", "1095.00"),
    ("ZAP-GO-11KW", "Zaptec Go 11 kW", ArticleType.WALLBOX, "Zaptec", "849.00"),
    ("EAS-CHARGEUP-22KW", "Easee Charge Up 22 kW", ArticleType.WALLBOX, "Easee", "799.00"),
    (
        "INST-BASIC-1P",
        "Standaard installatie 1-fase (t/m 10 m kabel)",
        ArticleType.INSTALLATION,
        None,
        "549.00",
    ),
    (
        "INST-BASIC-3P",
        "Standaard installatie 3-fase (t/m 10 m kabel)",
        ArticleType.INSTALLATION,
        None,
        "749.00",
    ),
    ("ACC-LB-KIT", "Load balancing kit met P1-module", ArticleType.ACCESSORY, "Alfen", "249.00"),
    ("ACC-CABLE-M", "Extra kabel per meter (5x6 mm²)", ArticleType.ACCESSORY, None, "24.50"),
    ("ACC-STAND-POST", "Staander voor vrijstaande montage", ArticleType.ACCESSORY, None, "329.00"),
    (
        "SRV-MK-UPGRADE",
        "Meterkast uitbreiding (extra groep + aardlek)",
        ArticleType.SERVICE,
        None,
        "395.00",
    ),
    ("SRV-SERVICE-VISIT", "Servicebezoek / storingsdiagnose", ArticleType.SERVICE, None, "125.00"),
]

# A freestanding post is dug in and set by two technicians.
TWO_TO_INSTALL = {"ACC-STAND-POST": 2}

# Groendus's product mapping table first, then the other partners' codes.
SKU_MAPPINGS = [
    ("Groendus", "GRO-ALFEN-11", "ALF-EVE-S-11KW"),
    ("Groendus", "GRO-INSTALL-1", "INST-BASIC-1P"),
    ("Essent", "ESS-WALLBOX-22", "ALF-EVE-D-22KW"),
    ("50five", "50F-ZAPPI-7", "MYE-ZAPPI-7KW"),
    ("Groendus", "GRO-ZAPTEC-GO", "ZAP-GO-11KW"),
    ("Groendus", "GRO-INSTALL-3", "INST-BASIC-3P"),
    ("Groendus", "GRO-KABEL-M", "ACC-CABLE-M"),
    ("Essent", "ESS-INSTALL-STD", "INST-BASIC-3P"),
    ("Eneco", "ENE-EASEE-22", "EAS-CHARGEUP-22KW"),
    ("Eneco", "ENE-INST-1F", "INST-BASIC-1P"),
    ("Eneco", "ENE-LB-P1", "ACC-LB-KIT"),
    ("50five", "50F-INSTALL", "INST-BASIC-1P"),
    ("Alva", "ALV-EVE-S", "ALF-EVE-S-11KW"),
    ("Alva", "ALV-INSTALL-3F", "INST-BASIC-3P"),
]

# Routing rules with the demo's teams (by slug) and people (by e-mail); see
# app/conversations/assignment/rules.py for the keys.
AUTO_ASSIGNMENT_RULES = {
    "enabled": True,
    "strategy": "least_loaded",
    "fallback_to_busy": True,
    "customer_support": {
        "default_assignee": "customer-service",
        "escalation_after_hours": 4,
        "escalation_to": "manager@switchboard.test",
    },
    "technical_issue": {
        "default_assignee": "tech",
        "skill_matching": True,
        "escalation_after_hours": 2,
        "escalation_to": "management",
    },
    "installation_coordination": {"default_assignee": "tech"},
    "sales_inquiry": {"default_assignee": "sales"},
    "complaint": {
        "default_assignee": "customer-service",
        "escalation_after_hours": 2,
        "escalation_to": "manager@switchboard.test",
    },
    "default": {"default_assignee": "customer-service"},
}
# The escalation ladder: reminder, team lead, manager, executive.
ESCALATION_RULES = {
    "first_reminder_pct": 75,
    "team_lead_pct": 90,
    "manager_pct": 100,
    "executive_after_hours": 24,
}

CHANNELS = [
    (
        ChannelType.EMAIL_OUTLOOK,
        "Outlook klantenservice",
        4,
        {
            "mailbox": "klantenservice@chargecars.nl",
            "sync_folders": ["Inbox", "Sent Items"],
            "auto_create_threads": True,
            # The mailbox's signature under every reply (app/conversations/signatures), after the
            # agent's.
            "signature": "ChargeCars B.V.\nklantenservice@chargecars.nl · www.chargecars.nl",
        },
    ),
    (
        ChannelType.WHATSAPP_BUSINESS,
        "WhatsApp Business",
        1,
        {
            "business_hours": "08:00-17:00",
            "auto_responses": True,
            "out_of_hours_template": "out_of_hours_auto_response",
        },
    ),
    (ChannelType.SMS, "SMS", 4, {"sender_name": "ChargeCars"}),
    (ChannelType.INTERNAL_COMMENT, "Interne notities", None, {}),
    (ChannelType.INTERNAL_TASK, "Interne taken", 24, {}),
    # Logged calls: never sent through, so no SLA hours or settings.
    (ChannelType.PHONE_CALL, "Telefoon", None, {}),
]

_EMAIL, _WHATSAPP, _SMS, _ANY = (
    TemplateChannelType.EMAIL_OUTLOOK,
    TemplateChannelType.WHATSAPP_BUSINESS,
    TemplateChannelType.SMS,
    TemplateChannelType.ANY,
)
# Agent-facing e-mail templates end with their text: the composer adds the agent's
# and the mailbox's signatures (app/conversations/signatures), which carry the sign-off.

# name, category, channel, WhatsApp template name, subject, body
TEMPLATES = [
    (
        "order_status_update",
        TemplateCategory.CUSTOMER_SERVICE,
        _WHATSAPP,
        "order_status_update",
        None,
        # Meta's approved template takes two body parameters: order number and status.
        "De status van uw bestelling {{order_id}} is gewijzigd naar: {{order_status}}. "
        "Heeft u vragen? Reageer gerust op dit bericht. Groet, ChargeCars",
    ),
    (
        "order_confirmation",
        TemplateCategory.CUSTOMER_SERVICE,
        _EMAIL,
        None,
        "Orderbevestiging {{order_id}}",
        "Beste {{customer_name}},\n\nBedankt voor uw bestelling bij ChargeCars. Hierbij bevestigen "
        "wij order {{order_id}} met een totaalbedrag van {{order_total}} (excl. btw).\n\n"
        "Bestelde artikelen:\n{{articles}}\n\n"
        "De geplande installatiedatum is {{installation_date}}. "
        "Uw vaste aanspreekpunt is {{team_contact}}.",
    ),
    (
        "installation_scheduling",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _EMAIL,
        None,
        "Planning installatie laadpaal – {{order_id}}",
        "Beste {{customer_name}},\n\nGoed nieuws: we kunnen uw laadpaal installeren op "
        "{{installation_date}} in de {{time_window}}. Onze monteur {{technician_name}} neemt op de "
        "dag zelf contact met u op als hij onderweg is.\n\nKomt deze datum niet uit? Antwoord dan "
        "op deze e-mail, dan zoeken we samen een ander moment.",
    ),
    (
        "visit_reminder",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _EMAIL,
        None,
        "Herinnering: installatie van uw laadpaal",
        # {{visit_moment}} reads "vandaag tussen 12:00 en 17:00" / "morgen (23-11-2026) …"
        # from the day it is sent, so the text never says "morgen" on the day itself.
        "Beste {{customer_name}},\n\nEen herinnering aan de installatie van uw laadpaal.\n"
        "Wanneer: {{visit_moment}}\nMonteur: {{technician_name}}, bereikbaar op "
        "{{technician_phone}}.\n\nTer voorbereiding: {{preparation_notes}}",
    ),
    (
        "visit_reminder_whatsapp",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _WHATSAPP,
        "visit_reminder",
        None,
        # Technicians send it from the phone on the day itself too: {{visit_moment}}.
        "Hoi {{customer_name}}, een herinnering aan de installatie van uw laadpaal. "
        "Wanneer: {{visit_moment}}. Monteur: {{technician_name}}. Zorgt u dat de meterkast "
        "vrij toegankelijk is? Groet, ChargeCars",
    ),
    (
        "visit_reminder_sms",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _SMS,
        None,
        None,
        "ChargeCars installeert uw laadpaal {{visit_moment}} (monteur {{technician_name}}). "
        "Past dit niet? Bel 030-2001234.",
    ),
    # The technician's quick replies on the phone (migration 0029 adds them to an
    # existing install with the same texts).
    (
        "technician_eta",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _ANY,
        None,
        None,
        "Hoi {{customer_name}}, ik ben onderweg naar u voor de installatie van uw laadpaal. "
        "Verwachte aankomst: {{eta}}. Groet, {{technician_name}} van ChargeCars",
    ),
    (
        "technician_running_late",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _ANY,
        None,
        None,
        "Hoi {{customer_name}}, ik ben ongeveer 15 minuten later dan gepland. Excuses voor "
        "het wachten! Groet, {{technician_name}} van ChargeCars",
    ),
    (
        "technician_at_the_door",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _ANY,
        None,
        None,
        "Hoi {{customer_name}}, ik sta voor de deur voor de installatie van uw laadpaal. "
        "Groet, {{technician_name}} van ChargeCars",
    ),
    (
        "complaint_response",
        TemplateCategory.COMPLAINT_RESPONSE,
        _EMAIL,
        None,
        "Uw klacht over order {{order_id}}",
        "Beste {{customer_name}},\n\nDank u wel voor uw bericht, en excuses dat het niet is gegaan "
        "zoals u van ons mag verwachten. We nemen uw klacht serieus: "
        "{{team_contact}} neemt uiterlijk "
        "{{response_date}} contact met u op om een oplossing te bespreken.",
    ),
    (
        "technical_support_follow_up",
        TemplateCategory.TECHNICAL_SUPPORT,
        _ANY,
        None,
        "Opvolging storing laadpaal – {{order_id}}",
        "Beste {{customer_name}},\n\nWe willen graag weten of uw {{charger_model}} weer naar "
        "behoren laadt na onze aanpassing van {{fix_date}}. Werkt alles? "
        "Dan sluiten we de melding.",
    ),
    (
        "quote_follow_up",
        TemplateCategory.SALES_INQUIRY,
        _EMAIL,
        None,
        "Uw offerte voor een laadpaal – {{quote_number}}",
        "Beste {{customer_name}},\n\nOnlangs stuurden we u een offerte voor een {{charger_model}}. "
        "Heeft u nog vragen over de installatie of de mogelijkheden voor load balancing? "
        "We denken graag met u mee.",
    ),
    (
        "order_completion_notification",
        TemplateCategory.FOLLOW_UP,
        _WHATSAPP,
        "order_completion_notification",
        None,
        "Beste {{customer_name}}, uw bestelling {{order_id}} is vandaag afgerond! Bedankt voor uw "
        "vertrouwen in ChargeCars. Het opleverrapport ontvangt u per e-mail.",
    ),
    (
        "out_of_hours_auto_response",
        TemplateCategory.AUTO_RESPONSE,
        _WHATSAPP,
        "out_of_hours",
        None,
        # {{next_opening}} is filled in by the auto-response ("morgen om 08:00").
        "Bedankt voor uw bericht! Onze klantenservice is nu gesloten en weer bereikbaar "
        "{{next_opening}}. We reageren dan zo snel mogelijk.",
    ),
    (
        "internal_escalation",
        TemplateCategory.INTERNAL_NOTIFICATION,
        TemplateChannelType.INTERNAL_COMMENT,
        None,
        None,
        "Let op: thread {{thread_subject}} ({{customer_name}}) is over de SLA. "
        "Graag vandaag oppakken, {{assignee_name}}.",
    ),
]

# What agents see of each template: a human name and when to use it, both in the Dutch
# team's own words (the names show on the technician's phone as quick replies too).
TEMPLATE_NAMES = {
    "order_status_update": (
        "Update orderstatus",
        "Meldt de klant dat de order een nieuwe status heeft. Goedgekeurd door WhatsApp, "
        "dus ook na het venster van 24 uur te versturen.",
    ),
    "order_confirmation": (
        "Orderbevestiging",
        "Bevestigt een nieuwe order per e-mail: totaalbedrag, bestelde artikelen en "
        "installatiedatum.",
    ),
    "installation_scheduling": (
        "Voorstel installatiedatum",
        "Stelt de installatiedatum en het tijdvak voor, met de naam van de monteur.",
    ),
    "visit_reminder": (
        "Herinnering bezoek (e-mail)",
        "De dag voor het bezoek: datum, tijd, monteur en hoe de klant zich voorbereidt.",
    ),
    "visit_reminder_whatsapp": (
        "Herinnering bezoek (WhatsApp)",
        "De dag voor het bezoek, via WhatsApp. Goedgekeurd sjabloon.",
    ),
    "visit_reminder_sms": (
        "Herinnering bezoek (sms)",
        "Korte herinnering aan het bezoek van morgen per sms.",
    ),
    "technician_eta": (
        "Ik ben onderweg",
        "Vanaf de telefoon van de monteur: onderweg, met de verwachte aankomsttijd die daar "
        "is gekozen.",
    ),
    "technician_running_late": (
        "Ik ben 15 minuten later",
        "Vanaf de telefoon van de monteur: ongeveer 15 minuten later.",
    ),
    "technician_at_the_door": (
        "Ik sta voor de deur",
        "Vanaf de telefoon van de monteur: staat voor de deur van de klant.",
    ),
    "complaint_response": (
        "Reactie op klacht",
        "Biedt excuses aan en zegt wie terugbelt, en wanneer.",
    ),
    "technical_support_follow_up": (
        "Opvolging storing",
        "Vraagt of de laadpaal weer werkt na een reparatie of een oplossing op afstand.",
    ),
    "quote_follow_up": (
        "Opvolging offerte",
        "Een paar dagen na een offerte: biedt hulp bij vragen over de installatie.",
    ),
    "order_completion_notification": (
        "Installatie afgerond",
        "Bedankt de klant als de installatie klaar is. Goedgekeurd WhatsApp-sjabloon.",
    ),
    "out_of_hours_auto_response": (
        "Automatisch antwoord buiten kantooruren",
        "Gaat automatisch uit buiten kantooruren, met het volgende openingstijdstip.",
    ),
    "internal_escalation": (
        "SLA-escalatie (intern)",
        "Interne notitie die de toegewezen medewerker vraagt een gesprek over de SLA op te "
        "pakken.",
    ),
}

_PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")


def placeholders(*texts: str | None) -> list[str]:
    """The ``{{names}}`` used in the texts, each once, in order of appearance."""
    found: list[str] = []
    for text in texts:
        for name in _PLACEHOLDER.findall(text or ""):
            if name not in found:
                found.append(name)
    return found


def build_catalogue(ctx: DemoContext) -> None:
    """Articles and partner SKU mappings (partners must exist already)."""
    for sku, name, article_type, brand, price in ARTICLES:
        ctx.articles[sku] = Article(
            id=uuid.uuid4(),
            sku=sku,
            name=name,
            article_type=article_type,
            brand=brand,
            unit_price=Decimal(price),
            vat_rate=Decimal("21"),
            description=f"{name}, geleverd en geïnstalleerd door ChargeCars.",
            crew_size=TWO_TO_INSTALL.get(sku, 1),
        )
    db.session.add_all(ctx.articles.values())
    db.session.flush()
    mappings = []
    for partner_name, partner_sku, sku in SKU_MAPPINGS:
        article = ctx.articles[sku]
        partner = ctx.partners[partner_name]
        ctx.sku_map[(partner_name, partner_sku)] = article
        mappings.append(
            PartnerSkuMapping(
                partner_organization_id=partner.organization.id,
                partner_sku=partner_sku,
                article_id=article.id,
                description=article.name,
            )
        )
    db.session.add_all(mappings)


def build_channels_and_templates(ctx: DemoContext) -> None:
    """The five channels of the demo and the Dutch message templates."""
    for channel_type, name, sla_hours, configuration in CHANNELS:
        customer_facing = channel_type in (ChannelType.EMAIL_OUTLOOK, ChannelType.WHATSAPP_BUSINESS)
        ctx.channels[channel_type] = CommunicationChannel(
            id=uuid.uuid4(),
            channel_type=channel_type,
            channel_name=name,
            response_sla_hours=sla_hours,
            configuration=configuration,
            auto_assignment_rules=AUTO_ASSIGNMENT_RULES if customer_facing else {},
            escalation_rules=ESCALATION_RULES if customer_facing else {},
        )
    # Migration 0029 adds the technician's quick replies to every database.
    existing = set(db.session.scalars(sa.select(CommunicationTemplate.template_name)))
    for name, category, channel_type, wa_name, subject, body in TEMPLATES:
        if name in existing:
            continue
        display_name, description = TEMPLATE_NAMES[name]
        ctx.templates[name] = CommunicationTemplate(
            id=uuid.uuid4(),
            template_name=name,
            display_name=display_name,
            description=description,
            template_category=category,
            channel_type=channel_type,
            subject_template=subject,
            message_template=body,
            variables=placeholders(subject, body),
            whatsapp_template_name=wa_name,
            business_entity=TemplateBusinessEntity.CHARGECARS,
            language="nl",
            usage_count=ctx.rng.randint(3, 240),
        )
    db.session.add_all([*ctx.channels.values(), *ctx.templates.values()])
    db.session.flush()
