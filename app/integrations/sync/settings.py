"""An integration's sync settings: what its syncs list, and how much at once.

Batch size (bounded by the provider's page limit), include deleted/archived
records, a modified-since/until range and the provider's own filters, whose
keys and kinds its registry entry declares. :func:`read_sync_settings`
validates form or JSON input into attribute values; :func:`list_scope` hands
the saved settings to the connector, which says them in its provider's terms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta, timezone
from typing import Any

from flask_babel import gettext as _

from app.integrations.connectors import ListScope, connector_class
from app.integrations.registry import Provider, SyncFilter
from app.platform.models import Integration
from app.platform.typed_dates import DateRefused, parse_day, parse_moment

# Attribute names on the integration, as the API and the form send them.
SETTING_FIELDS = ("batch_size", "include_deleted", "modified_since", "modified_until", "filters")
MAX_QUERY_PARAMS = 10
MAX_FILTER_TEXT = 200
_PARAM_NAME = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,60}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def batch_limit(provider: Provider) -> int:
    """The largest batch the provider serves in one page (HubSpot 100, QuickBooks 1000, …)."""
    return connector_class(provider.key).max_page_size


def read_sync_settings(
    provider: Provider, data: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """The sync settings present in ``data``, validated; problems go into ``errors``.

    Returns integration attribute → value (``filters`` as ``sync_filters``).
    A date is a whole day: since its start, until its end (UTC).
    """
    settings: dict[str, Any] = {}
    if data.get("batch_size") not in (None, ""):
        limit = batch_limit(provider)
        try:
            batch_size = int(data["batch_size"])
        except (TypeError, ValueError):
            batch_size = 0
        if not 1 <= batch_size <= limit:
            errors["batch_size"] = _(
                "a whole number from 1 to %(max)s (%(provider)s pages at most %(max)s records)",
                max=limit,
                provider=provider.name,
            )
        settings["batch_size"] = batch_size
    if "include_deleted" in data:
        include = _truthy(data["include_deleted"])
        if not _is_flag(data["include_deleted"]):
            errors["include_deleted"] = _("must be true or false")
        elif include and not provider.lists_deleted:
            errors["include_deleted"] = _(
                "%(provider)s never lists deleted records", provider=provider.name
            )
        settings["include_deleted"] = include
    for name, end_of_day in (("modified_since", False), ("modified_until", True)):
        if name in data:
            try:
                settings[name] = _moment(data[name], end_of_day)
            except DateRefused as exc:
                errors[name] = (
                    str(exc)
                    if exc.out_of_range
                    else _("a date (YYYY-MM-DD) or an ISO 8601 date and time")
                )
    if "filters" in data:
        settings["sync_filters"] = _filters(provider, data["filters"], errors)
    return settings


def check_combination(values: Mapping[str, Any], errors: dict[str, str]) -> None:
    """Settings that contradict each other, once merged with the saved ones."""
    since, until = values.get("modified_since"), values.get("modified_until")
    if since and until and since > until and "modified_until" not in errors:
        errors["modified_until"] = _("must not be before the start of the range")
    filters = values.get("sync_filters") or {}
    if values.get("include_deleted") and filters.get("active_only"):
        errors["filters.active_only"] = _(
            "cannot be combined with including deleted (inactive) records"
        )


def list_scope(integration: Integration) -> ListScope:
    """The saved sync settings, as the connectors read them."""
    return ListScope(
        include_deleted=bool(integration.include_deleted),
        modified_since=integration.modified_since,
        modified_until=integration.modified_until,
        filters=dict(integration.sync_filters or {}),
    )


def settings_to_dict(integration: Integration) -> dict[str, Any]:
    """The JSON shape of the sync settings (beside ``batch_size``)."""
    return {
        "include_deleted": bool(integration.include_deleted),
        "modified_since": _iso(integration.modified_since),
        "modified_until": _iso(integration.modified_until),
        "filters": dict(integration.sync_filters or {}),
    }


def form_values(integration: Integration, submitted: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the settings form shows in its sync-settings fields: the submitted
    text after a refused save, else the saved settings as text."""
    filters = dict(integration.sync_filters or {})
    if submitted is not None:
        return {
            "include_deleted": submitted.get("include_deleted") == "on",
            "modified_since": submitted.get("modified_since", ""),
            "modified_until": submitted.get("modified_until", ""),
            "filters": {
                key.removeprefix("filters."): value
                for key, value in submitted.items()
                if key.startswith("filters.")
            },
        }
    return {
        "include_deleted": bool(integration.include_deleted),
        "modified_since": _day_or_moment(integration.modified_since, end_of_day=False),
        "modified_until": _day_or_moment(integration.modified_until, end_of_day=True),
        "filters": {
            key: _query_text(value) if isinstance(value, Mapping) else value
            for key, value in filters.items()
        },
    }


def _query_text(value: Mapping) -> str:
    # A ``params`` filter as the textarea shows it: name=value per line.
    return "\n".join(f"{k}={v}" for k, v in value.items())


def _day_or_moment(value: datetime | None, end_of_day: bool) -> str:
    # A whole day shows as the date the form takes; anything else as ISO 8601,
    # so saving the form again does not move it.
    if value is None:
        return ""
    value = value.astimezone(timezone.utc)
    if value == _moment(value.date().isoformat(), end_of_day):
        return value.date().isoformat()
    return value.isoformat()


# --- input ---------------------------------------------------------------------


def _filters(provider: Provider, raw: Any, errors: dict[str, str]) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        errors["filters"] = _("an object of the provider's filters")
        return {}
    declared = {spec.key: spec for spec in provider.sync_filters}
    kept: dict[str, Any] = {}
    for key, value in raw.items():
        spec = declared.get(str(key))
        field = f"filters.{key}"
        if spec is None:
            names = ", ".join(declared) or _("none")
            errors[field] = _(
                "unknown filter for %(provider)s (it has: %(names)s)",
                provider=provider.name,
                names=names,
            )
            continue
        try:
            parsed = _filter_value(spec, value)
        except ValueError as exc:
            errors[field] = str(exc)
            continue
        if parsed not in (None, "", False, {}):
            kept[spec.key] = parsed
    return kept


def _filter_value(spec: SyncFilter, value: Any) -> Any:
    if spec.kind == "flag":
        if not _is_flag(value):
            raise ValueError(_("must be true or false"))
        return _truthy(value)
    if spec.kind == "params":
        return _query_params(value)
    text = str(value or "").strip()
    if len(text) > MAX_FILTER_TEXT:
        raise ValueError(_("at most %(count)s characters", count=MAX_FILTER_TEXT))
    if spec.kind == "choice" and text and text not in spec.choices:
        raise ValueError(_("must be one of %(values)s", values=", ".join(spec.choices)))
    if spec.kind == "email" and text and not _EMAIL.match(text):
        raise ValueError(_("must be an e-mail address"))
    return text


def _query_params(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        pairs = []
        for line in value.splitlines():
            if not line.strip():
                continue
            name, sep, text = line.partition("=")
            if not sep:
                raise ValueError(_("one name=value per line"))
            pairs.append((name.strip(), text.strip()))
    elif isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        raise ValueError(_("name=value lines or an object of strings"))
    if len(pairs) > MAX_QUERY_PARAMS:
        raise ValueError(_("at most %(count)s parameters", count=MAX_QUERY_PARAMS))
    params: dict[str, str] = {}
    for name, text in pairs:
        if not _PARAM_NAME.match(name):
            raise ValueError(_("%(name)s is not a parameter name", name=name[:60]))
        if not isinstance(text, (str, int, float)) or len(str(text)) > MAX_FILTER_TEXT:
            raise ValueError(_("the value of %(name)s must be a short text", name=name))
        params[name] = str(text)
    return params


def _moment(value: Any, end_of_day: bool) -> datetime | None:
    text = str(value or "").strip()
    if len(text) == 10:
        day = parse_day(text)
        start = datetime.combine(day, time(0), tzinfo=timezone.utc)
        return start + timedelta(days=1, microseconds=-1) if end_of_day else start
    return parse_moment(text, timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _is_flag(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return True
    return str(value).strip().lower() in ("", "0", "1", "true", "false", "on", "off", "yes", "no")


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "on", "yes")
