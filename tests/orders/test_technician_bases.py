"""Where a technician's day starts and ends, and how far they go: typed as a
postcode and house number, confirmed by PDOK, kept with its coordinates."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import TechnicianBase
from tests.support.helpers import csrf_token_from


@pytest.fixture
def manager(make_user, auth):
    user = make_user("manager", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def tech(make_user):
    return make_user("technician", skills=["alfen"], language="nl")


def _post(client, tech, **form):
    path = f"/planning/technicians/{tech.id}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(f"{path}/base", data={"csrf_token": token, **form})


def test_a_manager_sets_start_end_and_area_and_pdok_places_them(
    app, client, manager, tech, fake_pdok
):
    page = client.get(f"/planning/technicians/{tech.id}").get_data(as_text=True)
    assert 'data-testid="base-missing"' in page
    saved = _post(
        client,
        tech,
        start_postal_code="3511 ab",
        start_house_number="5a",
        end_postal_code="1012AB",
        end_house_number="123",
        area_radius_km="80",
    )
    assert saved.status_code == 303
    base = db.session.scalar(sa.select(TechnicianBase))
    assert base.user_id == tech.id
    assert (base.start_latitude, base.start_longitude) == (Decimal("52.0907"), Decimal("5.1214"))
    assert "Oudegracht" in base.start_label and "Hoofdstraat" in base.end_label
    assert base.area_radius_km == 80
    shown = client.get(f"/planning/technicians/{tech.id}").get_data(as_text=True)
    assert "Oudegracht" in shown and "binnen 80 km van het beginpunt" in shown

    # Saved again without an end and radius: back to the start, anywhere; one row.
    again = _post(client, tech, start_postal_code="3511AB", start_house_number="5a")
    assert again.status_code == 303
    db.session.expire_all()
    [base] = db.session.scalars(sa.select(TechnicianBase)).all()
    assert base.end_label is None and base.area_radius_km is None
    shown = client.get(f"/planning/technicians/{tech.id}").get_data(as_text=True)
    assert "terug naar het beginpunt" in shown and "overal" in shown


def test_what_cannot_be_placed_is_refused_naming_the_field(app, client, manager, tech, fake_pdok):
    unknown = _post(client, tech, start_postal_code="9999ZZ", start_house_number="1")
    page = unknown.get_data(as_text=True)
    assert unknown.status_code == 422
    assert "Beginpunt: PDOK kent geen adres 9999ZZ 1" in page
    half = _post(
        client,
        tech,
        start_postal_code="3511AB",
        start_house_number="5a",
        end_postal_code="1012AB",
        area_radius_km="900",
    )
    page = half.get_data(as_text=True)
    assert half.status_code == 422
    assert "Eindpunt: typ zowel de postcode als het huisnummer" in page
    assert "Gebied: een heel aantal kilometers van 1 tot 400" in page
    assert 'value="3511AB"' in page  # what was typed stays in the form
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TechnicianBase)) == 0


def test_pdok_down_saves_nothing_and_says_so(app, client, manager, tech):
    # PDOK_API_BASE points at a closed port in the tests' configuration.
    down = _post(client, tech, start_postal_code="3511AB", start_house_number="5a")
    assert down.status_code == 422
    assert "PDOK" in down.get_data(as_text=True) and "probeer het over een minuut" in (
        down.get_data(as_text=True)
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TechnicianBase)) == 0


def test_only_managers_and_admins_set_them(app, client, auth, make_user, tech):
    lead = make_user("team_lead", language="nl")
    auth.login(lead.email)
    path = f"/planning/technicians/{tech.id}/base"
    token = csrf_token_from(client.get("/planning/").get_data(as_text=True))
    refused = client.post(
        path, data={"csrf_token": token, "start_postal_code": "3511AB", "start_house_number": "5"}
    )
    assert refused.status_code == 403
