"""A local HTTP server that answers as Twilio's Messages API does, for tests and benchmarks.

The real twilio SDK talks to it (point `TWILIO_API_BASE_URL` at `stub.base_url`), so what is
tested is the SDK's own requests, answers and exceptions. It knows two calls:

- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with the form fields `To`, `From` or
  `MessagingServiceSid`, `Body` and `StatusCallback`: 201 and a message resource shaped like
  Twilio's (`sid` "SM" + 32 hex, `status` "queued", or "accepted" for a Messaging Service),
  or 400 with Twilio's error JSON when a field is missing or wrong.
- `GET /2010-04-01/Accounts/{AccountSid}/Messages.json` with the filters `To`, `From`,
  `DateSent`, `DateSent<` and `DateSent>` (a date, or a time as the SDK writes it), newest
  first, in Twilio's paging envelope (`messages`, `page`, `page_size`, `next_page_uri`...), so
  `client.messages.list()` works.

Both check HTTP basic auth (account SID and auth token) and answer 401 with Twilio's code
20003 otherwise. The stub hands every accepted text to the carrier at once: in the list it is
`sent`, with `date_sent` the moment it was accepted. With `stub.hands_to_carrier = False` texts
stay `queued` with no `date_sent`, as in Twilio's own queue.

Use it from Python:

    with TwilioStub() as stub:
        os.environ.update(stub.environ())  # or set the same names as Django settings
        ...                                # send texts through the SDK
        stub.messages                      # every accepted text, in order
        stub.requests                      # every request, with when it arrived

and script what the next requests meet (each one counts once, in the order given):

    stub.fail_next(429, code=20429)                       # Twilio says slow down
    stub.fail_next(400, code=21610, message="Attempt to send to unsubscribed recipient")
    stub.fail_next(500)                                   # a server error, nothing recorded
    stub.fail_next(500, accepted=True)                    # recorded, then a 500
    stub.drop_next(accepted=True)                         # recorded, connection closed unanswered
    stub.stall_next(2.0)                                  # no answer within the client's timeout
    stub.fail_next(503, request="list")                   # the same for the next list request

Or run it on its own, for worker processes started elsewhere:

    .venv/bin/python bench/twilio_stub.py [--port 8099]

prints the settings to use, serves until interrupted, then prints how many texts it accepted.
"""

import argparse
import base64
import binascii
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_BODY = 1600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class StubRequest:
    """One request the stub received: `kind` is "create", "list" or "other"; `arrived_at` is
    `time.time()` when its headers had been read; `status` what it was answered (None when the
    connection was closed without an answer)."""

    kind: str
    method: str
    path: str
    params: dict
    arrived_at: float
    status: int | None


@dataclass
class _Scripted:
    status: int | None = None  # an error answer, or None
    code: int | None = None
    message: str | None = None
    accepted: bool = False  # record the text before answering (or not answering)
    drop: bool = False  # close the connection without answering
    stall: float = 0.0  # wait this long first (then close without answering)


@dataclass
class _Scripts:
    create: deque = field(default_factory=deque)
    list: deque = field(default_factory=deque)


def new_sid(prefix):
    """A Twilio-shaped id: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def twilio_error(status, code=None, message=None):
    """The JSON body Twilio answers an error with."""
    code = code or status
    return {
        "code": code,
        "message": message or _DEFAULT_MESSAGES.get(code, f"Error {code}"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


_DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "Authenticate",
    404: "The requested resource was not found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number.",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}


def _segments(body):
    """Roughly what Twilio reports as num_segments (the stub does not need it exact)."""
    single, part = (160, 153) if body.isascii() else (70, 67)
    units = len(body) if body.isascii() else len(body.encode("utf-16-le")) // 2
    return 1 if units <= single else -(-units // part)


def _public(message):
    """A stored text without the stub's own notes."""
    return {name: value for name, value in message.items() if not name.startswith("_")}


def _parse_date_filter(value):
    """A DateSent filter value as the SDK writes it: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ."""
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return date.fromisoformat(value)


def _matches_date(sent, value, compare):
    if sent is None:
        return False
    bound = _parse_date_filter(value)
    if isinstance(bound, datetime):
        return compare(sent, bound)
    return compare(sent.date(), bound)


class TwilioStub:
    """A Twilio Messages API on 127.0.0.1, served by threads in the background."""

    def __init__(self, *, account_sid=None, auth_token=None, from_number="+447700900999"):
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or uuid.uuid4().hex
        self.from_number = from_number
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._messages = []  # stored resources, oldest first
        self._requests = []
        self._scripts = _Scripts()
        self._server = None
        self._thread = None
        # False keeps accepted texts "queued" with no date_sent, as Twilio does while a text
        # waits in its own queue.
        self.hands_to_carrier = True

    # Running ---------------------------------------------------------------------------

    def start(self, host="127.0.0.1", port=0):
        handler = type("Handler", (_Handler,), {"stub": self})
        self._server = _Server((host, port), handler)
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="twilio-stub",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()  # wakes stalled answers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def environ(self):
        """The settings (also environment variables) that send PeerPath's texts here."""
        return {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM_NUMBER": self.from_number,
            "TWILIO_API_BASE_URL": self.base_url,
        }

    # What happened ---------------------------------------------------------------------

    @property
    def messages(self):
        """Every text accepted, oldest first, as the resources the list call returns, plus
        the `status_callback` it was sent with."""
        with self._lock:
            return [
                _public(message) | {"status_callback": message["_status_callback"]}
                for message in self._messages
            ]

    @property
    def requests(self):
        """Every request received, in order of arrival."""
        with self._lock:
            return list(self._requests)

    def requests_of(self, kind):
        """The "create" or "list" requests received, in order of arrival."""
        return [request for request in self.requests if request.kind == kind]

    def reset(self):
        """Forget every text, request and scripted answer."""
        with self._lock:
            self._messages.clear()
            self._requests.clear()
            self._scripts = _Scripts()

    # Scripted answers ------------------------------------------------------------------

    def fail_next(
        self, status=500, *, code=None, message=None, accepted=False, times=1, request="create"
    ):
        """Answer the next `times` requests with an HTTP `status` and Twilio's error JSON
        (`code` defaults to the status). With `accepted`, a text is recorded first: Twilio
        took it, but the sender learns of an error."""
        self._script(
            request, times, _Scripted(status=status, code=code, message=message, accepted=accepted)
        )

    def drop_next(self, *, accepted=False, times=1, request="create"):
        """Close the connection of the next `times` requests without answering (a connection
        error at the sender). With `accepted`, the text is recorded first."""
        self._script(request, times, _Scripted(drop=True, accepted=accepted))

    def stall_next(self, seconds, *, accepted=False, times=1, request="create"):
        """Keep the next `times` requests waiting `seconds` (make it longer than the client's
        timeout), then close the connection unanswered. With `accepted`, the text is recorded
        as the request arrives."""
        self._script(request, times, _Scripted(stall=seconds, drop=True, accepted=accepted))

    def _script(self, request, times, scripted):
        if request not in {"create", "list"}:
            raise ValueError('request must be "create" or "list".')
        with self._lock:
            getattr(self._scripts, request).extend([scripted] * times)

    def _next_script(self, kind):
        with self._lock:
            queue = getattr(self._scripts, kind)
            return queue.popleft() if queue else None

    # The API ---------------------------------------------------------------------------

    def _authorised(self, header):
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(
            password, self.auth_token
        )

    def _accept(self, form):
        """Store a text from a create request's form; returns (status, resource or error)."""
        to = form.get("To", "").strip()
        body = form.get("Body", "")
        from_ = form.get("From", "").strip() or None
        service = form.get("MessagingServiceSid", "").strip() or None
        if not to:
            return 400, twilio_error(400, 21604)
        if not E164.match(to):
            return 400, twilio_error(
                400, 21211, f"The 'To' number {to} is not a valid phone number."
            )
        if not from_ and not service:
            return 400, twilio_error(400, 21603)
        if not body and not form.get("MediaUrl"):
            return 400, twilio_error(400, 21602)
        if len(body) > MAX_BODY:
            return 400, twilio_error(400, 21617)
        now = datetime.now(UTC).replace(microsecond=0)
        sid = new_sid("SM")
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": format_datetime(now),
            "date_sent": None,
            "date_updated": format_datetime(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if from_ else "accepted",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": to,
            "uri": f"{base}.json",
        }
        stored = {**resource, "_status_callback": form.get("StatusCallback") or None}
        if self.hands_to_carrier:
            stored |= {"status": "sent", "date_sent": format_datetime(now), "_sent_at": now}
        else:  # still in Twilio's own queue: no date_sent yet
            stored |= {"_sent_at": None}
        with self._lock:
            self._messages.append(stored)
        return 201, resource

    def _list(self, params, path):
        """A page of stored texts, newest first, filtered as Twilio filters them."""
        filters = [
            ("To", lambda message, value: message["to"] == value),
            ("From", lambda message, value: message["from"] == value),
            ("DateSent", lambda m, v: _matches_date(m["_sent_at"], v, lambda a, b: a == b)),
            ("DateSent<", lambda m, v: _matches_date(m["_sent_at"], v, lambda a, b: a <= b)),
            ("DateSent>", lambda m, v: _matches_date(m["_sent_at"], v, lambda a, b: a >= b)),
        ]
        try:
            page_size = min(int(params.get("PageSize", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE)
            page = int(params.get("Page", 0))
            with self._lock:
                stored = list(reversed(self._messages))
            found = [
                message
                for message in stored
                if all(test(message, params[name]) for name, test in filters if name in params)
            ]
        except ValueError as error:
            return 400, twilio_error(400, 20001, f"Invalid parameter: {error}")
        start = 0
        token = params.get("PageToken", "")
        if token.startswith("PA"):
            after = token[2:]
            start = next((i + 1 for i, m in enumerate(found) if m["sid"] == after), len(found))
        records = found[start : start + page_size]
        query = {name: value for name, value in params.items() if name not in {"Page", "PageToken"}}
        query["PageSize"] = page_size

        def uri(page_number, token=None):
            extra = {"Page": page_number, **({"PageToken": token} if token else {})}
            return f"{path}?{urlencode({**query, **extra})}"

        more = start + page_size < len(found)
        return 200, {
            "end": start + max(len(records) - 1, 0),
            "first_page_uri": uri(0),
            "messages": [_public(message) for message in records],
            "next_page_uri": uri(page + 1, "PA" + records[-1]["sid"]) if more else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": uri(page, token or None),
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled answer must not hold up stop()
    request_queue_size = 256  # benchmarks open many connections at once


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled session expects
    # Headers and body go out in two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK (about 40 ms), which would cap the stub at some 25 answers a second.
    disable_nagle_algorithm = True
    server_version = "TwilioStub/1"
    stub: TwilioStub

    def log_message(self, format, *args):  # quiet: tests and benchmarks read their own output
        pass

    def do_POST(self):
        self._serve("POST")

    def do_GET(self):
        self._serve("GET")

    def _serve(self, method):
        arrived_at = time.time()
        stub = self.stub
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        params = {
            name: values[-1] for name, values in parse_qs(url.query, keep_blank_values=True).items()
        }
        form = {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        route = MESSAGES_PATH.match(url.path)
        kind = {"POST": "create", "GET": "list"}[method] if route else "other"

        received = StubRequest(kind, method, url.path, form or params, arrived_at, None)
        with stub._lock:  # seen at once, even if its answer is stalled
            index = len(stub._requests)
            stub._requests.append(received)
        status, payload = self._answer(kind, route, form, params, url.path)
        with stub._lock:
            if index < len(stub._requests) and stub._requests[index] is received:
                stub._requests[index] = replace(received, status=status)
        if status is None:
            self.close_connection = True
            return
        self._send_json(status, payload)

    def _answer(self, kind, route, form, params, path):
        """(status, JSON) to answer with, or (None, None) to close without answering."""
        stub = self.stub
        if kind == "other":
            return 404, twilio_error(404, 20404)
        if not stub._authorised(self.headers.get("Authorization")):
            return 401, twilio_error(401, 20003)
        if route["account"] != stub.account_sid:
            return 404, twilio_error(404, 20404)
        scripted = stub._next_script(kind)
        if scripted is None:
            return stub._accept(form) if kind == "create" else stub._list(params, path)
        if scripted.accepted and kind == "create":
            stub._accept(form)
        if scripted.stall:
            stub._stopping.wait(scripted.stall)
        if scripted.drop:
            return None, None
        return scripted.status, twilio_error(scripted.status, scripted.code, scripted.message)

    def _send_json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser(description="Serve a local Twilio Messages API.")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    parser.add_argument("--account-sid")
    parser.add_argument("--auth-token")
    arguments = parser.parse_args()
    stub = TwilioStub(account_sid=arguments.account_sid, auth_token=arguments.auth_token)
    stub.start(port=arguments.port)
    for name, value in stub.environ().items():
        print(f"{name}={value}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
        print(f"accepted {len(stub.messages)} texts in {len(stub.requests)} requests")


if __name__ == "__main__":
    main()
