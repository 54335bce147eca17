"""Enumerations of the domain, with the values stored and sent.

They are stored as short strings (not native PostgreSQL enums) so that adding a
value later is a code change, not a locking ``ALTER TYPE`` migration.
"""

from __future__ import annotations

import enum


class StrEnum(str, enum.Enum):
    """An enum whose members compare and serialise as their string value."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]


class Role(StrEnum):
    AGENT = "agent"
    TECHNICIAN = "technician"
    TEAM_LEAD = "team_lead"
    MANAGER = "manager"
    ADMIN = "admin"
    # A partner organisation's own staff: the partner portal (/portal) only,
    # scoped to their organisation and the sub-partners below it.
    PARTNER = "partner"


class Availability(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"


class OrganizationType(StrEnum):
    CUSTOMER_INDIVIDUAL = "customer_individual"
    CUSTOMER_BUSINESS = "customer_business"
    PARTNER = "partner"
    SUPPLIER = "supplier"
    INTERNAL = "internal"


class BusinessEntity(StrEnum):
    CHARGECARS = "chargecars"
    LADERTHUIS = "laderthuis"
    METERKASTTHUIS = "meterkastthuis"
    ZAPTECSHOP = "zaptecshop"
    RATIOSHOP = "ratioshop"


class TemplateBusinessEntity(StrEnum):
    CHARGECARS = "chargecars"
    LADERTHUIS = "laderthuis"
    METERKASTTHUIS = "meterkastthuis"
    ZAPTECSHOP = "zaptecshop"
    RATIOSHOP = "ratioshop"
    ALL = "all"


class ContactType(StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


class AddressType(StrEnum):
    INSTALLATION = "installation"
    BILLING = "billing"
    SHIPPING = "shipping"
    VISITING = "visiting"


class AddressValidation(StrEnum):
    UNVALIDATED = "unvalidated"
    VALID = "valid"
    INVALID = "invalid"
    NEEDS_REVIEW = "needs_review"


class ArticleType(StrEnum):
    WALLBOX = "wallbox"
    INSTALLATION = "installation"
    ACCESSORY = "accessory"
    SERVICE = "service"


class OrderStatus(StrEnum):
    NEW = "new"
    QUOTE_SENT = "quote_sent"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class OrderSource(StrEnum):
    PARTNER_API = "partner_api"
    FILLOUT = "fillout"
    MAKE = "make"
    EMAIL = "email"
    MANUAL = "manual"
    # A work order from a property-management integration (ROVIDA, Yardi).
    INTEGRATION = "integration"


class LineItemStatus(StrEnum):
    QUOTED = "quoted"
    CONFIRMED = "confirmed"
    DELIVERED = "delivered"
    INSTALLED = "installed"
    CANCELLED = "cancelled"


class CommissionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    CANCELLED = "cancelled"


# --- the five communication tables ----------------------------------------


class ChannelType(StrEnum):
    EMAIL_OUTLOOK = "email_outlook"
    WHATSAPP_BUSINESS = "whatsapp_business"
    INTERNAL_COMMENT = "internal_comment"
    INTERNAL_TASK = "internal_task"
    INTERNAL_TICKET = "internal_ticket"
    SMS = "sms"
    PHONE_CALL = "phone_call"


class ThreadType(StrEnum):
    CUSTOMER_SUPPORT = "customer_support"
    PARTNER_INQUIRY = "partner_inquiry"
    INSTALLATION_COORDINATION = "installation_coordination"
    TECHNICAL_ISSUE = "technical_issue"
    SALES_INQUIRY = "sales_inquiry"
    COMPLAINT = "complaint"
    INTERNAL_TASK = "internal_task"
    PROJECT_DISCUSSION = "project_discussion"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"
    CRITICAL = "critical"


class ThreadStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_INTERNAL = "waiting_internal"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class MessageType(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL_NOTE = "internal_note"
    SYSTEM_NOTIFICATION = "system_notification"
    AUTO_RESPONSE = "auto_response"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    BOUNCED = "bounced"


class TaskType(StrEnum):
    FOLLOW_UP = "follow_up"
    CALLBACK = "callback"
    SEND_EMAIL = "send_email"
    SCHEDULE_VISIT = "schedule_visit"
    ESCALATE = "escalate"
    RESEARCH = "research"
    DOCUMENTATION = "documentation"
    APPROVAL_REQUEST = "approval_request"
    OTHER = "other"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TemplateCategory(StrEnum):
    CUSTOMER_SERVICE = "customer_service"
    INSTALLATION_SCHEDULING = "installation_scheduling"
    TECHNICAL_SUPPORT = "technical_support"
    SALES_INQUIRY = "sales_inquiry"
    COMPLAINT_RESPONSE = "complaint_response"
    FOLLOW_UP = "follow_up"
    AUTO_RESPONSE = "auto_response"
    INTERNAL_NOTIFICATION = "internal_notification"


class TemplateChannelType(StrEnum):
    EMAIL_OUTLOOK = "email_outlook"
    WHATSAPP_BUSINESS = "whatsapp_business"
    INTERNAL_COMMENT = "internal_comment"
    SMS = "sms"
    ANY = "any"


# --- integration plumbing --------------------------------------------------


class ProcessingState(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class DeliveryKind(StrEnum):
    PARTNER_CALLBACK = "partner_callback"
    MAKE_SCENARIO = "make_scenario"
    WEBHOOK_ENDPOINT = "webhook_endpoint"
    TEAMS_ALERT = "teams_alert"


class OutboundState(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AuthenticationType(StrEnum):
    API_KEY = "api_key"
    OAUTH2 = "oauth2"
    BASIC_AUTH = "basic_auth"
    BEARER_TOKEN = "bearer_token"  # noqa: S105  (a method name, not a secret)


class SyncFrequency(StrEnum):
    REAL_TIME = "real_time"
    EVERY_15_MINUTES = "every_15_minutes"
    HOURLY = "hourly"
    DAILY = "daily"


class TokenKind(StrEnum):
    PERSONAL = "personal"
    PARTNER = "partner"


class KeyMode(StrEnum):
    """Stripe's livemode: a test key makes test orders, kept apart from the real work."""

    LIVE = "live"
    TEST = "test"


class KeyScope(StrEnum):
    """What a partner key may do: read only, or read and write."""

    READ = "read"
    WRITE = "write"


class DraftState(StrEnum):
    PENDING_REVIEW = "pending_review"
    CREATED = "created"
    REJECTED = "rejected"


# --- logged phone calls ----------------------------------------


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    CALLBACK_REQUESTED = "callback_requested"
