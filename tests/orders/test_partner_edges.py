"""What partners see at the edges.

PUBLIC_BASE_URL follows PORT; ``house_number`` is required the same way by the
schema and the validator; no internal jargon on the pages partners and admins read.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from app import create_app
from app.conversations.csat.tokens import rating_url
from app.platform.extensions import db
from tests.conftest import base_config, opened
from tests.support.partner_support import line_items_order, make_partner, products_order

ROOT = Path(__file__).resolve().parents[2]


# --- PUBLIC_BASE_URL follows PORT -------------------------------------------------------


@pytest.fixture
def app_on_port_5123(monkeypatch, migrated_database):
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    config = base_config()
    del config["PUBLIC_BASE_URL"]
    built = create_app(config)
    with opened(built) as app:
        yield app
    with built.app_context():
        db.engine.dispose()


def test_without_public_base_url_links_point_at_the_port(app_on_port_5123):
    app = app_on_port_5123
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5123"
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert {"url": "http://127.0.0.1:5123"} in spec["servers"]
    with app.test_request_context():
        link = rating_url(uuid.uuid4())
    assert link.startswith("http://127.0.0.1:5123/csat/")


# --- house_number: the schema says what the validator does ------------------------------


def _order_schema(spec: dict) -> Draft202012Validator:
    return Draft202012Validator({"$ref": "#/components/schemas/PartnerOrderIn", **spec})


def _with_address(**address) -> dict:
    body = products_order()
    body["customer"] = {**body["customer"], "address": address}
    return body


ADDRESSES = {
    "separate": ({"street": "Oudegracht", "house_number": "5a", "postal_code": "3511AB"}, True),
    "in the street": ({"street": "Hoofdstraat 123", "postal_code": "1012AB"}, True),
    "only the number": ({"house_number": "123", "postal_code": "1012AB"}, True),
    "none": ({"street": "Hoofdstraat", "postal_code": "1012AB"}, False),
    "no street at all": ({"postal_code": "1012AB", "city": "Amsterdam"}, False),
}


@pytest.mark.parametrize("case", ADDRESSES)
def test_house_number_is_required_alike_by_schema_and_validator(client, fake_pdok, case):
    address, valid = ADDRESSES[case]
    partner = make_partner()
    spec = client.get("/api/v1/openapi.json").get_json()
    address_schema = spec["components"]["schemas"]["AddressIn"]
    assert "house_number" not in address_schema.get("required", [])
    assert "street" in address_schema["properties"]["house_number"]["description"]

    body = _with_address(**address)
    schema_says = _order_schema(spec).is_valid(body)
    answer = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers
    )
    assert schema_says is valid
    if valid:
        assert answer.status_code == 201, answer.get_json()
    else:
        assert answer.status_code == 422
        assert "customer.address.house_number" in answer.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    ("address", "field"),
    [
        # Fits the pattern (5 digits, a 6-character addition), not the stored column.
        ({"house_number": "123000BOUY0", "postal_code": "1000AA"}, "house_number"),
        ({"house_number": "12", "postal_code": "1000AA", "city": "A" * 121}, "city"),
    ],
)
def test_an_address_longer_than_we_store_is_refused_by_name_not_a_500(
    client, fake_pdok, address, field
):
    """Found by the schema fuzzing: an 11-character house number reached the
    database's 10-character column and the partner got a 500."""
    partner = make_partner()
    spec = client.get("/api/v1/openapi.json").get_json()
    body = _with_address(**address)
    assert not _order_schema(spec).is_valid(body)
    answer = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers
    )
    assert answer.status_code == 422
    assert f"customer.address.{field}" in answer.get_json()["error"]["fields"]


# --- no internal jargon ----------------------------------------------------------------

# Pointers to internal papers a partner cannot open: a seed, a section mark, an issue
# number. The [t] keeps a search of the code for that word from finding this line.
JARGON = re.compile(r"\bseed\b|con[t]ract|§|\bissue \d", re.IGNORECASE)


def _jargon(text: str) -> list[str]:
    return [text[max(m.start() - 40, 0) : m.end() + 40] for m in JARGON.finditer(text)]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_no_internal_jargon_reaches_partners_or_admins(client, auth, make_user, language):
    partner = make_partner()
    client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=partner.headers
    )
    headers = {"Accept-Language": language}
    found = {
        "openapi.json": _jargon(client.get("/api/v1/openapi.json").get_data(as_text=True)),
        "/api/docs": _jargon(client.get("/api/docs", headers=headers).get_data(as_text=True)),
        "docs/partners.md": _jargon((ROOT / "docs" / "partners.md").read_text(encoding="utf-8")),
    }
    auth.login(make_user("admin").email)
    for path in (
        "/partners/",
        f"/partners/{partner.id}",
        f"/partners/{partner.id}/deliveries",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        found[path] = _jargon(response.get_data(as_text=True))
    assert {where: hits for where, hits in found.items() if hits} == {}
