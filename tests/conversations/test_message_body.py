"""What the timeline folds of a message's text (app/conversations/workspace/message_body.py)."""

from __future__ import annotations

import pytest

from app.conversations.workspace.message_body import message_text, repeats_subject

SIGNATURE = "Met vriendelijke groet,\nAnouk de Vries\nChargeCars Klantenservice\n030 - 200 12 34"


def test_an_email_reply_shows_its_words_with_salutation_and_sign_off_apart():
    text = message_text(
        "Beste Jesse,\n\nDe creditnota is verstuurd.\nHet bedrag volgt binnen vijf dagen."
        "\n\n" + SIGNATURE + "\n\nChargeCars B.V. · 020 123 4567"
    )
    assert text.salutation == "Beste Jesse,"
    assert text.main == "De creditnota is verstuurd.\nHet bedrag volgt binnen vijf dagen."
    assert text.signoff == SIGNATURE + "\n\nChargeCars B.V. · 020 123 4567"


@pytest.mark.parametrize(
    "body, main, signoff",
    [
        ("Dat mag blijven staan.\n\nGroet, Anouk – ChargeCars", "Dat mag blijven staan.",
         "Groet, Anouk – ChargeCars"),
        ("Ontvangen, dank!\n\nMvg,\nJesse", "Ontvangen, dank!", "Mvg,\nJesse"),
        ("Thanks.\n\nKind regards,\nJohn", "Thanks.", "Kind regards,\nJohn"),
        # Not a sign-off: a question after the greeting, a closing that is the whole
        # message, one without an empty line before it, or a long tail.
        ("Dank u.\n\nGroeten, en wanneer komt de monteur?", None, ""),
        ("Groeten uit Utrecht", None, ""),
        ("Tot morgen.\nGroet, Jan", None, ""),
        ("Kort.\n\nGroet,\n" + "\n".join(f"regel {n}" for n in range(8)), None, ""),
    ],
)
def test_only_a_clear_sign_off_is_folded(body, main, signoff):
    text = message_text(body)
    assert text.main == (main if main is not None else body)
    assert text.signoff == signoff


def test_a_salutation_runs_on_only_when_it_stands_alone_before_the_text():
    assert message_text("Beste Jesse,\n\nDank u.").salutation == "Beste Jesse,"
    assert message_text("Beste Jesse, dank u voor uw mail.").salutation == ""
    assert message_text("Hoi,\nkan dat morgen?").salutation == ""


def test_a_subject_that_repeats_the_conversation_is_left_out():
    assert repeats_subject("RE: Factuur klopt niet", "Factuur klopt niet")
    assert repeats_subject("Antw: re: factuur klopt niet ", "Factuur klopt niet")
    assert repeats_subject(None, "Factuur klopt niet")
    assert not repeats_subject("Nieuwe datum voor installatie", "Factuur klopt niet")
