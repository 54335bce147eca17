"""The data model, split by domain. Importing this package registers every table."""

from app.models.analytics import (
    AnalyticsDay,
    AnalyticsDirtyDay,
    AnalyticsMessageDaily,
    AnalyticsSenderDaily,
    AnalyticsTaskDaily,
    AnalyticsThreadDaily,
)
from app.models.calendar import CalendarEvent, CalendarFollowUp, CalendarSubscription
from app.models.calls import PhoneCall
from app.models.communication import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
    ThreadRead,
)
from app.models.crm import (
    SENT_ADDRESS_FIELDS,
    Address,
    Contact,
    ContactIdentity,
    ContactNameWord,
    Organization,
    SentAddress,
)
from app.models.csat import CsatResponse
from app.models.drafts import MessageDraft
from app.models.identity import ApiToken, ApiUsageLog, Team, User
from app.models.intake import (
    CustomerFeedback,
    FormSubmission,
    IntakeForm,
    OrderDraft,
    Payment,
)
from app.models.integrations import (
    FieldMapping,
    Integration,
    PlatformEvent,
    SyncJob,
    SyncRecord,
    WebhookEndpoint,
)
from app.models.invoices import OrderInvoice, PaymentRefund
from app.models.mailboxes import OutlookMailbox
from app.models.merges import ContactMerge, ConversationMerge
from app.models.mobile import MobileAction, PushDelivery, PushSubscription
from app.models.orders import (
    Article,
    Commission,
    LineItem,
    Order,
    OrderNumberCounter,
    OrderStatusTransition,
    PartnerSkuMapping,
)
from app.models.partners import PartnerApiUsage, PartnerIdempotencyKey, PartnerIntegration
from app.models.planning import (
    TechnicianAbsence,
    TechnicianSchedule,
    Visit,
    VisitNotice,
    VisitTechnician,
)
from app.models.platform import (
    AuditLog,
    DeliveryAttempt,
    InboundWebhookEvent,
    Notification,
    OutboundDelivery,
    ProviderStatus,
    SandboxSend,
)
from app.models.privacy import ErasureTombstone
from app.models.routing import RoutingModel, RoutingOutcome, RoutingSettings, RoutingSuggestion
from app.models.saved_views import SavedView
from app.models.security import RecoveryCode, RememberToken, TotpCredential
from app.models.signatures import VisitSignature
from app.models.sla import BusinessCalendar, SlaAlert, SlaPolicy
from app.models.suggestions import (
    HarvestedReply,
    ReplySuggestion,
    SuggestionFeedback,
    SuggestionOutcome,
    SuggestionSet,
)
from app.models.templates import CommunicationTemplate
from app.models.visits import PendingVisitMove, VisitCustomerNotice
from app.models.work_orders import WorkOrderLink, WorkOrderPhoto

__all__ = [
    "TechnicianAbsence",
    "TechnicianSchedule",
    "Visit",
    "VisitNotice",
    "VisitTechnician",
    "CalendarEvent",
    "CalendarFollowUp",
    "CalendarSubscription",
    "WorkOrderLink",
    "WorkOrderPhoto",
    "AnalyticsDay",
    "AnalyticsDirtyDay",
    "AnalyticsMessageDaily",
    "AnalyticsSenderDaily",
    "AnalyticsTaskDaily",
    "AnalyticsThreadDaily",
    "OutlookMailbox",
    "PendingVisitMove",
    "VisitCustomerNotice",
    "VisitSignature",
    "MobileAction",
    "PushDelivery",
    "PushSubscription",
    "SavedView",
    "FieldMapping",
    "Integration",
    "PlatformEvent",
    "SyncJob",
    "SyncRecord",
    "WebhookEndpoint",
    "CustomerFeedback",
    "FormSubmission",
    "IntakeForm",
    "OrderDraft",
    "OrderInvoice",
    "Payment",
    "PaymentRefund",
    "Address",
    "SENT_ADDRESS_FIELDS",
    "SentAddress",
    "ApiToken",
    "ApiUsageLog",
    "BusinessCalendar",
    "Article",
    "AuditLog",
    "Commission",
    "CommunicationChannel",
    "CommunicationMessage",
    "CommunicationTemplate",
    "CommunicationThread",
    "Contact",
    "CsatResponse",
    "ContactIdentity",
    "ContactNameWord",
    "ContactMerge",
    "ConversationMerge",
    "DeliveryAttempt",
    "InboundWebhookEvent",
    "InternalTask",
    "ThreadRead",
    "LineItem",
    "MessageDraft",
    "Notification",
    "Order",
    "OrderNumberCounter",
    "OrderStatusTransition",
    "Organization",
    "OutboundDelivery",
    "PartnerApiUsage",
    "PartnerIdempotencyKey",
    "PartnerIntegration",
    "PartnerSkuMapping",
    "PhoneCall",
    "ProviderStatus",
    "RoutingModel",
    "RoutingOutcome",
    "RoutingSettings",
    "RoutingSuggestion",
    "ErasureTombstone",
    "RecoveryCode",
    "RememberToken",
    "SandboxSend",
    "SlaAlert",
    "SlaPolicy",
    "HarvestedReply",
    "ReplySuggestion",
    "SuggestionFeedback",
    "SuggestionOutcome",
    "SuggestionSet",
    "Team",
    "TotpCredential",
    "User",
]
