"""The data model, split by domain. Importing this package registers every table."""

from app.platform.models.analytics import (
    AnalyticsDay,
    AnalyticsDirtyDay,
    AnalyticsMessageDaily,
    AnalyticsSenderDaily,
    AnalyticsTaskDaily,
    AnalyticsThreadDaily,
)
from app.platform.models.calendar import CalendarEvent, CalendarFollowUp, CalendarSubscription
from app.platform.models.calls import PhoneCall
from app.platform.models.communication import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
    ThreadRead,
)
from app.platform.models.crm import (
    SENT_ADDRESS_FIELDS,
    Address,
    Contact,
    ContactIdentity,
    ContactNameWord,
    Organization,
    SentAddress,
)
from app.platform.models.csat import CsatResponse
from app.platform.models.customer_links import CustomerLink, CustomerPhoto
from app.platform.models.drafts import MessageDraft
from app.platform.models.identity import ApiToken, ApiUsageLog, Team, User
from app.platform.models.intake import (
    CustomerFeedback,
    FormSubmission,
    IntakeForm,
    OrderDraft,
    Payment,
)
from app.platform.models.integrations import (
    FieldMapping,
    Integration,
    PlatformEvent,
    SyncJob,
    SyncRecord,
    WebhookEndpoint,
)
from app.platform.models.invoices import OrderInvoice, PaymentRefund
from app.platform.models.mailboxes import OutlookMailbox
from app.platform.models.merges import ContactMerge, ConversationMerge
from app.platform.models.mobile import MobileAction, PushDelivery, PushSubscription
from app.platform.models.orders import (
    Article,
    Commission,
    LineItem,
    Order,
    OrderNumberCounter,
    OrderStatusTransition,
    PartnerSkuMapping,
)
from app.platform.models.partners import PartnerApiUsage, PartnerIdempotencyKey, PartnerIntegration
from app.platform.models.planning import (
    PlanProposal,
    ProposalVisit,
    TechnicianAbsence,
    TechnicianBase,
    TechnicianSchedule,
    Visit,
    VisitNotice,
    VisitTechnician,
)
from app.platform.models.platform import (
    AuditLog,
    DeliveryAttempt,
    InboundWebhookEvent,
    Notification,
    OutboundDelivery,
    ProviderStatus,
    SandboxSend,
)
from app.platform.models.privacy import ErasureTombstone
from app.platform.models.routing import (
    RoutingModel,
    RoutingOutcome,
    RoutingSettings,
    RoutingSuggestion,
)
from app.platform.models.saved_views import SavedView
from app.platform.models.security import RecoveryCode, RememberToken, TotpCredential
from app.platform.models.signatures import VisitSignature
from app.platform.models.sla import BusinessCalendar, SlaAlert, SlaPolicy
from app.platform.models.suggestions import (
    HarvestedReply,
    ReplySuggestion,
    SuggestionFeedback,
    SuggestionOutcome,
    SuggestionSet,
)
from app.platform.models.templates import CommunicationTemplate
from app.platform.models.travel import TravelLeg
from app.platform.models.visits import PendingVisitMove, VisitCustomerNotice, VisitReminder
from app.platform.models.work_orders import WorkOrderLink, WorkOrderPhoto

__all__ = [
    "PlanProposal",
    "ProposalVisit",
    "TechnicianAbsence",
    "TechnicianBase",
    "TechnicianSchedule",
    "Visit",
    "VisitNotice",
    "VisitReminder",
    "VisitTechnician",
    "TravelLeg",
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
    "CustomerLink",
    "CustomerPhoto",
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
