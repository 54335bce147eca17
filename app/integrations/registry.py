"""The 13 providers the integration hub knows (seed 004), as data.

Everything that differs between providers — category, how they authenticate,
which objects sync, which directions make sense, where their OAuth endpoints and
API live — is a field of :class:`Provider`. Code asks the registry; it never
branches on a provider's name. URLs are config keys (``app/config.py``) so tests
and staging point them at fake servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

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
class SyncFilter:
    """One of a provider's own sync filters (seed 004: "custom filters per provider").

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
class Provider:
    """One outside system we can connect to.

    ``oauth_authorize_url_key`` / ``oauth_token_url_key`` / ``api_base_key`` name
    config keys, read at call time. ``connector`` picks the connector class:
    ``hubspot``, ``quickbooks`` and ``stripe`` are real ones, the rest run through
    the generic REST connector configured per integration.
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
    api_base_key: str | None = None
    oauth_authorize_url_key: str | None = None
    oauth_token_url_key: str | None = None
    oauth_scopes: tuple[str, ...] = ()
    # How the token endpoint wants our client secret: "basic" (HTTP Basic) or "post" in
    # the form body (RFC 6749 §2.3.1).
    client_auth: str = "basic"
    # Extra query parameters some authorize endpoints need (Salesforce's prompt, …).
    oauth_extra_params: dict[str, str] = field(default_factory=dict)
    docs_url: str = ""
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
    def category_label(self) -> str:
        return str(CATEGORIES[self.category])

    @property
    def auth_label(self) -> str:
        return str(AUTH_METHODS[self.auth_method])


def _oauth(prefix: str) -> dict[str, str]:
    return {
        "oauth_authorize_url_key": f"{prefix}_OAUTH_AUTHORIZE_URL",
        "oauth_token_url_key": f"{prefix}_OAUTH_TOKEN_URL",
    }


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
        api_base_key="SALESFORCE_API_BASE",
        oauth_scopes=("api", "refresh_token"),
        docs_url="https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
        **_oauth("SALESFORCE"),
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
        api_base_key="HUBSPOT_API_BASE",
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
        **_oauth("HUBSPOT"),
    ),
    Provider(
        key="pipedrive",
        name="Pipedrive",
        category="crm",
        auth_method="oauth2",
        objects=("persons", "organizations", "deals"),
        description=_l("Persons, organizations and deals."),
        default_frequency="hourly",
        api_base_key="PIPEDRIVE_API_BASE",
        docs_url="https://developers.pipedrive.com/docs/api/v1",
        **_oauth("PIPEDRIVE"),
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
        api_base_key="ZOHO_CRM_API_BASE",
        oauth_scopes=("ZohoCRM.modules.ALL",),
        oauth_extra_params={"access_type": "offline"},
        docs_url="https://www.zoho.com/crm/developer/docs/api/v6/",
        **_oauth("ZOHO"),
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
        api_base_key="QUICKBOOKS_API_BASE",
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
        **_oauth("QUICKBOOKS"),
    ),
    Provider(
        key="xero",
        name="Xero",
        category="accounting",
        auth_method="oauth2",
        objects=("contacts", "invoices", "payments"),
        description=_l("Contacts, invoices and payments."),
        api_base_key="XERO_API_BASE",
        oauth_scopes=("offline_access", "accounting.transactions", "accounting.contacts"),
        docs_url="https://developer.xero.com/documentation/api/accounting/overview",
        **_oauth("XERO"),
    ),
    Provider(
        key="sage",
        name="Sage",
        category="accounting",
        auth_method="api_key",
        objects=("customers", "invoices", "accounts"),
        description=_l("Customers, invoices and accounts; scheduled daily sync."),
        api_base_key="SAGE_API_BASE",
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
        api_base_key="FRESHBOOKS_API_BASE",
        docs_url="https://www.freshbooks.com/api/start",
        **_oauth("FRESHBOOKS"),
    ),
    # --- property management -----------------------------------------------------
    Provider(
        key="rovida",
        name="ROVIDA",
        category="property",
        auth_method="api_key",
        objects=("properties", "units", "work_orders", "tenants"),
        description=_l("Properties, units, work orders and tenants; work orders become jobs."),
        api_base_key="ROVIDA_API_BASE",
    ),
    Provider(
        key="yardi",
        name="Yardi",
        category="property",
        auth_method="api_key",
        objects=("properties", "residents", "work_orders"),
        description=_l("Properties, residents and work orders."),
        api_base_key="YARDI_API_BASE",
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
        api_base_key="STRIPE_API_BASE",
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
        api_base_key="SQUARE_API_BASE",
        oauth_scopes=("CUSTOMERS_READ", "CUSTOMERS_WRITE", "PAYMENTS_READ"),
        docs_url="https://developer.squareup.com/reference/square",
        **_oauth("SQUARE"),
    ),
    Provider(
        key="financeit",
        name="Financeit",
        category="payments",
        auth_method="api_key",
        objects=("applications",),
        description=_l("Consumer financing applications and their approvals."),
        directions=("one_way_in",),
        api_base_key="FINANCEIT_API_BASE",
    ),
)

PROVIDERS: dict[str, Provider] = {provider.key: provider for provider in _PROVIDERS}


def get_provider(key: str) -> Provider | None:
    return PROVIDERS.get(key)


def providers_by_category() -> dict[str, list[Provider]]:
    """Providers grouped in the dialog's tab order (CRM, Accounting, Property, Payments)."""
    grouped: dict[str, list[Provider]] = {category: [] for category in CATEGORIES}
    for provider in _PROVIDERS:
        grouped[provider.category].append(provider)
    return grouped
