#!/usr/bin/env python3
"""graphsim: a Microsoft Graph presence simulator for presgw tests and demos.

It plays three parties on one loopback port:

  * the Microsoft identity platform token endpoint (client credentials),
  * the Graph v1.0 presence API (sessions, preferred presence, reads),
  * the Teams user, through a control API under /_sim/ (sign in a Teams
    client, pick a status by hand, move the clock, inject faults).

Presence is aggregated per user the way Teams documents it: preferred
presence beats every session but needs at least one session; among sessions
DoNotDisturb > Busy > Available > Away; no session means Offline.

Standard library only.  See README.md next to this file.
"""

import argparse
import collections
import datetime
import email.utils
import json
import math
import os
import re
import secrets
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import graphsim_auth
import graphsim_subs
from graphsim_auth import (DEVICECODE_PATH, KEYS_PATH, OPENID_PATH,
                           TOKEN_PATH, Token, basic_credentials)
from graphsim_base import (DAY, GRAPH_JSON, HOUR, MINUTE, PLAIN_JSON,
                           AadError, GraphError, aad_body, bad_request,
                           form_fields, parse_json)
from graphsim_subs import Deferred


# --------------------------------------------------------------------------
# Documented rules, as tables.

# setPresence accepts exactly these availability/activity pairs.
SET_PRESENCE_PAIRS = frozenset({
    ("Available", "Available"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Away", "Away"),
    ("DoNotDisturb", "Presenting"),
})

# setUserPreferredPresence accepts exactly these pairs.
PREFERRED_PAIRS = frozenset({
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("BeRightBack", "BeRightBack"),
    ("Away", "Away"),
    ("Offline", "OffWork"),          # "Appear offline"
})

# States a signed-in Teams client reports for its own session.  A client
# also goes Busy/InAMeeting from the calendar, which apps cannot set.
CLIENT_PAIRS = SET_PRESENCE_PAIRS | frozenset({
    ("Busy", "Busy"),
    ("Busy", "InAMeeting"),
})

# Precedence among sessions; a higher rank wins.
SESSION_RANK = {
    "DoNotDisturb": 4,
    "Busy": 3,
    "Available": 2,
    "Away": 1,
}

# setPresence expirationDuration: default PT5M, valid PT5M..PT4H.
SESSION_EXPIRY_DEFAULT = 5 * MINUTE
SESSION_EXPIRY_MIN = 5 * MINUTE
SESSION_EXPIRY_MAX = 4 * HOUR

# setUserPreferredPresence default expiry by availability; 7 days otherwise.
PREFERRED_EXPIRY_DEFAULT = {
    "DoNotDisturb": 1 * DAY,
    "Busy": 1 * DAY,
}
PREFERRED_EXPIRY_OTHER = 7 * DAY

MAX_BULK_IDS = 650                   # getPresencesByUserId
RATE_LIMIT_DEFAULT = 1500            # presence requests per window,
RATE_WINDOW_DEFAULT = 30             # per app per tenant

# Parameters of each action: (required, optional).  OData rejects
# parameters an action does not declare, so we do too.
ACTION_PARAMS = {
    "setPresence": (("sessionId", "availability", "activity"),
                    ("expirationDuration",)),
    "clearPresence": (("sessionId",), ()),
    "setUserPreferredPresence": (("availability", "activity"),
                                 ("expirationDuration",)),
    "clearUserPreferredPresence": ((), ()),
    "getPresencesByUserId": (("ids",), ()),
}

# Graph error code per HTTP status, for faults and generic failures.
GRAPH_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

# Session id of the Teams client's own session (one per device).
TEAMS_SESSION_PREFIX = "teams-client/"

MAX_BODY = 1 << 20
MAX_LOG_ENTRIES = 100000
REDACTED = "[redacted]"
SECRET_FIELDS = ("client_secret", "client_assertion", "refresh_token",
                 "device_code")


_DURATION_RE = re.compile(
    r"^(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text):
    """Seconds in an Edm.Duration (PT5M, PT1H30M, P1D); None if malformed."""
    if not isinstance(text, str):
        return None
    m = _DURATION_RE.match(text)
    # The pattern also matches "P" and "PT"; a duration needs a number.
    if not m or text.endswith(("P", "T")):
        return None
    sign, days, hours, minutes, seconds = m.groups()
    total = (int(days or 0) * DAY + int(hours or 0) * HOUR
             + int(minutes or 0) * MINUTE + float(seconds or 0))
    return -total if sign else total


# --------------------------------------------------------------------------
# Simulator state.  One lock guards all of it; handlers run under it.

class User:
    def __init__(self, uid, upn):
        self.id = uid
        self.upn = upn
        # sessionId -> {"availability", "activity", "expires_at", "stamp"}
        # expires_at None means the session does not expire.
        self.sessions = {}
        self.preferred = None            # same keys as a session, or None
        self.out_of_office = {"message": None, "isOutOfOffice": False}
        self.view = None                 # last published presence fields
        self.sequence = None


class Sim:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.tenant = args.tenant
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.token_lifetime = args.token_lifetime
        self.rate_limit = args.rate_limit
        self.rate_window = args.rate_window
        self.unknown_ids = args.unknown_ids
        self.base_url = ""               # set once the port is known
        self.clock_offset = 0.0
        self.users = {}                  # lower-case id -> User
        self.tokens = {}                 # access token -> Token
        self.faults = []
        self.rate = collections.defaultdict(collections.deque)
        self.requests = collections.deque(maxlen=MAX_LOG_ENTRIES)
        self.request_seq = 0
        self.sequence_counter = 0
        self.stamp = 0
        self.log_file = None
        self.login_url = ""              # http://host:port, once known
        self.auth = graphsim_auth.Auth(args)
        self.subs = graphsim_subs.Subs(self, args.delivery_backoff)

    # -- clock ------------------------------------------------------------

    def now(self):
        """Simulator time: wall clock plus the offset moved by /_sim/clock."""
        return time.time() + self.clock_offset

    def iso(self, when=None, sep="T", suffix="Z"):
        t = self.now() if when is None else when
        dt = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
        return dt.strftime("%Y-%m-%d" + sep + "%H:%M:%S") + suffix

    def iso_ms(self):
        """Now, to the millisecond, for the request log."""
        dt = datetime.datetime.fromtimestamp(self.now(),
                                             datetime.timezone.utc)
        return "%s.%03dZ" % (dt.strftime("%Y-%m-%dT%H:%M:%S"),
                             dt.microsecond // 1000)

    # -- users and aggregation -------------------------------------------

    def add_user(self, uid, upn):
        key = uid.lower()
        user = self.users.get(key)
        if user is not None:
            user.upn = upn
            return user, False
        user = User(uid, upn)
        self.users[key] = user
        self.refresh(user)
        return user, True

    def user(self, uid):
        """The user with this object id; Graph answers 404 otherwise."""
        user = self.users.get(uid.lower())
        if user is None:
            raise GraphError(404, "NotFound",
                             "Could not find a user with id '%s'." % uid)
        self.refresh(user)
        return user

    def next_stamp(self):
        self.stamp += 1
        return self.stamp

    def drop_expired(self, user):
        now = self.now()
        for sid in [s for s, v in user.sessions.items() if expired(v, now)]:
            del user.sessions[sid]
        if user.preferred is not None and expired(user.preferred, now):
            user.preferred = None

    def refresh(self, user):
        """Expire what is due and bump sequenceNumber if presence changed.

        Expiry is applied lazily, whenever a user is touched, so the stamp
        moves at the first observation after the change.
        """
        self.drop_expired(user)
        availability, activity = aggregate(user.sessions, user.preferred)
        view = (availability, activity,
                user.out_of_office["isOutOfOffice"],
                user.out_of_office["message"])
        if view != user.view:
            # Change notifications follow availability and activity, the
            # fields the resource data carries.
            if user.view is not None and view[:2] != user.view[:2]:
                self.subs.presence_changed(user, availability, activity)
            user.view = view
            self.sequence_counter += 1
            user.sequence = "A%010d" % self.sequence_counter

    def presence(self, user):
        availability, activity = user.view[0], user.view[1]
        return {
            "id": user.id,
            "availability": availability,
            "activity": activity,
            "statusMessage": None,
            "outOfOfficeSettings": dict(user.out_of_office),
            "sequenceNumber": user.sequence,
            "workLocation": {
                "workLocationType": "unspecified",
                "source": "none",
                "placeId": None,
            },
        }

    def unknown_presence(self, uid):
        return {
            "id": uid,
            "availability": "PresenceUnknown",
            "activity": "PresenceUnknown",
            "statusMessage": None,
            "outOfOfficeSettings": {"message": None, "isOutOfOffice": False},
            "sequenceNumber": None,
            "workLocation": None,
        }

    # -- tokens and rate limit -------------------------------------------

    def user_by_upn(self, upn):
        if not isinstance(upn, str) or not upn:
            return None
        for user in self.users.values():
            if user.upn.lower() == upn.lower():
                return user
        return None

    def tick(self):
        """Apply what the clock made due: expired subscriptions go, and
        expired sessions and preferred presence change the aggregate (and
        so notify subscribers) without waiting for a read."""
        self.subs.expire()
        for user in self.users.values():
            self.refresh(user)

    def issue_token(self, client_id, user=None, scopes=()):
        # Forget tokens long expired; until then a late caller is told
        # its token expired rather than that it is unknown.
        now = self.now()
        for tok in [t for t, v in self.tokens.items()
                    if v.expires_at <= now - DAY]:
            del self.tokens[tok]
        token = secrets.token_urlsafe(48)
        self.tokens[token] = Token(self.tenant, client_id,
                                   now + self.token_lifetime, user, scopes)
        return token

    def check_rate(self, app):
        """Sliding window over presence calls, per app per tenant.

        Rejected calls are not counted, so a client that honours
        Retry-After gets through once the window has moved on.
        """
        now = self.now()
        window = self.rate[(app.tenant, app.client_id)]
        while window and window[0] <= now - self.rate_window:
            window.popleft()
        if len(window) >= self.rate_limit:
            wait = max(1, math.ceil(window[0] + self.rate_window - now))
            raise GraphError(429, "TooManyRequests",
                             "Too many presence requests; retry after "
                             "%d seconds." % wait, retry_after=wait)
        window.append(now)

    # -- faults -----------------------------------------------------------

    def take_fault(self, path):
        """The first armed fault whose match is in path, used up by one."""
        for fault in self.faults:
            if fault["match"] in path:
                if fault["count"] > 0:
                    fault["count"] -= 1
                fault["hits"] += 1
                if fault["count"] == 0:
                    self.faults.remove(fault)
                return dict(fault)
        return None

    # -- request log ------------------------------------------------------

    def log_request(self, method, path, body):
        self.request_seq += 1
        entry = {"seq": self.request_seq, "time": self.iso_ms(),
                 "method": method, "path": path, "body": body,
                 "status": None}
        self.requests.append(entry)
        return entry

    def finish_request(self, entry, status):
        entry["status"] = status
        if self.log_file is not None:
            self.log_file.write(json.dumps(entry) + "\n")
            self.log_file.flush()

    def reset(self):
        """Back to a fresh start, keeping users, tokens and sequence."""
        for user in self.users.values():
            user.sessions.clear()
            user.preferred = None
            user.out_of_office = {"message": None, "isOutOfOffice": False}
        self.clock_offset = 0.0
        self.faults.clear()
        self.rate.clear()
        self.requests.clear()
        self.subs.clear()
        for user in self.users.values():
            self.refresh(user)


def expired(entry, now):
    return entry["expires_at"] is not None and entry["expires_at"] <= now


def aggregate(sessions, preferred):
    """The availability/activity Teams shows for these sessions.

    Preferred presence wins but only while some session exists; among
    sessions the highest-ranked availability wins, and among equals the one
    set most recently.
    """
    if not sessions:
        return "Offline", "Offline"
    if preferred is not None:
        return preferred["availability"], preferred["activity"]
    best = max(sessions.values(),
               key=lambda s: (SESSION_RANK.get(s["availability"], 0),
                              s["stamp"]))
    return best["availability"], best["activity"]


# --------------------------------------------------------------------------
# Request validation shared by the API and the control API.

def check_params(action, body):
    """Reject a body that is not an object or has wrong parameters."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    required, optional = ACTION_PARAMS[action]
    for name in body:
        if name not in required and name not in optional:
            raise bad_request("The parameter '%s' in the request payload is "
                              "not a valid parameter for the operation "
                              "'%s'." % (name, action))
    for name in required:
        if body.get(name) in (None, ""):
            raise bad_request("The parameter '%s' is required for the "
                              "operation '%s'." % (name, action))
    return body


def check_strings(body, names):
    for name in names:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise bad_request("The parameter '%s' must be a string." % name)


def check_pair(pairs, body, action):
    pair = (body["availability"], body["activity"])
    if pair not in pairs:
        raise bad_request("The combination availability '%s' and activity "
                          "'%s' is not supported by %s." % (pair + (action,)))
    return pair


def duration_param(body, default):
    """expirationDuration in seconds, or default when absent or null."""
    text = body.get("expirationDuration")
    if text is None:
        return default
    seconds = parse_duration(text)
    if seconds is None:
        raise bad_request("expirationDuration '%s' is not a valid ISO 8601 "
                          "duration." % text)
    return seconds


def session_expiry(body):
    seconds = duration_param(body, SESSION_EXPIRY_DEFAULT)
    if not SESSION_EXPIRY_MIN <= seconds <= SESSION_EXPIRY_MAX:
        raise bad_request("expirationDuration must be between PT5M and "
                          "PT4H; got '%s'." % body["expirationDuration"])
    return seconds


def preferred_expiry(body, availability):
    default = PREFERRED_EXPIRY_DEFAULT.get(availability,
                                           PREFERRED_EXPIRY_OTHER)
    seconds = duration_param(body, default)
    if seconds <= 0:
        raise bad_request("expirationDuration must be positive; got '%s'."
                          % body["expirationDuration"])
    return seconds


def parse_preferred(body, action="setUserPreferredPresence"):
    """Validated (availability, activity, seconds) of a preferred request."""
    body = check_params(action, body)
    check_strings(body, ("availability", "activity", "expirationDuration"))
    availability, activity = check_pair(PREFERRED_PAIRS, body, action)
    return availability, activity, preferred_expiry(body, availability)


def check_own_session(app, session_id):
    """An app holds only its own session: sessionId is its client id.

    The documentation says to pass the application id; we answer any other
    value with 400 so a misconfigured client is caught early.
    """
    if session_id.lower() != app.client_id.lower():
        raise bad_request("sessionId '%s' is not the id of the calling "
                          "application." % session_id)


# --------------------------------------------------------------------------
# Graph presence handlers.  Each runs under the lock and returns
# (status, JSON body or None); failures raise GraphError.

def api_set_presence(sim, app, uid, body):
    body = check_params("setPresence", body)
    check_strings(body, ("sessionId", "availability", "activity",
                         "expirationDuration"))
    user = sim.user(uid)
    check_own_session(app, body["sessionId"])
    availability, activity = check_pair(SET_PRESENCE_PAIRS, body,
                                        "setPresence")
    seconds = session_expiry(body)
    user.sessions[body["sessionId"].lower()] = {
        "availability": availability, "activity": activity,
        "expires_at": sim.now() + seconds, "stamp": sim.next_stamp()}
    sim.refresh(user)
    return 200, None


def api_clear_presence(sim, app, uid, body):
    body = check_params("clearPresence", body)
    check_strings(body, ("sessionId",))
    user = sim.user(uid)
    check_own_session(app, body["sessionId"])
    sid = body["sessionId"].lower()
    if sid not in user.sessions:
        raise GraphError(404, "NotFound", "Presence session '%s' was not "
                         "found." % body["sessionId"])
    del user.sessions[sid]
    sim.refresh(user)
    return 200, None


def api_set_preferred(sim, app, uid, body):
    availability, activity, seconds = parse_preferred(body)
    user = sim.user(uid)
    user.preferred = {"availability": availability, "activity": activity,
                      "expires_at": sim.now() + seconds, "stamp": 0}
    sim.refresh(user)
    return 200, None


def api_clear_preferred(sim, app, uid, body):
    check_params("clearUserPreferredPresence", body)
    user = sim.user(uid)
    user.preferred = None
    sim.refresh(user)
    return 200, None


def api_get_user_presence(sim, app, uid, body):
    user = sim.user(uid)
    context = "%s/$metadata#users('%s')/presence/$entity" % (
        sim.base_url, user.id)
    return 200, dict({"@odata.context": context}, **sim.presence(user))


def api_get_presence(sim, app, uid, body):
    user = sim.user(uid)
    context = "%s/$metadata#communications/presences/$entity" % sim.base_url
    return 200, dict({"@odata.context": context}, **sim.presence(user))


def api_get_presences(sim, app, uid, body):
    body = check_params("getPresencesByUserId", body)
    ids = body["ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_request("The parameter 'ids' must be an array of strings.")
    if len(ids) > MAX_BULK_IDS:
        raise bad_request("At most %d ids are allowed per request; got %d."
                          % (MAX_BULK_IDS, len(ids)))
    value, seen = [], set()
    for uid in ids:
        if uid.lower() in seen:
            continue
        seen.add(uid.lower())
        user = sim.users.get(uid.lower())
        if user is not None:
            sim.refresh(user)
            value.append(sim.presence(user))
        elif sim.unknown_ids == "unknown":
            value.append(sim.unknown_presence(uid))
    context = "%s/$metadata#Collection(microsoft.graph.presence)" % (
        sim.base_url)
    return 200, {"@odata.context": context, "value": value}


def api_me(sim, app, uid, body):
    """/me is the signed-in user; app-only tokens have none."""
    if not app.delegated:
        raise bad_request("/me request is only valid with delegated "
                          "authentication flow.")
    return api_get_user_presence(sim, app, app.user_id, body)


_ID = r"([^/]+)"
_NS = r"(?:microsoft\.graph\.)?"

# Graph routes: method, path pattern, handler.  The presence routes count
# against the presence rate limit, the subscription routes do not.
# Actions are also reachable through /communications/presences/{id}, as in
# the Graph OpenAPI paths.
GRAPH_ROUTES = [
    ("POST", r"/users/%s/presence/%ssetPresence" % (_ID, _NS),
     api_set_presence),
    ("POST", r"/communications/presences/%s/%ssetPresence" % (_ID, _NS),
     api_set_presence),
    ("POST", r"/users/%s/presence/%sclearPresence" % (_ID, _NS),
     api_clear_presence),
    ("POST", r"/communications/presences/%s/%sclearPresence" % (_ID, _NS),
     api_clear_presence),
    ("POST", r"/users/%s/presence/%ssetUserPreferredPresence" % (_ID, _NS),
     api_set_preferred),
    ("POST", r"/communications/presences/%s/%ssetUserPreferredPresence"
     % (_ID, _NS), api_set_preferred),
    ("POST", r"/users/%s/presence/%sclearUserPreferredPresence"
     % (_ID, _NS), api_clear_preferred),
    ("POST", r"/communications/presences/%s/%sclearUserPreferredPresence"
     % (_ID, _NS), api_clear_preferred),
    ("GET", r"/users/%s/presence" % _ID, api_get_user_presence),
    ("GET", r"/communications/presences/%s" % _ID, api_get_presence),
    ("POST", r"/communications/%sgetPresencesByUserId" % _NS,
     api_get_presences),
    ("GET", r"/me/presence()", api_me),
    ("POST", r"/me/presence/()[^/]+", api_me),
] + graphsim_subs.GRAPH_ROUTES
UNRATED = frozenset(h for _, _, h in graphsim_subs.GRAPH_ROUTES)
GRAPH_ROUTES = [(m, re.compile(r"^/v1\.0" + p + r"$", re.IGNORECASE), h)
                for m, p, h in GRAPH_ROUTES]


# --------------------------------------------------------------------------
# Control API under /_sim/: plays the Teams user and drives the tests.
# Handlers run under the lock and return (status, JSON body).

def ctl_health(sim, match, body):
    return 200, {"ok": True}


def ctl_list_users(sim, match, body):
    return 200, [{"id": u.id, "upn": u.upn} for u in sim.users.values()]


def ctl_add_user(sim, match, body):
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) \
            or not body["id"] or "/" in body["id"]:
        raise bad_request("Expected {\"id\": \"...\", \"upn\": \"...\"}.")
    upn = body.get("upn") or ""
    user, created = sim.add_user(body["id"], upn)
    return (201 if created else 200), {"id": user.id, "upn": user.upn}


def ctl_user_state(sim, match, body):
    user = sim.user(match.group(1))
    now = sim.now()

    def describe(entry):
        out = {"availability": entry["availability"],
               "activity": entry["activity"], "expires_at": None,
               "expires_in": None}
        if entry["expires_at"] is not None:
            out["expires_at"] = sim.iso(entry["expires_at"])
            out["expires_in"] = round(entry["expires_at"] - now, 3)
        return out

    return 200, {
        "id": user.id,
        "upn": user.upn,
        "sessions": {sid: describe(s) for sid, s in user.sessions.items()},
        "preferred": describe(user.preferred) if user.preferred else None,
        "aggregate": {"availability": user.view[0],
                      "activity": user.view[1]},
        "outOfOfficeSettings": dict(user.out_of_office),
        "sequenceNumber": user.sequence,
    }


def ctl_client(sim, match, body):
    """The user's Teams client signs in, changes state, or signs out.

    The client keeps its session alive for as long as it is signed in, so
    the session does not expire, not even when the clock moves; pass
    "expires_in" (seconds) to model a client that vanishes without
    signing out.
    """
    user = sim.user(match.group(1))
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    check_strings(body, ("device", "availability", "activity"))
    sid = TEAMS_SESSION_PREFIX + (body.get("device") or "desktop")
    if body.get("signed_in") is False:
        user.sessions.pop(sid, None)
    else:
        pair = (body.get("availability") or "Available",
                body.get("activity") or "Available")
        if pair not in CLIENT_PAIRS:
            raise bad_request("A Teams client does not report %s/%s." % pair)
        user.sessions[sid] = {
            "availability": pair[0], "activity": pair[1],
            "expires_at": client_expiry(sim, body),
            "stamp": sim.next_stamp()}
    sim.refresh(user)
    return ctl_user_state(sim, match, None)


def client_expiry(sim, body):
    seconds = body.get("expires_in")
    if seconds is None:
        return None
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        raise bad_request("expires_in must be a positive number of seconds.")
    return sim.now() + seconds


def ctl_preferred(sim, match, body):
    """The user picks a status by hand in Teams; {} resets it."""
    user = sim.user(match.group(1))
    if body in (None, {}):
        user.preferred = None
    else:
        availability, activity, seconds = parse_preferred(body)
        user.preferred = {"availability": availability,
                          "activity": activity,
                          "expires_at": sim.now() + seconds, "stamp": 0}
    sim.refresh(user)
    return ctl_user_state(sim, match, None)


def ctl_out_of_office(sim, match, body):
    """Automatic replies on or off: {"isOutOfOffice": true, "message": ..}."""
    user = sim.user(match.group(1))
    if not isinstance(body, dict) \
            or not isinstance(body.get("isOutOfOffice", False), bool):
        raise bad_request("Expected {\"isOutOfOffice\": bool, "
                          "\"message\": string}.")
    user.out_of_office = {"message": body.get("message"),
                          "isOutOfOffice": body.get("isOutOfOffice", False)}
    sim.refresh(user)
    return ctl_user_state(sim, match, None)


def ctl_requests(sim, match, body):
    return 200, list(sim.requests)


def ctl_clear_requests(sim, match, body):
    sim.requests.clear()
    return 200, {"ok": True}


def ctl_add_fault(sim, match, body):
    sim.faults.append(parse_fault(body))
    return 201, {"faults": sim.faults}


def parse_fault(body):
    """A fault: the next `count` requests whose path contains `match`.

    count -1 keeps the fault armed until DELETE /_sim/faults.
    """
    if not isinstance(body, dict) or not isinstance(body.get("match"), str):
        raise bad_request("A fault needs \"match\": a path substring.")
    fault = {"match": body["match"], "status": body.get("status", 0),
             "retry_after": body.get("retry_after"),
             "count": body.get("count", 1),
             "delay_ms": body.get("delay_ms", 0),
             "code": body.get("code"), "message": body.get("message"),
             "drop": body.get("drop", False), "hits": 0}
    status = fault["status"]
    if not isinstance(status, int) or not (status == 0
                                           or 400 <= status <= 599):
        raise bad_request("status must be 0 (delay only) or 400..599.")
    if not isinstance(fault["count"], int) or fault["count"] == 0 \
            or fault["count"] < -1:
        raise bad_request("count must be a positive integer or -1.")
    if not isinstance(fault["delay_ms"], (int, float)) \
            or fault["delay_ms"] < 0:
        raise bad_request("delay_ms must be a non-negative number.")
    if fault["retry_after"] is not None \
            and not isinstance(fault["retry_after"], int):
        raise bad_request("retry_after must be an integer.")
    if not isinstance(fault["drop"], bool):
        raise bad_request("drop must be a boolean.")
    if status == 0 and not fault["delay_ms"] and not fault["drop"]:
        raise bad_request("A fault needs a status, a delay_ms, drop, or "
                          "a combination.")
    return fault


def ctl_list_faults(sim, match, body):
    return 200, {"faults": sim.faults}


def ctl_clear_faults(sim, match, body):
    sim.faults.clear()
    return 200, {"faults": []}


def ctl_clock(sim, match, body):
    if body is not None:
        advance = body.get("advance") if isinstance(body, dict) else None
        if not isinstance(advance, (int, float)) or advance < 0:
            raise bad_request("Expected {\"advance\": seconds >= 0}.")
        sim.clock_offset += advance
        sim.tick()                       # expiry notifications go out now
    return 200, {"offset": sim.clock_offset, "now": sim.iso_ms()}


def ctl_rate_limit(sim, match, body):
    """Change the presence rate limit at run time; the window restarts."""
    if body is not None:
        if not isinstance(body, dict):
            raise bad_request("Expected {\"limit\": n, \"window\": s}.")
        limit = body.get("limit", sim.rate_limit)
        window = body.get("window", sim.rate_window)
        if not isinstance(limit, int) or limit < 1 \
                or not isinstance(window, (int, float)) or window <= 0:
            raise bad_request("limit must be >= 1 and window > 0.")
        sim.rate_limit, sim.rate_window = limit, window
        sim.rate.clear()
    return 200, {"limit": sim.rate_limit, "window": sim.rate_window}


def ctl_reset(sim, match, body):
    sim.reset()
    return 200, {"ok": True}


# Control routes: method, path pattern, handler.
CONTROL_ROUTES = [
    ("GET", r"/health", ctl_health),
    ("GET", r"/users", ctl_list_users),
    ("POST", r"/users", ctl_add_user),
    ("GET", r"/users/([^/]+)", ctl_user_state),
    ("POST", r"/users/([^/]+)/client", ctl_client),
    ("POST", r"/users/([^/]+)/preferred", ctl_preferred),
    ("POST", r"/users/([^/]+)/out_of_office", ctl_out_of_office),
    ("GET", r"/requests", ctl_requests),
    ("DELETE", r"/requests", ctl_clear_requests),
    ("GET", r"/faults", ctl_list_faults),
    ("POST", r"/faults", ctl_add_fault),
    ("DELETE", r"/faults", ctl_clear_faults),
    ("GET", r"/clock", ctl_clock),
    ("POST", r"/clock", ctl_clock),
    ("GET", r"/rate_limit", ctl_rate_limit),
    ("POST", r"/rate_limit", ctl_rate_limit),
    ("POST", r"/reset", ctl_reset),
] + graphsim_auth.CONTROL_ROUTES + graphsim_subs.CONTROL_ROUTES
CONTROL_ROUTES = [(m, re.compile(r"^/_sim" + p + r"$"), h)
                  for m, p, h in CONTROL_ROUTES]


def find_route(routes, method, path):
    """(handler, match) for path; GraphError 405 or None if none fits."""
    allowed = False
    for route_method, pattern, handler in routes:
        match = pattern.match(path)
        if match:
            if route_method == method:
                return handler, match
            allowed = True
    if allowed:
        raise GraphError(405, "MethodNotAllowed",
                         "The HTTP method '%s' is not allowed for this "
                         "resource." % method)
    return None, None


# --------------------------------------------------------------------------
# HTTP front end.

class BodyError(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so clients can keep connections open, as with real Graph.
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "graphsim"

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def log_message(self, fmt, *args):
        pass                             # the request log replaces this

    def date_time_string(self, timestamp=None):
        """The Date header, on the simulator clock as everything else."""
        return email.utils.formatdate(
            self.sim.now() if timestamp is None else timestamp, usegmt=True)

    @property
    def sim(self):
        return self.server.sim

    # -- reading ----------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise BodyError()
        return self.rfile.read(length)

    def read_chunked(self):
        data = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass                 # trailers
                return data
            data += self.rfile.read(size)
            self.rfile.readline()
            if len(data) > MAX_BODY:
                raise BodyError()

    # -- writing ----------------------------------------------------------

    def reply(self, status, body, content_type=GRAPH_JSON, headers=()):
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    def graph_reply(self, status, body):
        return self.reply(status, body, headers=self.graph_headers())

    def graph_headers(self):
        return [("request-id", self.request_id),
                ("client-request-id", self.client_request_id)]

    def error_body(self, err):
        inner = {"date": self.sim.iso(suffix=""),
                 "request-id": self.request_id,
                 "client-request-id": self.client_request_id}
        if err.status == 429:
            inner["code"] = "429"
            inner["status"] = "429"
        return {"error": {"code": err.code, "message": err.message,
                          "innerError": inner}}

    def graph_error(self, err):
        body = self.error_body(err)
        headers = self.graph_headers()
        if err.retry_after is not None:
            headers.append(("Retry-After", str(err.retry_after)))
        if err.status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm=""'))
        return self.reply(err.status, body, headers=headers)

    def aad_error(self, err, extra_headers=()):
        return self.reply(err.status, aad_body(self.sim, err), PLAIN_JSON,
                          [("Cache-Control", "no-store"),
                           ("Pragma", "no-cache")] + list(extra_headers))

    # -- dispatch ---------------------------------------------------------

    def dispatch(self, method):
        self.request_id = str(uuid.uuid4())
        self.client_request_id = (self.headers.get("client-request-id")
                                  or self.request_id)
        path = urllib.parse.urlsplit(self.path).path
        try:
            raw = self.read_body()
        except (BodyError, ValueError):
            self.close_connection = True
            self.graph_error(GraphError(413, "RequestEntityTooLarge",
                                        "The request body is too large "
                                        "or malformed."))
            return
        if path.startswith("/_sim/"):
            self.guarded(self.control, method, path, raw)
            return
        with self.sim.lock:
            entry = self.sim.log_request(method, self.path,
                                         logged_body(path, raw))
        self.log_entry = entry
        status = self.guarded(self.serve, method, path, raw)
        with self.sim.lock:
            self.sim.finish_request(entry, status)

    def guarded(self, serve, method, path, raw):
        """serve(), turning a simulator bug into a 500 and a stderr line."""
        try:
            return serve(method, path, raw)
        except ConnectionError:
            self.close_connection = True
            return 0                     # the client went away
        except Exception as err:
            print("graphsim: %s %s: %r" % (method, path, err),
                  file=sys.stderr, flush=True)
            return self.graph_error(GraphError(500, "InternalServerError",
                                               "Simulator failure."))

    def serve(self, method, path, raw):
        """Faults first, then the identity platform or the Graph API."""
        with self.sim.lock:
            fault = self.sim.take_fault(path)
        if fault is not None:
            if fault["delay_ms"]:
                time.sleep(fault["delay_ms"] / 1000.0)
            if fault["drop"]:
                return self.drop()
            if fault["status"]:
                return self.fault_reply(path, fault)
        if TOKEN_PATH.match(path) or DEVICECODE_PATH.match(path):
            return self.token(method, path, raw)
        if KEYS_PATH.match(path) or OPENID_PATH.match(path):
            return self.discovery(method, path)
        if BATCH_PATH.match(path):
            return self.batch(method, raw)
        if path.lower().startswith("/v1.0/"):
            return self.graph(method, path, raw)
        return self.graph_error(GraphError(404, "NotFound",
                                           "No such endpoint: %s" % path))

    def drop(self):
        """An outage: close the connection without an answer.  A zero
        linger makes the close a reset, as a failing front end does."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        return 0

    def fault_reply(self, path, fault):
        status = fault["status"]
        if TOKEN_PATH.match(path) or DEVICECODE_PATH.match(path):
            error = "temporarily_unavailable" if status >= 429 \
                else "invalid_request"
            headers = []
            if fault["retry_after"] is not None:
                headers.append(("Retry-After", str(fault["retry_after"])))
            return self.aad_error(AadError(status, error, 50000,
                                           fault["message"] or "Injected "
                                           "failure."), headers)
        return self.graph_error(fault_error(fault))

    # The front doors below work on state under the lock and write to the
    # socket only after releasing it, so a slow client stalls no one else.

    def token(self, method, path, raw):
        device = DEVICECODE_PATH.match(path)
        tenant = urllib.parse.unquote((device or TOKEN_PATH.match(path))
                                      .group(1))
        try:
            if method != "POST":
                raise AadError(400, "invalid_request", 900561,
                               "The endpoint only accepts POST requests.")
            basic = basic_credentials(self.headers.get("Authorization"))
            fields = form_fields(raw)
            with self.sim.lock:
                if device:
                    body = graphsim_auth.device_code_request(
                        self.sim, tenant, fields, basic)
                else:
                    body = graphsim_auth.token_grant(
                        self.sim, tenant, fields, basic, self.own_url(path))
        except AadError as err:
            return self.aad_error(err)
        return self.reply(200, body, PLAIN_JSON,
                          [("Cache-Control", "no-store"),
                           ("Pragma", "no-cache")])

    def own_url(self, path):
        """The URL the client sent this request to (assertion audience)."""
        host = self.headers.get("Host")
        if not host:
            return self.sim.login_url + path
        return "http://%s%s" % (host, path)

    def discovery(self, method, path):
        """The signing keys (JWKS) and the OpenID configuration."""
        keys = KEYS_PATH.match(path)
        tenant = urllib.parse.unquote((keys or OPENID_PATH.match(path))
                                      .group(1))
        try:
            if method != "GET":
                raise AadError(400, "invalid_request", 900561,
                               "The endpoint only accepts GET requests.")
            graphsim_auth.known_tenant(self.sim, tenant)
            with self.sim.lock:
                body = graphsim_auth.jwks(self.sim) if keys else \
                    graphsim_auth.openid_configuration(self.sim, tenant)
        except AadError as err:
            return self.aad_error(err)
        return self.reply(200, body, PLAIN_JSON)

    def graph(self, method, path, raw):
        try:
            status, result = self.run_graph(method, path, raw)
        except GraphError as err:
            return self.graph_error(err)
        return self.graph_reply(status, result)

    def run_graph(self, method, path, raw):
        """(status, body) of a Graph call, or GraphError.  A handler may
        leave work for outside the lock (the subscription handshake)."""
        with self.sim.lock:
            status, result = self.call_graph(method, path, raw)
        if isinstance(result, Deferred):
            status, result = result.fn()
        return status, result

    def call_graph(self, method, path, raw):
        """Route, authenticate, rate-limit, parse, run the handler."""
        handler, match = find_route(GRAPH_ROUTES, method, path)
        if handler is None:
            segment = path.rstrip("/").rsplit("/", 1)[-1]
            raise bad_request("Resource not found for the segment '%s'."
                              % segment)
        app = self.authenticate()
        if handler not in UNRATED:
            self.sim.check_rate(app)
        body = parse_json(raw)
        uid = urllib.parse.unquote(match.group(1)) if match.groups() \
            else None
        return handler(self.sim, app, uid, body)

    # -- $batch -----------------------------------------------------------

    def batch(self, method, raw):
        """POST /v1.0/$batch: up to 20 requests, each through the same
        faults, authentication, rate limit and handlers as alone."""
        try:
            if method != "POST":
                raise GraphError(405, "MethodNotAllowed",
                                 "The HTTP method '%s' is not allowed for "
                                 "this resource." % method)
            with self.sim.lock:
                self.authenticate()
            requests = batch_order(parse_batch(parse_json(raw)))
        except GraphError as err:
            return self.graph_error(err)
        responses, outcome = [], {}
        for req in requests:
            failed = [d for d in req.get("dependsOn") or ()
                      if not 200 <= outcome[d] < 300]
            if failed:
                resp = self.batch_error(req, GraphError(
                    424, "FailedDependency", "The request depends on "
                    "request '%s', which failed." % failed[0]))
            else:
                resp = self.batch_one(req)
                if resp is None:
                    return self.drop()
            outcome[req["id"]] = resp["status"]
            responses.append(resp)
        return self.graph_reply(200, {"responses": responses})

    def batch_one(self, req):
        """The response object of one inner request; None to drop."""
        url = req["url"]
        target = urllib.parse.urlsplit(url if url.startswith("/")
                                       else "/" + url)
        path = "/v1.0" + target.path
        body = req.get("body")
        raw = b"" if body is None else json.dumps(body).encode()
        with self.sim.lock:
            entry = self.sim.log_request(req["method"], "/v1.0" + (
                url if url.startswith("/") else "/" + url), body)
            entry["batch"] = self.log_entry["seq"]
            fault = self.sim.take_fault(path)
        resp = None
        if fault is not None:
            if fault["delay_ms"]:
                time.sleep(fault["delay_ms"] / 1000.0)
            if fault["drop"]:
                return None
            if fault["status"]:
                resp = self.batch_error(req, fault_error(fault))
        if resp is None:
            resp = self.batch_call(req, path, raw)
        with self.sim.lock:
            self.sim.finish_request(entry, resp["status"])
        return resp

    def batch_call(self, req, path, raw):
        headers = {k.lower(): v for k, v in (req.get("headers") or {})
                   .items()}
        try:
            if req.get("body") is not None and \
                    "content-type" not in headers:
                raise bad_request("A request with a body needs a "
                                  "Content-Type header.")
            if BATCH_PATH.match(path):
                raise bad_request("A batch cannot contain a batch.")
            status, result = self.run_graph(req["method"], path, raw)
        except GraphError as err:
            return self.batch_error(req, err)
        out = {"id": req["id"], "status": status,
               "headers": {"request-id": self.request_id}}
        if result is not None:
            out["headers"]["Content-Type"] = GRAPH_JSON
            out["body"] = result
        return out

    def batch_error(self, req, err):
        headers = {"Content-Type": "application/json",
                   "request-id": self.request_id}
        if err.retry_after is not None:
            headers["Retry-After"] = str(err.retry_after)
        return {"id": req["id"], "status": err.status, "headers": headers,
                "body": self.error_body(err)}

    def authenticate(self):
        """The Token behind a valid, unexpired Bearer header."""
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Access token is empty.")
        app = self.sim.tokens.get(token)
        if app is None:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Access token validation failure.")
        if app.expires_at <= self.sim.now():
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Lifetime validation failed, the token is "
                             "expired.")
        return app

    def control(self, method, path, raw):
        try:
            with self.sim.lock:
                handler, match = find_route(CONTROL_ROUTES, method,
                                            urllib.parse.unquote(path))
                if handler is None:
                    raise GraphError(404, "NotFound",
                                     "No such control endpoint: %s" % path)
                status, result = handler(self.sim, match, parse_json(raw))
                data = json.loads(json.dumps(result))    # a snapshot
        except GraphError as err:
            body = {"error": {"code": err.code, "message": err.message}}
            return self.reply(err.status, body, PLAIN_JSON)
        return self.reply(status, data, PLAIN_JSON)


def fault_error(fault):
    """The Graph error an armed fault answers with."""
    code = fault["code"] or GRAPH_CODES.get(fault["status"], "UnknownError")
    return GraphError(fault["status"], code,
                      fault["message"] or "Injected failure.",
                      fault["retry_after"])


BATCH_PATH = re.compile(r"^/v1\.0/(?:\$|%24)batch$", re.IGNORECASE)
MAX_BATCH = 20
BATCH_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


def parse_batch(body):
    """The requests of a $batch body, checked; 400 when malformed."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"),
                                                    list):
        raise bad_request("Invalid batch payload format: expected "
                          "{\"requests\": [...]}.")
    requests = body["requests"]
    if not requests:
        raise bad_request("A batch needs at least one request.")
    if len(requests) > MAX_BATCH:
        raise bad_request("Number of batch requests (%d) exceeds the limit "
                          "of %d." % (len(requests), MAX_BATCH))
    ids = set()
    for req in requests:
        if not isinstance(req, dict) or not isinstance(req.get("id"), str) \
                or not req["id"]:
            raise bad_request("Every batch request needs a string id.")
        if req["id"] in ids:
            raise bad_request("Batch request id '%s' is not unique."
                              % req["id"])
        ids.add(req["id"])
        if req.get("method") not in BATCH_METHODS or \
                not isinstance(req.get("url"), str) or not req["url"]:
            raise bad_request("Batch request '%s' needs a method and a "
                              "relative url." % req["id"])
        if req["url"].lower().startswith(("http:", "https:")):
            raise bad_request("Batch request '%s': the url must be relative "
                              "to the version." % req["id"])
        if not isinstance(req.get("headers") or {}, dict):
            raise bad_request("Batch request '%s': headers must be an "
                              "object." % req["id"])
    for req in requests:
        deps = req.get("dependsOn") or []
        if not isinstance(deps, list) or \
                any(d not in ids or d == req["id"] for d in deps):
            raise bad_request("Batch request '%s' depends on an unknown "
                              "request." % req["id"])
    return requests


def batch_order(requests):
    """The requests in an order that runs each after its dependencies,
    otherwise as given; 400 on a cycle."""
    done, order = set(), []
    left = list(requests)
    while left:
        ready = [r for r in left
                 if all(d in done for d in r.get("dependsOn") or ())]
        if not ready:
            raise bad_request("The dependsOn references of the batch form "
                              "a cycle.")
        order.append(ready[0])
        done.add(ready[0]["id"])
        left.remove(ready[0])
    return order


def logged_body(path, raw):
    """What the request log keeps of a body: JSON, or a redacted form."""
    if TOKEN_PATH.match(path) or DEVICECODE_PATH.match(path):
        fields = form_fields(raw)
        for name in SECRET_FIELDS:
            if name in fields:
                fields[name] = REDACTED
        return fields or None
    try:
        return parse_json(raw)
    except GraphError:
        return None


# --------------------------------------------------------------------------
# Start-up.

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sim):
        self.address_family = (socket.AF_INET6 if ":" in address[0]
                               else socket.AF_INET)
        self.sim = sim
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up; we have no use
        # for it and stay off the resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def load_users(sim, path):
    """Lines of 'entra-object-id,upn'; '#' starts a comment."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            uid, _, upn = (part.strip() for part in line.partition(","))
            if not uid or "/" in uid:
                raise ValueError("%s:%d: expected 'entra-object-id,upn'"
                                 % (path, number))
            sim.add_user(uid, upn)


def write_port_file(path, port):
    """Written whole (rename) so a reader never sees a partial number."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Microsoft Graph presence simulator for presgw tests.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, required=True,
                   help="port to listen on; 0 picks a free one")
    p.add_argument("--port-file", help="write the port number here")
    p.add_argument("--tenant", required=True, help="tenant id or domain")
    p.add_argument("--client-id", required=True, help="application id")
    p.add_argument("--client-secret", required=True, help="client secret")
    p.add_argument("--users", help="file of 'entra-object-id,upn' lines")
    p.add_argument("--token-lifetime", type=int, default=3599,
                   help="access token lifetime in seconds (default 3599)")
    p.add_argument("--rate-limit", type=int, default=RATE_LIMIT_DEFAULT,
                   help="presence requests per window (default 1500)")
    p.add_argument("--rate-window", type=float, default=RATE_WINDOW_DEFAULT,
                   help="rate limit window in seconds (default 30)")
    p.add_argument("--unknown-ids", choices=("omit", "unknown"),
                   default="omit",
                   help="getPresencesByUserId: leave out unknown ids "
                        "(default) or report them as PresenceUnknown")
    p.add_argument("--log", help="append each request as a JSON line here")
    p.add_argument("--refresh-lifetime", type=float, default=90 * DAY,
                   help="refresh token lifetime in seconds (default 90 "
                        "days), counted from its issue on the sim clock")
    p.add_argument("--refresh-reuse", choices=("allow", "reject"),
                   default="allow",
                   help="whether a refresh token still works after it was "
                        "redeemed (default allow, as the platform does)")
    p.add_argument("--device-code-lifetime", type=int,
                   default=graphsim_auth.DEVICE_CODE_LIFETIME,
                   help="expires_in of device codes (default 900)")
    p.add_argument("--device-code-interval", type=int,
                   default=graphsim_auth.DEVICE_CODE_INTERVAL,
                   help="polling interval of device codes (default 5)")
    p.add_argument("--client-cert",
                   help="PEM certificate the app signs client assertions "
                        "with (needs python3-cryptography)")
    p.add_argument("--delivery-backoff", type=float, default=1.0,
                   help="seconds before the first delivery retry; doubles "
                        "each retry (default 1)")
    args = p.parse_args(argv)
    if args.token_lifetime < 1 or args.rate_limit < 1 \
            or args.rate_window <= 0 or args.refresh_lifetime <= 0 \
            or args.device_code_lifetime < 1 \
            or args.device_code_interval < 1 or args.delivery_backoff < 0:
        p.error("lifetimes, intervals, --rate-limit and --rate-window "
                "must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        sim = Sim(args)
        if args.users:
            load_users(sim, args.users)
        if args.log:
            sim.log_file = open(args.log, "a", encoding="utf-8")
        server = Server((args.host, args.port), sim)
    except (OSError, ValueError, ImportError) as err:
        print("graphsim: %s" % err, file=sys.stderr)
        return 1
    port = server.server_address[1]
    host = "[%s]" % args.host if ":" in args.host else args.host
    sim.login_url = "http://%s:%d" % (host, port)
    sim.base_url = sim.login_url + "/v1.0"
    graphsim_subs.start(sim)

    # shutdown() waits for serve_forever() to return, so it must run on
    # another thread than the one the signal interrupts.
    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        write_port_file(args.port_file, port)
    print("graphsim listening port=%d" % port, flush=True)
    # A short poll interval so SIGTERM takes effect quickly.
    server.serve_forever(poll_interval=0.05)
    server.server_close()
    graphsim_subs.stop(sim)
    if sim.log_file is not None:
        sim.log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
