"""Configuration read from the environment.

Every setting the outside world may change is read here and nowhere else, so a
reader finds the whole surface in one file. On SQLite, secrets that are absent are
generated once into the instance folder by :func:`ensure_instance_secrets`, so a
fresh clone runs without any set-up and keeps its sessions and encrypted data
across restarts; a deployment on PostgreSQL must set them (the app refuses to start).
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path

from app.platform.instance_secrets import is_sqlite

log = logging.getLogger(__name__)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc


def parse_pairs(raw: str | None) -> dict[str, str]:
    """Parse ``key=value,key=value`` (used by TEAMS_WEBHOOK_URLS, MAKE_WEBHOOK_URLS)."""
    pairs: dict[str, str] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise RuntimeError(f"expected key=value, got {part.strip()!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Provider endpoints of the integration hub, by provider key (the keys of
# app/integrations/registry.py). Each becomes the config key
# ``<PROVIDER>_API_BASE`` / ``<PROVIDER>_OAUTH_AUTHORIZE_URL`` /
# ``<PROVIDER>_OAUTH_TOKEN_URL`` (:func:`provider_url_key`), overridable so tests
# and staging point at fake servers; API-key providers have no OAuth pair.
# ROVIDA, Yardi and Financeit are hosted per customer, so their base URL is set
# on the integration itself when the environment leaves it empty.
API_BASE, OAUTH_AUTHORIZE_URL, OAUTH_TOKEN_URL = (
    "API_BASE",
    "OAUTH_AUTHORIZE_URL",
    "OAUTH_TOKEN_URL",
)
PROVIDER_URL_DEFAULTS: dict[str, dict[str, str | None]] = {
    "salesforce": {
        API_BASE: "https://login.salesforce.com",
        OAUTH_AUTHORIZE_URL: "https://login.salesforce.com/services/oauth2/authorize",
        OAUTH_TOKEN_URL: "https://login.salesforce.com/services/oauth2/token",
    },
    "hubspot": {
        API_BASE: "https://api.hubapi.com",
        OAUTH_AUTHORIZE_URL: "https://app.hubspot.com/oauth/authorize",
        OAUTH_TOKEN_URL: "https://api.hubapi.com/oauth/v1/token",
    },
    "pipedrive": {
        API_BASE: "https://api.pipedrive.com/v1",
        OAUTH_AUTHORIZE_URL: "https://oauth.pipedrive.com/oauth/authorize",
        OAUTH_TOKEN_URL: "https://oauth.pipedrive.com/oauth/token",
    },
    "zoho_crm": {
        API_BASE: "https://www.zohoapis.eu/crm/v6",
        OAUTH_AUTHORIZE_URL: "https://accounts.zoho.eu/oauth/v2/auth",
        OAUTH_TOKEN_URL: "https://accounts.zoho.eu/oauth/v2/token",
    },
    "quickbooks": {
        API_BASE: "https://quickbooks.api.intuit.com",
        OAUTH_AUTHORIZE_URL: "https://appcenter.intuit.com/connect/oauth2",
        OAUTH_TOKEN_URL: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    },
    "xero": {
        API_BASE: "https://api.xero.com/api.xro/2.0",
        OAUTH_AUTHORIZE_URL: "https://login.xero.com/identity/connect/authorize",
        OAUTH_TOKEN_URL: "https://identity.xero.com/connect/token",
    },
    "sage": {API_BASE: "https://api.accounting.sage.com/v3.1"},
    "freshbooks": {
        API_BASE: "https://api.freshbooks.com",
        OAUTH_AUTHORIZE_URL: "https://auth.freshbooks.com/oauth/authorize",
        OAUTH_TOKEN_URL: "https://api.freshbooks.com/auth/oauth/token",
    },
    "rovida": {API_BASE: None},
    "yardi": {API_BASE: None},
    "stripe": {API_BASE: "https://api.stripe.com"},
    "square": {
        API_BASE: "https://connect.squareup.com/v2",
        OAUTH_AUTHORIZE_URL: "https://connect.squareup.com/oauth2/authorize",
        OAUTH_TOKEN_URL: "https://connect.squareup.com/oauth2/token",
    },
    "financeit": {API_BASE: None},
}
# Names that were read once and still are, each with the name that replaced it.
# Start-up reports them as renamed; the new name wins when both are set.
RENAMED_SETTINGS: dict[str, str] = {
    "ZOHO_OAUTH_AUTHORIZE_URL": "ZOHO_CRM_OAUTH_AUTHORIZE_URL",
    "ZOHO_OAUTH_TOKEN_URL": "ZOHO_CRM_OAUTH_TOKEN_URL",
}


def provider_url_key(provider_key: str, setting: str) -> str:
    """``zoho_crm`` + ``OAUTH_TOKEN_URL`` → ``ZOHO_CRM_OAUTH_TOKEN_URL``: the one naming rule."""
    return f"{provider_key.upper()}_{setting}"


def integration_urls() -> dict[str, str | None]:
    """Every provider's URL keys, each from the environment when set there."""
    urls: dict[str, str | None] = {}
    for provider_key, defaults in PROVIDER_URL_DEFAULTS.items():
        for setting, default in defaults.items():
            urls[provider_url_key(provider_key, setting)] = default
    old_names = {new: old for old, new in RENAMED_SETTINGS.items()}
    for key, default in urls.items():
        urls[key] = _env(key) or (_env(old_names[key]) if key in old_names else None) or default
    return urls


def _looks_like_a_url_setting(name: str) -> bool:
    return name.endswith("_API_BASE") or "_OAUTH_" in name


def report_url_settings(config: dict, environ=None) -> list[str]:
    """Warn about ``*_API_BASE`` / ``*_OAUTH_*`` variables the app does not read as named.

    A guessed name (``HUBSPOT_OAUTH_AUTHORISE_URL``) would otherwise be ignored
    without a word while the real provider is called. Old names that still work
    are reported as renamed. Returns the messages, each also logged as a warning.
    """
    environ = os.environ if environ is None else environ
    known = sorted(name for name in config if _looks_like_a_url_setting(name))
    messages = []
    for name in sorted(environ):
        if not _looks_like_a_url_setting(name) or name in config:
            continue
        if name in RENAMED_SETTINGS:
            messages.append(
                f"{name} is renamed to {RENAMED_SETTINGS[name]}; the old name works for now"
            )
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        messages.append(f"{name} is not a setting Switchboard knows and is ignored{hint}")
    for message in messages:
        log.warning("configuration: %s", message)
    return messages


_MICROSOFT_SIGN_IN_REQUIRED = (
    "MICROSOFT_SIGNIN_CLIENT_ID",
    "MICROSOFT_SIGNIN_CLIENT_SECRET",
    "MICROSOFT_SIGNIN_TENANT",
)


# The interface languages (translations/<language>/); Dutch first, English second.
INTERFACE_LANGUAGES = ("nl", "en")


def default_language() -> str:
    """``DEFAULT_LANGUAGE``: the language of a reader whose own is unknown.

    Used when a user chose none and their browser asks for no language we speak,
    and for texts sent to a team rather than a person (Teams cards).
    """
    language = (_env("DEFAULT_LANGUAGE", "nl") or "nl").lower()
    if language not in INTERFACE_LANGUAGES:
        raise RuntimeError(
            f"DEFAULT_LANGUAGE must be one of {', '.join(INTERFACE_LANGUAGES)}, got {language!r}"
        )
    return language


def microsoft_sign_in() -> dict[str, str | None]:
    """ "Sign in with Microsoft" settings: all three of client id, secret and tenant, or none.

    Half a configuration is refused at start rather than leaving the button
    missing (or failing at Microsoft) without saying why.
    """
    settings = {name: _env(name) for name in _MICROSOFT_SIGN_IN_REQUIRED}
    missing = [name for name, value in settings.items() if value is None]
    if missing and len(missing) < len(settings):
        raise RuntimeError(f"Sign in with Microsoft needs {', '.join(missing)} set as well")
    settings["MICROSOFT_SIGNIN_AUTHORITY_BASE"] = _env(
        "MICROSOFT_SIGNIN_AUTHORITY_BASE", "https://login.microsoftonline.com"
    )
    return settings


class Config:
    """Settings for a running deployment, read when the class body executes.

    ``create_app`` calls :meth:`from_env` so that tests can change the
    environment between apps.
    """

    @classmethod
    def from_env(cls, instance_path: str) -> dict:
        default_db = "sqlite:///" + str(Path(instance_path) / "switchboard.db")
        graph_tenant = _env("GRAPH_TENANT_ID")
        port = _env_int("PORT", 5000)
        # Unset, links, callback URLs and "Try it out" point where `python wsgi.py` runs.
        public_base_url = _env("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
        https = public_base_url.startswith("https://")
        config = {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(_env("DATABASE_URL", default_db)),
            "REDIS_URL": _env("REDIS_URL"),
            "SECRET_KEY": _env("SECRET_KEY"),
            # Keys the erasure tombstones' hashes (app.conversations.gdpr.tombstones); default from
            # SECRET_KEY.
            "ERASURE_TOMBSTONE_KEY": _env("ERASURE_TOMBSTONE_KEY"),
            "ENCRYPTION_KEYS": _env("ENCRYPTION_KEYS"),
            "PUBLIC_BASE_URL": public_base_url,
            "WHATSAPP_API_BASE": _env("WHATSAPP_API_BASE", "https://graph.facebook.com"),
            "WHATSAPP_API_VERSION": _env("WHATSAPP_API_VERSION", "v18.0"),
            "WHATSAPP_PHONE_NUMBER_ID": _env("WHATSAPP_PHONE_NUMBER_ID"),
            "WHATSAPP_ACCESS_TOKEN": _env("WHATSAPP_ACCESS_TOKEN"),
            "WHATSAPP_APP_SECRET": _env("WHATSAPP_APP_SECRET"),
            "WHATSAPP_VERIFY_TOKEN": _env("WHATSAPP_VERIFY_TOKEN"),
            "GRAPH_API_BASE": _env("GRAPH_API_BASE", "https://graph.microsoft.com"),
            "GRAPH_AUTHORITY": _env(
                "GRAPH_AUTHORITY",
                f"https://login.microsoftonline.com/{graph_tenant or 'common'}",
            ),
            "GRAPH_TENANT_ID": graph_tenant,
            "GRAPH_CLIENT_ID": _env("GRAPH_CLIENT_ID"),
            "GRAPH_CLIENT_SECRET": _env("GRAPH_CLIENT_SECRET"),
            "GRAPH_MAILBOX": _env("GRAPH_MAILBOX"),
            **microsoft_sign_in(),
            "TEAMS_WEBHOOK_URLS": parse_pairs(_env("TEAMS_WEBHOOK_URLS")),
            "SENDGRID_API_BASE": _env("SENDGRID_API_BASE", "https://api.sendgrid.com"),
            "SENDGRID_API_KEY": _env("SENDGRID_API_KEY"),
            "MAIL_FROM": _env("MAIL_FROM"),
            "MAIL_REPLY_TO": _env("MAIL_REPLY_TO", "info@chargecars.nl"),
            # key=d-template-id pairs overriding the built-in SendGrid template ids.
            "SENDGRID_TEMPLATE_IDS": parse_pairs(_env("SENDGRID_TEMPLATE_IDS")),
            "SMS_API_BASE": _env("SMS_API_BASE"),
            "SMS_ACCOUNT_SID": _env("SMS_ACCOUNT_SID"),
            "SMS_AUTH_TOKEN": _env("SMS_AUTH_TOKEN"),
            "SMS_FROM": _env("SMS_FROM"),
            "PDOK_API_BASE": _env(
                "PDOK_API_BASE", "https://api.pdok.nl/bzk/locatieserver/search/v3_1"
            ),
            # Driving times for planning: an OSRM server's table service; unset, an
            # estimate from the straight line (app.orders.planning.travel.estimate).
            "OSRM_BASE_URL": _env("OSRM_BASE_URL"),
            "TRAVEL_DETOUR_FACTOR": _env_float("TRAVEL_DETOUR_FACTOR", 1.3),
            "TRAVEL_SPEED_KMH": _env_float("TRAVEL_SPEED_KMH", 60.0),
            "TRAVEL_PARKING_MINUTES": _env_float("TRAVEL_PARKING_MINUTES", 5.0),
            # How long the route solver may search for a proposed plan, and after how
            # long without a heartbeat another worker takes a proposal over.
            "PLANNING_SOLVE_SECONDS": _env_float("PLANNING_SOLVE_SECONDS", 8.0),
            "PLANNING_LEASE_SECONDS": _env_float("PLANNING_LEASE_SECONDS", 60.0),
            # How many working days ahead the best slots for one order are looked for.
            "PLANNING_SLOT_DAYS": _env_int("PLANNING_SLOT_DAYS", 10),
            # The day before a visit, Amsterdam time (HH:MM): when the customer's
            # reminder goes, and after when an unanswered one is handed to the desk
            # (checked at start by app.orders.visit_reminders.settings).
            "VISIT_REMINDER_TIME": _env("VISIT_REMINDER_TIME", "10:00"),
            "VISIT_CONFIRM_BY": _env("VISIT_CONFIRM_BY", "18:00"),
            "MAKE_WEBHOOK_URLS": parse_pairs(_env("MAKE_WEBHOOK_URLS")),
            "MAKE_WEBHOOK_SECRET": _env("MAKE_WEBHOOK_SECRET"),
            "FILLOUT_WEBHOOK_SECRET": _env("FILLOUT_WEBHOOK_SECRET"),
            "DELIVERY_RETRY_BASE_SECONDS": _env_float("DELIVERY_RETRY_BASE_SECONDS", 60.0),
            # The partner sandbox's automatic timeline: seconds between its moves.
            "SANDBOX_TIMELINE_STEP_SECONDS": _env_float("SANDBOX_TIMELINE_STEP_SECONDS", 30.0),
            # Seconds a sync job's worker may go without committing a batch before
            # another worker takes the job over from its last committed batch.
            "SYNC_LEASE_SECONDS": _env_float("SYNC_LEASE_SECONDS", 300.0),
            # First wait before a provider call a sync retries (doubling after).
            "SYNC_RETRY_BASE_SECONDS": _env_float("SYNC_RETRY_BASE_SECONDS", 1.0),
            # Seconds a claim on a delivery lasts unrenewed: a live worker renews its
            # claims every third of this while their calls last (app/orders/deliveries/claims.py),
            # so an older one means the worker died, and another one sends it again.
            "DELIVERY_LEASE_SECONDS": _env_float("DELIVERY_LEASE_SECONDS", 60.0),
            # Callbacks one worker process has in flight at once (its sending threads),
            # and how many due deliveries one statement claims for them.
            "DELIVERY_CONCURRENCY": _env_int("DELIVERY_CONCURRENCY", 64),
            "DELIVERY_CLAIM_BATCH": _env_int("DELIVERY_CLAIM_BATCH", 64),
            # How long a worker's claim on an inbound event or a message send
            # lasts: a worker that dies mid-job costs at most this plus a sweep.
            "PROCESSING_LEASE_SECONDS": _env_float("PROCESSING_LEASE_SECONDS", 40.0),
            # An inbound event still only received after this long lost its hand-off
            # to the workers (Redis restarted): the stalled-event sweep queues it again.
            "STALLED_HANDOFF_SECONDS": _env_float("STALLED_HANDOFF_SECONDS", 60.0),
            # Seconds a worker keeps settings every inbound message reads and
            # people seldom change (a WhatsApp desk's opening hours); 0: read each time.
            "CONFIGURATION_CACHE_SECONDS": _env_float("CONFIGURATION_CACHE_SECONDS", 5.0),
            # Inbound events that waited together go to a worker as one job of up to
            # this many (each still processed and committed on its own); 1: a job each.
            "WEBHOOK_BATCH_SIZE": _env_int("WEBHOOK_BATCH_SIZE", 20),
            # A worker woken this soon after its last claim of inbound events waits
            # until this long after it, so the events of a busy moment are claimed
            # and processed together; 0: every wake-up claims at once.
            "WEBHOOK_GATHER_SECONDS": _env_float("WEBHOOK_GATHER_SECONDS", 0.2),
            # Seconds between a web process's looks at its live sockets: one whose
            # user was deactivated, whose sessions ended or whose role or team
            # changed is dropped (app/platform/live_sessions.py); 0: no periodic look.
            # Errors reported to Sentry (app/platform/error_reports.py), scrubbed; off unless set.
            "SENTRY_DSN": _env("SENTRY_DSN", "") or None,
            "SENTRY_ENVIRONMENT": _env("SENTRY_ENVIRONMENT", "production"),
            # Who may read /metrics (app/platform/metrics.py): a bearer token, or these networks.
            "METRICS_TOKEN": _env("METRICS_TOKEN", "") or None,
            "METRICS_ALLOWED_NETWORKS": _env("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128"),
            "LIVE_SESSION_CHECK_SECONDS": _env_float("LIVE_SESSION_CHECK_SECONDS", 30.0),
            # Live events (app/platform/live_queues.py): everything a connection is owed
            # within this many milliseconds goes out as one frame (0: each at once);
            # a dropped page may resume its numbered events for this many seconds, and
            # the web process keeps at most this many recent events to resume from.
            "LIVE_GATHER_MS": _env_float("LIVE_GATHER_MS", 100.0),
            "LIVE_QUEUE_KEEP_SECONDS": _env_float("LIVE_QUEUE_KEEP_SECONDS", 180.0),
            "LIVE_QUEUE_MAX_EVENTS": _env_int("LIVE_QUEUE_MAX_EVENTS", 50_000),
            # Seconds an agent's reply is held after Send, while "Undo" can still
            # withdraw it; 0 sends at once.
            "SEND_UNDO_SECONDS": _env_float("SEND_UNDO_SECONDS", 5.0),
            # Seconds a technician's status tap or quick reply on the phone (/m/)
            # waits before anything leaves, while "Undo" can still call it off; 0: at once.
            "VISIT_UNDO_SECONDS": _env_float("VISIT_UNDO_SECONDS", 8.0),
            # An order to review or approve that has waited longer than this many
            # working hours (the default business calendar) is marked on /orders.
            "ORDER_WAIT_HOURS": _env_float("ORDER_WAIT_HOURS", 4.0),
            # Customer satisfaction (app/conversations/csat): ask a customer for a 1-5 rating when
            # their conversation is resolved, at most once per CSAT_QUIET_DAYS.
            "CSAT_ENABLED": _env("CSAT_ENABLED", "1") not in ("0", "false", "no", "off"),
            "CSAT_QUIET_DAYS": _env_int("CSAT_QUIET_DAYS", 30),
            # The customer's personal link (/t/<token>, app/orders/customer_page): it
            # opens nothing this many days after its order completed or was cancelled,
            # and one address may open such pages this many times a minute.
            "CUSTOMER_LINK_DAYS_AFTER_COMPLETION": _env_int(
                "CUSTOMER_LINK_DAYS_AFTER_COMPLETION", 30
            ),
            "CUSTOMER_LINK_REQUESTS_PER_MINUTE": _env_int("CUSTOMER_LINK_REQUESTS_PER_MINUTE", 30),
            # The customer moves their visit on their page until this many working
            # days (Mon-Fri, public holidays aside) before it; after, they ask the
            # desk to call them back (app/orders/customer_page/moving.py).
            "CUSTOMER_MOVE_CUTOFF_WORKING_DAYS": _env_int("CUSTOMER_MOVE_CUTOFF_WORKING_DAYS", 2),
            "ALLOW_PRIVATE_WEBHOOK_URLS": _env("ALLOW_PRIVATE_WEBHOOK_URLS") == "1",
            # Mail posted straight into the inbox (README, "See a message arrive"):
            # on for the SQLite demo of `make run`, off on a deployment unless asked,
            # so a server that simply uses no Outlook takes no anonymous mail.
            "SANDBOX_MAIL_INTAKE": _env(
                "SANDBOX_MAIL_INTAKE", "1" if is_sqlite(_env("DATABASE_URL", default_db)) else "0"
            )
            == "1",
            "SENDGRID_WEBHOOK_PUBLIC_KEY": _env("SENDGRID_WEBHOOK_PUBLIC_KEY"),
            # Web Push to the technician's phone (app/orders/mobile/push.py): the VAPID key
            # pair (`flask push-keys` makes one) and a mailto:/https: contact for
            # the push services. Without both keys push is off and its button hidden.
            "VAPID_PUBLIC_KEY": _env("VAPID_PUBLIC_KEY"),
            "VAPID_PRIVATE_KEY": _env("VAPID_PRIVATE_KEY"),
            "VAPID_SUBJECT": _env("VAPID_SUBJECT", "mailto:support@chargecars.nl"),
            "ATTACHMENTS_DIR": _env("ATTACHMENTS_DIR", str(Path(instance_path) / "attachments")),
            "PORT": port,
            "DEFAULT_LANGUAGE": default_language(),
            # Sign-in protection: this many failures lock an account for
            # LOGIN_LOCKOUT_SECONDS; the same budget applies per client address.
            "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
            "LOGIN_LOCKOUT_SECONDS": _env_int("LOGIN_LOCKOUT_SECONDS", 900),
            # How many proxies (load balancers) in front of the app append to
            # X-Forwarded-For/-Proto. 0 trusts none: a client's own header is
            # ignored and the throttle keys on the connecting address.
            "TRUSTED_PROXY_HOPS": _env_int("TRUSTED_PROXY_HOPS", 0),
            # "Keep me signed in": days a remembered browser stays signed in
            # without being used (each use renews it).
            "REMEMBER_ME_DAYS": _env_int("REMEMBER_ME_DAYS", 30),
            "INBOX_PAGE_SIZE": 50,
            # The largest request body, refused with 413 from its Content-Length
            # (app/platform/security/bodies.py); upload routes declare their own, larger limit.
            "MAX_CONTENT_LENGTH": _env_int("MAX_REQUEST_BYTES", 2 * 1024 * 1024),
            # Form fields other than files held in memory, and parts of one form
            # (Flask's defaults, stated here so the limits are found in one place).
            "MAX_FORM_MEMORY_SIZE": 500_000,
            "MAX_FORM_PARTS": 1_000,
            # How far a signed webhook's timestamp may be from our clock (replays).
            "WEBHOOK_TOLERANCE_SECONDS": _env_int("WEBHOOK_TOLERANCE_SECONDS", 300),
            # Seconds between the sandbox's simulated delivered/read reports.
            "SANDBOX_DELIVERY_STEP_SECONDS": _env_float("SANDBOX_DELIVERY_STEP_SECONDS", 1.5),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SECURE": https,
            "REMEMBER_COOKIE_SECURE": https,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_TIME_LIMIT": None,
            # No ping on every checkout: create_app pings only connections idle
            # for a while (app.platform.database.ping_when_idle).
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
            **integration_urls(),
        }
        report_url_settings(config)
        return config
