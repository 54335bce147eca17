"""A fake PDOK Locatieserver v3.1: ``/free`` and ``/lookup`` over a few BAG addresses.

Answers in Locatieserver's Solr envelope (``{"response": {"numFound", "start",
"maxScore", "numFoundExact", "docs": [...]}}``) with the field names of the
real service (``nummeraanduiding_id``, ``centroide_ll`` as ``POINT(lon lat)``,
``provincienaam``…). ``q`` is read the way our client writes it
(``postcode:1012AB and huisnummer:123``); ``fq`` must be ``type:adres``.
"""

from __future__ import annotations

import re

from flask import jsonify, request

from tests.fakes import FakeServer


def address_doc(
    postcode: str,
    number: int,
    street: str,
    city: str,
    province: str,
    lon: float,
    lat: float,
    letter: str | None = None,
    bag_id: str = "0363200000123456",
) -> dict:
    nlt = f"{number}{letter or ''}"
    return {
        "type": "adres",
        "id": f"adr-{bag_id[-8:]}{number}",
        "weergavenaam": f"{street} {nlt}, {postcode} {city}",
        "straatnaam": street,
        "huisnummer": number,
        "huisletter": letter,
        "huis_nlt": nlt,
        "postcode": postcode,
        "woonplaatsnaam": city,
        "gemeentenaam": city,
        "provincienaam": province,
        "centroide_ll": f"POINT({lon} {lat})",
        "centroide_rd": "POINT(121394.5 487369.1)",
        "nummeraanduiding_id": bag_id,
        "adresseerbaarobject_id": bag_id.replace("20", "01", 1),
        "score": 12.5,
    }


DEFAULT_ADDRESSES = [
    address_doc("1012AB", 123, "Hoofdstraat", "Amsterdam", "Noord-Holland", 4.8936, 52.3731),
    address_doc(
        "1234AB",
        123,
        "Kerkstraat",
        "Amsterdam",
        "Noord-Holland",
        4.88,
        52.36,
        bag_id="0363200000654321",
    ),
    address_doc(
        "3511AB",
        5,
        "Oudegracht",
        "Utrecht",
        "Utrecht",
        5.1214,
        52.0907,
        letter="a",
        bag_id="0344200000111222",
    ),
]


class FakePdok(FakeServer):
    def __init__(self, addresses: list[dict] | None = None):
        super().__init__("fake-pdok")
        self.addresses = list(addresses or DEFAULT_ADDRESSES)

        @self.app.get("/free")
        def free():
            if request.args.get("fq") != "type:adres":
                return jsonify(error="fq must be type:adres in this fake"), 400
            query = request.args.get("q", "")
            code = re.search(r"postcode:(\w+)", query)
            number = re.search(r"huisnummer:(\d+)", query)
            if not code and not number:
                return jsonify(_envelope(_free_text(self.addresses, query)))
            docs = [
                doc
                for doc in self.addresses
                if code
                and number
                and doc["postcode"] == code.group(1)
                and str(doc["huisnummer"]) == number.group(1)
            ]
            return jsonify(_envelope(docs))

        @self.app.get("/lookup")
        def lookup():
            docs = [doc for doc in self.addresses if doc["id"] == request.args.get("id")]
            return jsonify(_envelope(docs))


def _free_text(addresses: list[dict], query: str) -> list[dict]:
    """Free text as Locatieserver answers it, roughly: the addresses sharing most
    of the typed words (a postcode counts as its digits and its letters)."""
    words = set(re.findall(r"[a-z]+|\d+", query.lower()))
    scored = []
    for doc in addresses:
        known = set(re.findall(r"[a-z]+|\d+", doc["weergavenaam"].lower()))
        shared = len(words & known)
        if shared >= 2:
            scored.append((shared, doc))
    scored.sort(key=lambda pair: -pair[0])
    return [doc for _, doc in scored]


def _envelope(docs: list[dict]) -> dict:
    return {
        "response": {
            "numFound": len(docs),
            "start": 0,
            "maxScore": max((d["score"] for d in docs), default=0.0),
            "numFoundExact": True,
            "docs": docs,
        }
    }
