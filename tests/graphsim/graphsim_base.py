"""graphsim_base: errors and small helpers shared by the graphsim modules.

Graph answers errors as {"error":{"code","message","innerError"}}; the
identity platform as OAuth error JSON with an AADSTS code.  Both are
raised as exceptions by the handlers and written by the HTTP front end.
"""

import base64
import datetime
import json
import urllib.parse
import uuid

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR

GRAPH_JSON = ("application/json;odata.metadata=minimal;"
              "odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
PLAIN_JSON = "application/json; charset=utf-8"

# The application id of "Microsoft Graph Change Tracking", the caller
# named in the validation tokens of rich notifications.
CHANGE_TRACKING_APP_ID = "0bf30f3b-4a52-48df-9a82-234910c4a086"


class GraphError(Exception):
    """Answered as {"error":{"code","message","innerError"}}."""

    def __init__(self, status, code, message, retry_after=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def bad_request(message):
    return GraphError(400, "BadRequest", message)


class AadError(Exception):
    """Answered as the identity platform's OAuth error JSON."""

    def __init__(self, status, error, aadsts, message):
        super().__init__(message)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.message = message


def missing_param(name):
    return AadError(400, "invalid_request", 900144,
                    "The request body must contain the following "
                    "parameter: '%s'." % name)


def aad_body(sim, err):
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = sim.iso(sep=" ")
    return {
        "error": err.error,
        "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\n"
                             "Correlation ID: %s\r\nTimestamp: %s"
                             % (err.aadsts, err.message, trace, correlation,
                                stamp),
        "error_codes": [err.aadsts],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
    }


def parse_json(raw):
    """The JSON value of a body; None when the body is empty."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad_request("Unable to read JSON request payload. Please "
                          "ensure Content-Type header is set and payload "
                          "is of valid JSON format.")


def form_fields(raw):
    """Form fields of an x-www-form-urlencoded body, first value each."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    fields = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def b64url(data):
    """Base64url without padding (JWT, JWK)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Bytes of a base64url string; ValueError when it is not one."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as err:
        raise ValueError(str(err))


def iso_7(when):
    """A Graph timestamp with seven fractional digits, as subscriptions
    carry it: 2024-05-01T10:00:00.0000000Z."""
    dt = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    return "%s.%07dZ" % (dt.strftime("%Y-%m-%dT%H:%M:%S"),
                         dt.microsecond * 10)


def parse_iso(text):
    """Seconds since the epoch of an ISO 8601 UTC timestamp; None if bad.

    Graph sends up to seven fractional digits; Python reads six.
    """
    if not isinstance(text, str):
        return None
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    head, dot, rest = t.partition(".")
    if dot:
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        if not digits:
            return None
        t = head + "." + digits[:6].ljust(6, "0") + rest
    try:
        dt = datetime.datetime.fromisoformat(t)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)   # Graph assumes UTC
    return dt.timestamp()
