"""What "the same order body" means, and which fields differ when it is not.

Two bodies are the same when their *validated* payloads are: the canonical JSON
of :class:`app.orders.partners.schemas.PartnerOrderIn` after its normalisation, so
``06-12345678`` and ``+31612345678``, ``1012 AB`` and ``1012AB``, or
``"Hoofdstraat 123"`` and a separate ``house_number`` are the same, and
fields we do not read are ignored. Defaults count as sent (``quantity`` 1).

The order keeps a digest per field (dotted paths; a list such as
``line_items`` is one field), salted per order, rather than the body itself:
it tells which fields differ without keeping a second copy of the customer's
name, e-mail and address beside the order's own.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator

from app.orders.partners.schemas import PartnerOrderIn

DIGEST_VERSION = 1


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_digest(payload: PartnerOrderIn, salt: str | None = None) -> dict:
    """The digest to keep on the order made from ``payload``."""
    salt = salt or secrets.token_hex(16)
    return {"v": DIGEST_VERSION, "salt": salt, "fields": _field_digests(payload, salt)}


def differing_fields(payload: PartnerOrderIn, digest: dict | None) -> list[str] | None:
    """Dotted paths whose values differ from the body ``digest`` was made from.

    ``[]`` for the same body; None when the order keeps no digest (made before
    digests were kept, or not by a partner intake), so nothing can be said.
    """
    if not digest or digest.get("v") != DIGEST_VERSION:
        return None
    kept: dict = digest["fields"]
    sent = _field_digests(payload, digest["salt"])
    return sorted(path for path in kept.keys() | sent.keys() if kept.get(path) != sent.get(path))


def _field_digests(payload: PartnerOrderIn, salt: str) -> dict[str, str]:
    body = payload.model_dump(mode="json", exclude_none=True)
    return {
        path: hashlib.sha256(f"{salt}\n{path}\n{canonical_json(value)}".encode()).hexdigest()[:32]
        for path, value in _leaves(body)
    }


def _leaves(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from _leaves(inner, f"{path}.{key}" if path else str(key))
    else:
        yield path, value
