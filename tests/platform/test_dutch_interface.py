"""The Dutch interface: every marked text has Dutch, and a Dutch reader gets it.

The reader's language is set in place of the app's locale selector, as in
tests/platform/test_system_texts.py; how it is chosen is tested in tests/platform/test_i18n.py.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.platform.extensions import db
from app.platform.models import Contact
from tests.support import factories
from tests.support.helpers import csrf_token_from, reader_language

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")

speak = pytest.fixture(reader_language, name="speak")


def _read(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def _forms(value) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def test_every_marked_text_has_dutch_with_the_same_placeholders():
    """After `make translations`, nothing is left empty or fuzzy (pybabel's guesses)."""
    dutch = {message.id: message for message in _read(TRANSLATIONS / "nl/LC_MESSAGES/messages.po")}
    for marked in _read(TRANSLATIONS / "messages.pot"):
        if not marked.id:
            continue
        message = dutch.get(marked.id)
        assert message is not None, f"{marked.id!r} is not in the Dutch catalogue"
        assert not message.fuzzy, f"{marked.id!r}: a fuzzy guess, not a translation"
        english = sorted(PLACEHOLDER.findall(_forms(marked.id)[-1]))
        for form in _forms(message.string):
            assert form, f"{marked.id!r} has no Dutch"
            assert sorted(PLACEHOLDER.findall(form)) == english, f"{marked.id!r}: placeholders"


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_a_dutch_reader_gets_the_security_pages_and_navigation_in_dutch(
    client, auth, make_user, speak
):
    speak("nl")
    auth.login(make_user("admin").email)
    page = _text(client.get("/settings/security"))
    assert '<html lang="nl">' in page
    for words in (
        "Beveiliging",
        "Tweestapsverificatie",
        "Overal uitloggen",
        "Auditlog",
        "Beheerder",
    ):
        assert words in page
    assert "Sign out" not in page and "Two-factor" not in page


def test_a_wrong_code_while_setting_up_two_factor_is_told_in_dutch(client, auth, make_user, speak):
    speak("nl")
    auth.login(make_user("agent").email)
    client.post("/settings/security/two-factor/start", data={"csrf_token": auth.csrf_token()})
    token = auth.csrf_token("/settings/security/two-factor")
    refused = client.post(
        "/settings/security/two-factor", data={"code": "000000", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "Die code klopt niet. Typ de 6 cijfers die uw app nu toont." in _text(refused)


def _erase(client, contact_id, word):
    page = client.get(f"/admin/contacts/{contact_id}/privacy")
    data = {"confirmation": word, "csrf_token": csrf_token_from(page.get_data(as_text=True))}
    return client.post(f"/admin/contacts/{contact_id}/erase", data=data)


def test_a_dutch_admin_confirms_an_erasure_with_wissen_or_erase(client, auth, make_user, speak):
    speak("nl")
    auth.login(make_user("admin").email)
    saskia = factories.contact(display_name="Saskia Bos", email="saskia@example.nl")
    joost = factories.contact(display_name="Joost Smit", email="joost@example.nl")
    db.session.commit()

    page = _text(client.get(f"/admin/contacts/{saskia.id}/privacy"))
    assert "Typ WISSEN ter bevestiging" in page
    refused = _erase(client, saskia.id, "Saskia Bos")
    assert refused.status_code == 422
    assert "WISSEN" in _text(refused) and "niets gewist" in _text(refused)
    # The exact word, in the same case: "wissen" is refused.
    assert _erase(client, saskia.id, "wissen").status_code == 422
    assert _erase(client, saskia.id, "WISSEN").status_code == 303
    assert _erase(client, joost.id, "ERASE").status_code == 303
    db.session.expire_all()
    assert db.session.get(Contact, saskia.id).erased_at is not None
    assert db.session.get(Contact, joost.id).erased_at is not None
