"""The 13 providers the integration hub knows, as data.

Everything that differs between providers — category, how they authenticate,
which objects sync, which directions make sense, where their OAuth endpoints and
API live — is a field of :class:`Provider`. Code asks the registry; it never
branches on a provider's name. URLs are config keys (``app/platform/config.py``) so tests
and staging point them at fake servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from app.platform.config import API_BASE, OAUTH_AUTHORIZE_URL, OAUTH_TOKEN_URL, provider_url_key

CATEGORIES: dict[str, Any] = {  # labels are lazy: read in the reader's language
    "crm": "CRM",
    "accounting": _l("Accounting"),
    "property": _l("Property"),
    "payments": _l("Payments"),
}
AUTH_METHODS: dict[str, Any] = {"oauth2": "OAuth 2.0", "api_key": _l("API key")}
DIRECTIONS: dict[str, Any] = {
    "one_way_in": _l("One-way in"),
    "one_way_out": _l("One-way out"),
    "two_way": _l("Two-way"),
}
FREQUENCIES: dict[str, Any] = {
    "real_time": _l("Real time (webhooks)"),
    "hourly": _l("Hourly"),
    "daily": _l("Daily"),
    "weekly": _l("Weekly"),
    "manual": _l("Manual"),
}
STATUSES = ("active", "inactive", "error")

ALL_DIRECTIONS = ("one_way_in", "one_way_out", "two_way")


@dataclass(frozen=True)
class Setting:
    """A non-secret setting only some providers have, kept in the integration's ``config``."""

    name: str
    label: Any  # lazy text
    hint: Any = ""
    placeholder: str = ""
    # The setting is how we know the provider's calls (no signature): the page shows
    # the URL the admin gives the provider beside it.
    names_the_sender: bool = False


# Salesforce signs no outbound message: its organization ID is how we know the sender.
ORGANIZATION_ID = Setting(
    "organization_id",
    _l("Salesforce organization ID"),
    _l("(outbound messages from any other organization are refused)"),
    "00D…",
    names_the_sender=True,
)


@dataclass(frozen=True)
class SyncFilter:
    """One of a provider's own sync filters ("custom filters per provider").

    ``kind`` says what a value is: ``choice`` (one of ``choices``), ``flag`` (on or
    off), ``email`` (an address) or ``params`` (query parameters, ``name=value``
    per line in the form). The connector owns how it reaches the provider.
    """

    key: str
    label: Any  # lazy text
    kind: str
    choices: tuple[str, ...] = ()
    help: Any = ""


# The generic REST connector sends these as they are with every list call.
QUERY_PARAMS = SyncFilter(
    "query",
    _l("Query parameters"),
    "params",
    help=_l("Sent with every list request, one name=value per line."),
)
HUBSPOT_LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)


@dataclass(frozen=True)
class WebhookVerification:
    """How a provider's webhook calls prove they come from it, and where the secret lives.

    ``scheme`` names a verifier of :mod:`app.integrations.provider_webhooks.receiving`;
    ``credential`` is the key in ``Integration.credentials`` holding the
    secret an admin copies from the provider's console (``help`` says where).
    ``pattern`` (a full match) and ``pattern_hint`` catch a pasted wrong value.
    """

    scheme: str
    credential: str
    label: Any  # lazy text
    help: Any  # lazy text
    pattern: str = r"\S{8,}"
    pattern_hint: Any = _l("at least 8 characters, no spaces")


@dataclass(frozen=True)
class Provider:
    """One outside system we can connect to.

    ``api_base_key``, ``oauth_authorize_url_key`` and ``oauth_token_url_key``
    name config keys, read at call time, all derived from ``key`` by one rule
    (:func:`app.platform.config.provider_url_key`: ``zoho_crm`` → ``ZOHO_CRM_API_BASE``).
    ``connector`` picks the connector class: ``hubspot``, ``quickbooks``,
    ``stripe``, ``rovida`` and ``yardi`` are real ones, the rest run through the
    generic REST connector configured per integration. ``webhook`` says how its
    webhooks are verified.
    """

    key: str
    name: str
    category: str
    auth_method: str
    objects: tuple[str, ...]
    description: Any  # lazy text
    directions: tuple[str, ...] = ALL_DIRECTIONS
    default_frequency: str = "daily"
    connector: str = "generic"
    webhook: WebhookVerification | None = None
    oauth_scopes: tuple[str, ...] = ()
    # How the token endpoint wants our client secret: "basic" (HTTP Basic) or "post" in
    # the form body (RFC 6749 §2.3.1).
    client_auth: str = "basic"
    # Extra query parameters some authorize endpoints need (Salesforce's prompt, …).
    oauth_extra_params: dict[str, str] = field(default_factory=dict)
    docs_url: str = ""
    settings: tuple[Setting, ...] = ()
    # Sync settings: the provider's own filters, and whether its lists can
    # include deleted/archived records at all (Stripe's never do).
    sync_filters: tuple[SyncFilter, ...] = (QUERY_PARAMS,)
    lists_deleted: bool = True
    # What the date range compares: "modified", or "created" where the provider's
    # lists filter on creation only (Stripe).
    date_range_basis: str = "modified"

    @property
    def is_oauth(self) -> bool:
        return self.auth_method == "oauth2"

    @property
    def api_base_key(self) -> str:
        return provider_url_key(self.key, API_BASE)

    @property
    def oauth_authorize_url_key(self) -> str | None:
        return provider_url_key(self.key, OAUTH_AUTHORIZE_URL) if self.is_oauth else None

    @property
    def oauth_token_url_key(self) -> str | None:
        return provider_url_key(self.key, OAUTH_TOKEN_URL) if self.is_oauth else None

    @property
    def category_label(self) -> str:
        return str(CATEGORIES[self.category])

    @property
    def auth_label(self) -> str:
        return str(AUTH_METHODS[self.auth_method])


_PROVIDERS: tuple[Provider, ...] = (
    # --- CRM ---------------------------------------------------------------------
    Provider(
        key="salesforce",
        client_auth="post",
        name="Salesforce",
        category="crm",
        auth_method="oauth2",
        objects=("accounts", "contacts", "opportunities"),
        description=_l("Accounts, contacts and opportunities; cross-referrals as opportunities."),
        default_frequency="hourly",
        oauth_scopes=("api", "refresh_token"),
        docs_url="https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
        settings=(ORGANIZATION_ID,),
    ),
    Provider(
        key="hubspot",
        client_auth="post",
        name="HubSpot",
        category="crm",
        auth_method="oauth2",
        objects=("contacts", "companies", "deals"),
        description=_l("Contacts, companies and deals, with real-time webhooks."),
        default_frequency="real_time",
        connector="hubspot",
        sync_filters=(
            SyncFilter(
                "lifecycle_stage", _l("Lifecycle stage"), "choice", HUBSPOT_LIFECYCLE_STAGES
            ),
        ),
        oauth_scopes=(
            "crm.objects.contacts.read",
            "crm.objects.contacts.write",
            "crm.objects.companies.read",
            "crm.objects.companies.write",
            "crm.objects.deals.read",
            "crm.objects.deals.write",
        ),
        docs_url="https://developers.hubspot.com/docs/api/crm/understanding-the-crm",
        webhook=WebhookVerification(
            scheme="hubspot_v3",
            credential="client_secret",
            label=_l("Client secret"),
            help=_l(
                "HubSpot signs its webhooks (X-HubSpot-Signature-v3) with the app's client "
                "secret: developer account → Apps → your app → Auth → Client secret."
            ),
        ),
    ),
    Provider(
        key="pipedrive",
        name="Pipedrive",
        category="crm",
        auth_method="oauth2",
        objects=("persons", "organizations", "deals"),
        description=_l("Persons, organizations and deals."),
        default_frequency="hourly",
        docs_url="https://developers.pipedrive.com/docs/api/v1",
        webhook=WebhookVerification(
            scheme="basic_auth",
            credential="webhook_password",
            label=_l("Webhook user:password"),
            help=_l(
                "Pipedrive sends the webhook's HTTP Auth user name and password (Settings → "
                "Tools and apps → Webhooks → your webhook). Enter them as user:password."
            ),
            pattern=r"[^:\s]+:\S{8,}",
            pattern_hint=_l("user:password, the password at least 8 characters"),
        ),
    ),
    Provider(
        key="zoho_crm",
        client_auth="post",
        name="Zoho CRM",
        category="crm",
        auth_method="oauth2",
        objects=("accounts", "contacts", "deals"),
        description=_l("Accounts, contacts and deals."),
        default_frequency="hourly",
        oauth_scopes=("ZohoCRM.modules.ALL",),
        oauth_extra_params={"access_type": "offline"},
        docs_url="https://www.zoho.com/crm/developer/docs/api/v6/",
        webhook=WebhookVerification(
            scheme="zoho_token",
            credential="notification_token",
            label=_l("Notification token"),
            help=_l(
                "The token you gave Zoho CRM when enabling notifications (actions/watch, "
                "field token); Zoho sends it back in every notification."
            ),
            pattern=r"\S{8,50}",
            pattern_hint=_l("8 to 50 characters, no spaces"),
        ),
    ),
    # --- accounting --------------------------------------------------------------
    Provider(
        key="quickbooks",
        name="QuickBooks Online",
        category="accounting",
        auth_method="oauth2",
        objects=("customers", "invoices", "payments"),
        description=_l("Customers, invoices and payments; a completed job becomes an invoice."),
        default_frequency="real_time",
        connector="quickbooks",
        sync_filters=(
            SyncFilter(
                "active_only",
                _l("Active customers only"),
                "flag",
                help=_l("Leaves out customers made inactive in QuickBooks."),
            ),
        ),
        oauth_scopes=("com.intuit.quickbooks.accounting",),
        docs_url="https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice",
        webhook=WebhookVerification(
            scheme="intuit",
            credential="verifier_token",
            label=_l("Webhook verifier token"),
            help=_l(
                "QuickBooks signs its notifications (intuit-signature) with the verifier "
                "token: Intuit Developer → your app → Webhooks → Show verifier token."
            ),
        ),
    ),
    Provider(
        key="xero",
        name="Xero",
        category="accounting",
        auth_method="oauth2",
        objects=("contacts", "invoices", "payments"),
        description=_l("Contacts, invoices and payments."),
        oauth_scopes=("offline_access", "accounting.transactions", "accounting.contacts"),
        docs_url="https://developer.xero.com/documentation/api/accounting/overview",
        webhook=WebhookVerification(
            scheme="xero",
            credential="webhook_secret",
            label=_l("Webhooks key"),
            help=_l(
                "Xero signs its webhooks (x-xero-signature) with the webhooks key: Xero "
                "Developer → My Apps → your app → Webhooks → Webhooks key."
            ),
        ),
    ),
    Provider(
        key="sage",
        name="Sage",
        category="accounting",
        auth_method="api_key",
        objects=("customers", "invoices", "accounts"),
        description=_l("Customers, invoices and accounts; scheduled daily sync."),
        docs_url="https://developer.sage.com/accounting/reference/",
    ),
    Provider(
        key="freshbooks",
        client_auth="post",
        name="FreshBooks",
        category="accounting",
        auth_method="oauth2",
        objects=("clients", "invoices", "payments"),
        description=_l("Clients, invoices and payments."),
        docs_url="https://www.freshbooks.com/api/start",
        webhook=WebhookVerification(
            scheme="freshbooks",
            credential="webhook_secret",
            label=_l("Webhook verifier"),
            help=_l(
                "FreshBooks signs its webhooks (X-FreshBooks-Hmac-SHA256) with its callback's "
                "verifier. It is set by itself once FreshBooks confirms the callback.verify it "
                "posts to the webhook URL; enter it here only for a callback verified elsewhere."
            ),
        ),
    ),
    # --- property management -----------------------------------------------------
    Provider(
        key="rovida",
        name="ROVIDA",
        category="property",
        auth_method="api_key",
        objects=("properties", "units", "work_orders", "tenants"),
        description=_l("Properties, units, work orders and tenants; work orders become jobs."),
        connector="rovida",
        webhook=WebhookVerification(
            scheme="rovida",
            credential="webhook_secret",
            label=_l("Webhook signing secret"),
            help=_l(
                "The secret ROVIDA signs its work-order notices with (Rovida-Signature); "
                "give ROVIDA the same one when you register the webhook URL."
            ),
        ),
    ),
    Provider(
        key="yardi",
        name="Yardi",
        category="property",
        auth_method="api_key",
        objects=("properties", "residents", "work_orders"),
        description=_l("Properties, residents and work orders."),
        connector="yardi",
    ),
    # --- payments ----------------------------------------------------------------
    Provider(
        key="stripe",
        name="Stripe",
        category="payments",
        # Stripe's secret keys are bearer API keys; Connect OAuth is not needed here.
        auth_method="api_key",
        objects=("customers", "invoices", "payment_intents"),
        description=_l("Customers, invoices and payment intents; payments mark invoices paid."),
        default_frequency="real_time",
        connector="stripe",
        sync_filters=(
            SyncFilter(
                "email",
                _l("Customer e-mail"),
                "email",
                help=_l("Only the customer with this e-mail address (exact, as Stripe matches)."),
            ),
        ),
        # Stripe's lists leave deleted objects out; there is no flag to ask for them.
        lists_deleted=False,
        date_range_basis="created",
        docs_url="https://docs.stripe.com/api",
        webhook=WebhookVerification(
            scheme="stripe",
            credential="webhook_secret",
            label=_l("Webhook signing secret"),
            help=_l(
                "Stripe Dashboard → Developers → Webhooks → your endpoint → Signing secret "
                "(starts with whsec_)."
            ),
            pattern=r"whsec_\S{8,}",
            pattern_hint=_l("starts with whsec_"),
        ),
    ),
    Provider(
        key="square",
        client_auth="post",
        name="Square",
        category="payments",
        auth_method="oauth2",
        objects=("customers", "payments"),
        description=_l("Customers and transactions from the point of sale."),
        directions=("one_way_in", "two_way"),
        oauth_scopes=("CUSTOMERS_READ", "CUSTOMERS_WRITE", "PAYMENTS_READ"),
        docs_url="https://developer.squareup.com/reference/square",
        webhook=WebhookVerification(
            scheme="square",
            credential="webhook_secret",
            label=_l("Signature key"),
            help=_l(
                "Square signs its notifications (x-square-hmacsha256-signature) with the "
                "subscription's signature key: Developer Console → your app → Webhooks → "
                "Subscriptions → your subscription → Signature key."
            ),
        ),
    ),
    Provider(
        key="financeit",
        name="Financeit",
        category="payments",
        auth_method="api_key",
        objects=("applications",),
        description=_l("Consumer financing applications and their approvals."),
        directions=("one_way_in",),
    ),
)

PROVIDERS: dict[str, Provider] = {provider.key: provider for provider in _PROVIDERS}


# Every field a provider's webhook secret may be kept in (for the form and the API).
WEBHOOK_CREDENTIALS: frozenset[str] = frozenset(
    provider.webhook.credential for provider in _PROVIDERS if provider.webhook
)


def get_provider(key: str) -> Provider | None:
    return PROVIDERS.get(key)


def providers_by_category() -> dict[str, list[Provider]]:
    """Providers grouped in the dialog's tab order (CRM, Accounting, Property, Payments)."""
    grouped: dict[str, list[Provider]] = {category: [] for category in CATEGORIES}
    for provider in _PROVIDERS:
        grouped[provider.category].append(provider)
    return grouped
