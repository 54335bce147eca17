"""Harvesting the team's replies for suggestions: every date becomes the visit's
placeholder or the reply is left out, sign-offs go, and only conversations that ended well
are learned from."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.conversations.reply_suggestions.dates import has_moment
from app.conversations.reply_suggestions.harvest import harvest_conversation
from app.conversations.reply_suggestions.placeholders import (
    ReplyContext,
    generalise,
    strip_sign_off,
    title_of,
)
from app.platform.extensions import db
from app.platform.models import CsatResponse, HarvestedReply
from app.platform.transactions import commit
from tests.support import suggestion_support as support

# The visit is on Thursday 26 November 2026, 08:00–12:00; the reply went out on Monday 23rd.
CONTEXT = ReplyContext(
    sent_on=date(2026, 11, 23),
    customer_name="Jan Jansen",
    customer_first_name="Jan",
    customer_last_name="Jansen",
    customer_email="jan@example.nl",
    customer_phone_digits="31612345678",
    order_number="CC-2026-00042",
    order_total=Decimal("1849.00"),
    visit_date=date(2026, 11, 26),
    visit_start="08:00",
    visit_end="12:00",
    technician_name="Ruben Visser",
    agent_name="Fatima Yilmaz",
)


@pytest.mark.parametrize(
    ("sent", "harvested"),
    [
        # Numeric forms of the visit's date.
        ("De installatie staat op 26-11-2026.", "De installatie staat {{visit_moment}}."),
        ("Datum: 26/11/2026, monteur Ruben Visser.",
         "Datum: {{visit_date}}, monteur {{technician_name}}."),
        ("Installatie: 2026-11-26", "Installatie: {{visit_date}}"),
        ("Monteur komt 26-11 tussen 08:00-12:00", "Monteur komt {{visit_date}} {{visit_hours}}"),
        # Dutch and English long forms, with and without the weekday and the window.
        ("Beste Jan, uw laadpaal wordt op donderdag 26 november tussen 8:00 en 12:00 "
         "geïnstalleerd.",
         "Beste {{customer_first_name}}, uw laadpaal wordt {{visit_moment}} geïnstalleerd."),
        ("De monteur komt op 26 november.", "De monteur komt {{visit_moment}}."),
        ("We komen op do 26 nov. tussen 8 en 12 uur.", "We komen {{visit_moment}}."),
        ("Your installation is on Thursday 26 November between 8:00 and 12:00.",
         "Your installation is {{visit_moment}}."),
        ("See you on November 26th.", "See you {{visit_moment}}."),
        # A weekday alone, or a window alone, that is the visit's.
        ("De monteur komt donderdag tussen 8:00 en 12:00 uur.",
         "De monteur komt {{visit_moment}}."),
        ("Hij komt tussen 8:00 en 12:00.", "Hij komt {{visit_hours}}."),
        # Names, order number, total, e-mail, phone.
        ("Uw order CC-2026-00042 kost € 1.849,00; mail jan@example.nl of bel 06-12345678.",
         "Uw order {{order_id}} kost {{order_total}}; mail {{customer_email}} of bel "
         "{{customer_phone}}."),
        ("Bel gerust 030-2001234 of mail planning@chargecars.nl.",
         "Bel gerust 030-2001234 of mail planning@chargecars.nl."),
        ("Voor 2 en 3 fasen is de prijs anders; 3,7 kW is te weinig.",
         "Voor 2 en 3 fasen is de prijs anders; 3,7 kW is te weinig."),
    ],
)
def test_every_form_of_the_visit_date_becomes_a_placeholder(sent, harvested):
    assert generalise(sent, CONTEXT) == harvested



def test_an_amount_is_kept_only_as_the_order_total_or_a_catalogue_price():
    """"€ 245,00 teruggestort" was this customer's credit: offered to the next customer
    it would promise them money. A price-list amount anyone may be told."""
    catalogue = replace(CONTEXT, price_list=frozenset({Decimal("24.50"), Decimal("29.65")}))
    assert generalise("Elke extra meter kabel kost € 24,50 excl. btw.", catalogue) == (
        "Elke extra meter kabel kost € 24,50 excl. btw."
    )
    assert generalise("De creditnota van € 245,00 is verstuurd.", catalogue) is None
    assert generalise("Als tegemoetkoming krijgt u € 75 korting.", catalogue) is None
    assert generalise("Uw order kost € 1.849,00.", catalogue) == "Uw order kost {{order_total}}."


def test_a_partners_order_reference_makes_the_reply_unusable():
    """"Order GRO-337866 is bij ons bekend als …": one partner order's answer."""
    assert generalise("Order GRO-337866 is bij ons bekend als CC-2026-00042.", CONTEXT) is None
    assert generalise("Bel gerust 030-2001234.", CONTEXT) == "Bel gerust 030-2001234."

@pytest.mark.parametrize(
    "sent",
    [
        "Uw factuur van 12-10-2026 is gecorrigeerd.",  # another date
        "We verzetten de afspraak naar 3 december.",
        "Rescheduled to Friday 4 December.",
        "De monteur komt vrijdag.",  # a weekday that is not the visit's
        "De monteur komt morgen.",  # the day after sending is not the visit
        "We bellen u vandaag nog terug.",
        "De afspraak is verzet naar volgende week dinsdag.",
        "We bellen u om 10:30.",  # a time of something else
        "Hij komt tussen 13:00 en 17:00.",  # not the visit's window
        "Uw laadpaal wordt op vrijdag 26 november geïnstalleerd.",  # the 26th is a Thursday
        "Uw order CC-2026-00043 is verwerkt.",  # another customer's order
        "Beste heer Jansen, we kijken ernaar.",  # the surname cannot be placed
        "Zie het mailtje van piet@example.com.",  # someone else's address
    ],
)
def test_a_reply_with_a_date_it_cannot_map_is_left_out(sent):
    assert generalise(sent, CONTEXT) is None


def test_what_is_kept_holds_no_date_in_any_form():
    assert has_moment("Tot donderdag 26 november!")
    assert has_moment("Tot 26-11.")
    assert has_moment("Rond 10:30 uur")
    assert not has_moment("Uw laadpaal wordt {{visit_moment}} geïnstalleerd.")


@pytest.mark.parametrize(
    "sent",
    [
        "We komen eraan. Groet, Fatima – ChargeCars",
        "We komen eraan.\n\nMet vriendelijke groet,\nFatima Yilmaz\nChargeCars\n030-2001234",
        "We komen eraan.\n\nVriendelijke groeten,\nFatima",
        "We komen eraan.\nMvg Fatima",
        "We komen eraan.\n\nKind regards,\nFatima Yilmaz",
        "We komen eraan.\n\nFatima Yilmaz\nChargeCars",
        "We komen eraan.\n-- \nFatima Yilmaz | Klantenservice",
    ],
)
def test_the_colleagues_sign_off_is_stripped(sent):
    assert strip_sign_off(sent, "Fatima Yilmaz") == "We komen eraan."
    assert generalise(sent, CONTEXT) == "We komen eraan."


def test_a_reply_is_titled_by_its_first_words_after_the_greeting():
    assert title_of("Beste Jan Jansen, uw laadpaal wordt op 26-11-2026 geïnstalleerd door Ruben.") \
        == "Uw laadpaal wordt op 26-11-2026 geïnstalleerd door…"
    assert title_of("Kunt u een foto sturen?") == "Kunt u een foto sturen?"


# --- the job, on the database -------------------------------------------------------------


@pytest.fixture
def found(app, make_user):
    return support.desk(make_user)


def _harvested() -> list[HarvestedReply]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(HarvestedReply).order_by(HarvestedReply.replied_at)))


def test_a_resolved_conversation_is_harvested_once_with_placeholders(found):
    thread, _ = support.past_conversation(
        found, "Wanneer komt de monteur?", number="CC-2026-00100", phone="+31611111111",
        reply="Beste Piet, de monteur komt op {visit:%d-%m-%Y}. Groet, Anouk", harvest=False,
    )
    assert harvest_conversation(str(thread.id)) == 1
    assert harvest_conversation(str(thread.id)) == 0  # once per reply
    [row] = _harvested()
    assert row.body == "Beste {{customer_first_name}}, de monteur komt {{visit_moment}}."
    assert row.question == "Wanneer komt de monteur?"
    assert row.title == "De monteur komt {{visit_moment}}."
    assert row.candidate_key.startswith("r:") and row.template_id is None
    assert row.order_status == "scheduled" and row.channel_type == "whatsapp_business"


def test_a_template_reply_is_harvested_as_its_template(found):
    support.past_conversation(
        found, support.PLANNING_QUESTIONS[0], template=found.templates["planning"],
        number="CC-2026-00101", phone="+31611111112",
    )
    [row] = _harvested()
    assert row.template_id == found.templates["planning"].id and row.body is None
    assert row.candidate_key == f"t:{found.templates['planning'].id}"


def test_an_unmappable_date_and_a_poorly_rated_conversation_are_not_learned(found):
    support.past_conversation(
        found, "Kan het later?", reply="We verzetten de afspraak naar 3 december.",
        number="CC-2026-00102", phone="+31611111113",
    )
    assert _harvested() == []
    thread, _ = support.past_conversation(
        found, "Wanneer komt de monteur?", reply="We kijken ernaar en bellen u terug.",
        number="CC-2026-00103", phone="+31611111114",
    )
    assert len(_harvested()) == 1
    # The rating comes in later: 2 out of 5, so what was learned goes again.
    db.session.add(CsatResponse(thread_id=thread.id, resolved_at=thread.resolved_at,
                                state="asked", rating=2))
    commit()
    harvest_conversation(str(thread.id))
    assert _harvested() == []
    support.past_conversation(
        found, "Wanneer komt de monteur?", reply="We kijken ernaar en bellen u terug.",
        number="CC-2026-00104", phone="+31611111115", rating=1,
    )
    assert _harvested() == []


def test_an_open_conversation_is_not_harvested(found):
    thread, _ = support.past_conversation(
        found, "Wanneer komt de monteur?", reply="We kijken ernaar en bellen u terug.",
        number="CC-2026-00105", phone="+31611111116", harvest=False,
    )
    thread.status = "open"
    commit()
    assert harvest_conversation(str(thread.id)) == 0
    assert _harvested() == []


def test_resolving_a_conversation_queues_its_harvest(app, found):
    from app.conversations.reply_suggestions.harvest import HARVEST_JOB
    from app.conversations.workspace.editing import update_thread

    thread, _ = support.past_conversation(
        found, "Wanneer komt de monteur?", reply="We kijken ernaar en bellen u terug.",
        number="CC-2026-00106", phone="+31611111117", harvest=False,
    )
    thread.status = "open"
    commit()
    app.extensions["broker"].queue("default").empty()
    update_thread(thread, found.agent, expected_version=thread.lock_version,
                  changes={"status": "resolved"})
    commit()
    queued = app.extensions["broker"].queue("default").jobs
    assert (HARVEST_JOB, (str(thread.id),)) in [(job.func_name, job.args) for job in queued]
