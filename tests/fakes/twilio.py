"""A fake Twilio: the Messages API, and the signed form posts Twilio sends us.

``POST /2010-04-01/Accounts/{sid}/Messages.json`` checks HTTP basic auth and the
form (To, From, Body) like Twilio and answers 201 with a message resource whose
``sid`` later status callbacks repeat. :meth:`inbound_message` and
:meth:`status_callback` build the forms Twilio posts to our webhook, and
:meth:`sign` signs them the way Twilio does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
from email.utils import formatdate

from flask import jsonify, request

from tests.fakes import FakeServer

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-test-token"


class FakeTwilio(FakeServer):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        super().__init__("fake-twilio")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._numbers = itertools.count(1)

        @self.app.post("/2010-04-01/Accounts/<sid>/Messages.json")
        def create_message(sid):
            auth = request.authorization
            if (
                sid != self.account_sid
                or auth is None
                or (auth.username, auth.password)
                != (
                    self.account_sid,
                    self.auth_token,
                )
            ):
                return _error(401, 20003, "Authenticate")
            form = request.form
            if not E164.match(form.get("To", "")):
                return _error(
                    400, 21211, f"The 'To' number {form.get('To', '')} is not a valid phone number."
                )
            if not form.get("From"):
                return _error(400, 21603, "The 'From' phone number is required.")
            if not form.get("Body"):
                return _error(400, 21602, "Message body is required.")
            message_sid = f"SM{next(self._numbers):032x}"
            now = formatdate(usegmt=True)
            return jsonify(
                {
                    "sid": message_sid,
                    "account_sid": self.account_sid,
                    "to": form["To"],
                    "from": form["From"],
                    "body": form["Body"],
                    "status": "queued",
                    "num_segments": "1",
                    "num_media": "0",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "date_created": now,
                    "date_updated": now,
                    "date_sent": None,
                    "error_code": None,
                    "error_message": None,
                    "price": None,
                    "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
                }
            ), 201

    def sent_messages(self) -> list[dict]:
        """The forms of every create-message call, in order."""
        return [r.form() for r in self.requests_to("/Messages.json", "POST")]

    def inbound_message(
        self, from_: str, body: str, *, to: str = "+3197010203040", media: tuple = ()
    ) -> dict[str, str]:
        """The form Twilio posts for an incoming SMS/MMS."""
        sid = f"SM{next(self._numbers) + 10**6:032x}"
        form = {
            "ToCountry": "NL",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "NL",
            "To": to,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": "2010-04-01",
        }
        for index, (url, content_type) in enumerate(media):
            form[f"MediaUrl{index}"] = url
            form[f"MediaContentType{index}"] = content_type
        return form

    def status_callback(
        self, message_sid: str, status: str, *, to: str, error_code: str | None = None
    ) -> dict[str, str]:
        """The form Twilio posts to a message's StatusCallback."""
        form = {
            "SmsSid": message_sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": to,
            "MessageSid": message_sid,
            "AccountSid": self.account_sid,
            "From": "+3197010203040",
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            form["ErrorCode"] = error_code
        return form

    def sign(self, url: str, form: dict[str, str], token: str | None = None) -> str:
        """X-Twilio-Signature for posting ``form`` to ``url``."""
        payload = url + "".join(k + v for k, v in sorted(form.items()))
        key = (token or self.auth_token).encode()
        return base64.b64encode(hmac.new(key, payload.encode(), hashlib.sha1).digest()).decode()


def _error(status: int, code: int, message: str):
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status
