"""Graph's JSON shapes for the fake: messages, attachments and notifications.

Shaped after the documented resources (message, fileAttachment,
changeNotification), with the properties Switchboard reads and a few it does
not, so a parser that trips over extra fields is caught too.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone


def graph_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_resource(
    message_id: str,
    *,
    mailbox: str,
    sender: str,
    received: datetime,
    name: str = "Klant",
    subject: str = "Vraag over mijn laadpaal",
    html: str = "<p>Hallo</p>",
    unique_html: str | None = None,
    conversation_id: str | None = None,
    internet_message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    cc: tuple[str, ...] = (),
    reply_to: tuple[str, ...] = (),
    to: tuple[str, ...] = (),
) -> dict:
    internet_message_id = internet_message_id or f"<{message_id}@mail.example>"
    headers = [
        {"name": "Received", "value": "from mail.example.nl (203.0.113.7) by EXCH01"},
        {"name": "Message-ID", "value": internet_message_id},
    ]
    for header, value in (("In-Reply-To", in_reply_to), ("References", references)):
        if value:
            headers.append({"name": header, "value": value})
    address = {"emailAddress": {"name": name, "address": sender}}
    return {
        "@odata.etag": 'W/"CQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAAEMTBu8"',
        "id": message_id,
        "receivedDateTime": graph_time(received),
        "sentDateTime": graph_time(received),
        "hasAttachments": False,
        "internetMessageId": internet_message_id,
        "subject": subject,
        "bodyPreview": "",
        "importance": "normal",
        "conversationId": conversation_id or f"conv-{message_id}",
        "isRead": False,
        "isDraft": False,
        "body": {"contentType": "html", "content": f"<html><body>{html}</body></html>"},
        "uniqueBody": {
            "contentType": "html",
            "content": f"<html><body>{unique_html or html}</body></html>",
        },
        "from": address,
        "sender": address,
        "toRecipients": [
            {"emailAddress": {"name": "Klantenservice" if a == mailbox else a, "address": a}}
            for a in (to or (mailbox,))
        ],
        "ccRecipients": [{"emailAddress": {"name": a, "address": a}} for a in cc],
        "replyTo": [{"emailAddress": {"name": a, "address": a}} for a in reply_to],
        "internetMessageHeaders": headers,
    }


def file_attachment(name: str, content_type: str, size: int, when: datetime) -> dict:
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "@odata.mediaContentType": content_type,
        "id": f"AAMkADatt-{uuid.uuid4().hex[:8]}",
        "lastModifiedDateTime": graph_time(when),
        "name": name,
        "contentType": content_type,
        "size": size,
        "isInline": False,
        "contentId": None,
        "contentBytes": "JVBERi0xLjQK",
    }


def change_notification(
    subscription: dict, message_id: str, *, user_guid: str, tenant_guid: str, client_state: str
) -> dict:
    resource = f"Users/{user_guid}/Messages/{message_id}"
    return {
        "subscriptionId": subscription["id"],
        "subscriptionExpirationDateTime": subscription["expirationDateTime"],
        "changeType": "created",
        "resource": resource,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": resource,
            "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
            "id": message_id,
        },
        "clientState": client_state,
        "tenantId": tenant_guid,
    }


def lifecycle_notification(
    event: str, subscription_id: str, *, expiry: str, client_state: str, tenant_guid: str
) -> dict:
    return {
        "lifecycleEvent": event,
        "subscriptionId": subscription_id,
        "subscriptionExpirationDateTime": expiry,
        "clientState": client_state,
        "tenantId": tenant_guid,
    }


def openid_configuration(base: str, issuer: str | None = None) -> dict:
    """The v2.0 OpenID discovery document MSAL reads before asking for a token.

    ``issuer`` defaults to the tenant's own; Entra's multi-tenant documents
    (``organizations``, ``common``) name ``https://…/{tenantid}/v2.0`` instead.
    """
    return {
        "issuer": issuer or f"{base}/v2.0",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": "EU",
    }


def selected(resource: dict, fields: str | None) -> dict:
    """Graph returns only the ``$select``ed properties (plus id and annotations)."""
    if not fields:
        return {
            k: v for k, v in resource.items() if k not in ("uniqueBody", "internetMessageHeaders")
        }
    wanted = set(fields.split(",")) | {"id"}
    return {k: v for k, v in resource.items() if k in wanted or k.startswith("@odata")}
