"""One complete example per request body, shown by ``/api/docs`` and "Try it out".

Swagger UI builds an example from the schema when none is given, with
``"string"`` for every text, which the API then refuses (a phone number, a
postal code). These are real bodies instead: a test posts each one to its
operation and expects it accepted (``tests/integrations/test_openapi_examples.py``), so an
example cannot drift from what the API takes. Identifiers that must exist (an
order number, a conversation) are the ones that test creates first.
"""

from __future__ import annotations

from pydantic import BaseModel

from app.conversations.workspace.call_schemas import CallIn
from app.integrations.api_schemas import SyncStartIn, WebhookEndpointIn, WebhookEndpointPatch
from app.orders.core.api_schemas import OrderStatusChangeIn
from app.orders.external.schemas import SendBulkEmailIn, SendEmailIn, SendWhatsAppIn
from app.orders.make.schemas import CustomerFeedback, OrderCreated, PaymentReceived, VisitCompleted
from app.orders.partners.order_schemas import CancelIn, OrderChangeIn
from app.orders.partners.schemas import IntegrationConfigIn, PartnerOrderIn, PartnerStatusUpdateIn

PARTNER_ORDER_ID = "VLV-2026-789123"
ORDER_NUMBER = "CC-2026-00001"
THREAD_ID = "3f0c1d9e-8b7a-4c55-9a51-2f4d6e8b9c10"

REQUEST_EXAMPLES: dict[type[BaseModel], dict] = {
    PartnerOrderIn: {
        "partner_order_id": PARTNER_ORDER_ID,
        "partner_customer_id": "CUST-456789",
        "dealer_group_id": "VAN_MOSSEL_WEST",
        "purchase_order_number": "PO-20260601-001",
        "customer": {
            "name": "Jan Janssen",
            "email": "jan@example.com",
            "phone": "+31612345678",
            "address": {
                "street": "Hoofdstraat",
                "house_number": "123",
                "postal_code": "1012AB",
                "city": "Amsterdam",
            },
        },
        "line_items": [
            {
                "sku": "WALLBOX-11KW",
                "description": "Wallbox 11kW charging station",
                "quantity": 1,
                "partner_item_id": "VLV-WALLBOX-001",
            }
        ],
        "installation_preferences": {
            "preferred_date": "2026-06-15",
            "time_preference": "morning",
            "access_notes": "Garage access via side door",
        },
    },
    OrderChangeIn: {
        "customer": {"phone": "+31612345679"},
        "installation_preferences": {
            "preferred_date": "2026-06-22",
            "time_preference": "afternoon",
        },
    },
    CancelIn: {"reason": "The customer bought a house elsewhere"},
    PartnerStatusUpdateIn: {
        "partner_order_id": PARTNER_ORDER_ID,
        "partner_customer_id": "CUST-456789",
        "status": "ON_HOLD",
        "timestamp": "2026-06-01T10:30:00Z",
        "notes": "The customer asked to wait until the car is delivered",
    },
    IntegrationConfigIn: {
        "integration_name": "volvo_dealer_api",
        "api_base_url": "https://api.volvo-dealer.example/v1",
        "api_version": "v1",
        "authentication_type": "bearer_token",
        "webhook_url": "https://partner.example.com/webhooks/chargecars",
        "webhook_events": ["order_created", "visit_scheduled", "installation_completed"],
        "status_mapping": {
            "chargecars_to_partner": {
                "new": "RECEIVED",
                "approved": "CONFIRMED",
                "scheduled": "PLANNED",
                "in_progress": "IN_PROGRESS",
                "completed": "DELIVERED",
                "on_hold": "ON_HOLD",
            },
            "partner_to_chargecars": {"ON_HOLD": "on_hold"},
        },
        "alert_email": "integrations@partner.example.com",
    },
    OrderCreated: {
        "execution_id": "4815162342",
        "customer": {
            "name": "Petra de Vries",
            "email": "petra@example.com",
            "phone": "+31687654321",
            "address": {
                "street": "Oudegracht",
                "house_number": "5a",
                "postal_code": "3511AB",
                "city": "Utrecht",
            },
        },
        "products": [{"sku": "ALF-EVE-S-11KW", "quantity": 1}],
        "notes": "Charger beside the front door",
    },
    VisitCompleted: {
        "execution_id": "4815162343",
        "order_number": ORDER_NUMBER,
        "completed_at": "2026-06-15T14:05:00+02:00",
        "technician": "Sven Bakker",
        "notes": "Installed and tested",
    },
    PaymentReceived: {
        "execution_id": "4815162344",
        "order_number": ORDER_NUMBER,
        "amount": "1644.00",
        "currency": "EUR",
        "payment_reference": "tr_WDqYK6vllg",
        "method": "ideal",
        "paid_at": "2026-06-16T09:12:00+02:00",
    },
    CustomerFeedback: {
        "execution_id": "4815162345",
        "order_number": ORDER_NUMBER,
        "score": 5,
        "scale": 5,
        "comment": "Quick and tidy work",
        "feedback_id": "resp_83hd",
    },
    SendWhatsAppIn: {
        "messaging_product": "whatsapp",
        "to": "31687654321",
        "type": "template",
        "template": {
            "name": "order_status_update",
            "language": {"code": "nl"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": ORDER_NUMBER},
                        {"type": "text", "text": "Ingepland"},
                    ],
                }
            ],
        },
    },
    SendEmailIn: {
        "to": "jan@example.com",
        "template_id": "order_confirmation",
        "dynamic_data": {"customer_name": "Jan Janssen", "order_id": ORDER_NUMBER},
        "category": "order_confirmation",
    },
    SendBulkEmailIn: {
        "list_id": "customers_with_open_orders",
        "template_id": "d-planning-update-2026",
    },
    CallIn: {
        "thread_id": THREAD_ID,
        "direction": "outbound",
        "outcome": "reached",
        "duration": "4:12",
        "notes": "Agreed on the 15th, in the morning",
    },
    WebhookEndpointIn: {
        "url": "https://erp.example.com/hooks/switchboard",
        "events": ["job.created", "job.completed", "invoice.paid"],
        "description": "ERP order feed",
        "max_attempts": 5,
    },
    WebhookEndpointPatch: {"description": "ERP order feed (production)", "max_attempts": 3},
    SyncStartIn: {"object_type": "customers", "direction": "in"},
    OrderStatusChangeIn: {
        "to_status": "approved",
        "reason": "Adres nagekeken met de klant",
        "partner_note": "Order confirmed; we will propose a date within two days",
    },
}
