"""graphsim_subs: presence change notifications of the Graph simulator.

Subscriptions (/v1.0/subscriptions) with the validation handshake, the
delivery of change notifications (basic, or rich with encrypted resource
data and validation tokens) and of lifecycle notifications on a
background thread, and the control calls to inspect deliveries and to
inject delivery faults.

Handlers run under the simulator lock like those of graphsim.py; the
handshake and every delivery talk to the client's endpoint without it.
Encryption needs the cryptography package, imported where it is used.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import ssl
import threading
import time
import urllib.parse
import uuid

from graphsim_base import (CHANGE_TRACKING_APP_ID, DAY, MINUTE, GraphError,
                           bad_request, iso_7, parse_iso)

MAX_SUBSCRIPTION_IDS = 650
SUBSCRIPTION_MAX = 60 * MINUTE       # presence: at most 60 minutes ahead
SUBSCRIPTION_MIN = 45 * MINUTE       # earlier expirations are raised to 45
MAX_CLIENT_STATE = 128
MAX_CERTIFICATE_ID = 128
VALIDATION_TIMEOUT = 10.0
DELIVERY_TIMEOUT = 3.0               # first attempt
RETRY_TIMEOUT = 10.0                 # retried attempts
DELIVERY_ATTEMPTS = 4                # the first and three retries
GATHER_SECONDS = 0.05                # changes this close share one POST
TICK_SECONDS = 0.1
MAX_DELIVERY_LOG = 10000
VALIDATION_TOKEN_LIFETIME = DAY
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved",
                    "missed")
SUBSCRIPTION_FIELDS = (
    "changeType", "notificationUrl", "lifecycleNotificationUrl", "resource",
    "expirationDateTime", "clientState", "includeResourceData",
    "encryptionCertificate", "encryptionCertificateId",
    "latestSupportedTlsVersion", "notificationUrlAppId",
    "notificationQueryOptions", "notificationContentType")
TLS_VERSIONS = ("v1_0", "v1_1", "v1_2", "v1_3")

_SINGLE_RE = re.compile(r"^/?communications/presences/([^/?()']+)$",
                        re.IGNORECASE)
_BULK_RE = re.compile(r"^/?communications/presences\?\$filter=id\s+in\s*"
                      r"\((.*)\)\s*$", re.IGNORECASE)
_QUOTED_RE = re.compile(r"^'([^']+)'$")


class Subs:
    """Subscriptions, queued notifications and the delivery record."""

    def __init__(self, sim, backoff):
        self.sim = sim
        self.by_id = {}                  # id -> subscription dict
        self.pending = []                # changes not yet handed out
        self.first_pending = None        # monotonic time of the oldest
        self.jobs = []                   # POSTs due: (monotonic, job)
        self.faults = []
        self.deliveries = []
        self.delivery_seq = 0
        self.backoff = backoff
        self.wake = threading.Condition(sim.lock)
        self.stopping = False

    def clear(self):
        self.by_id.clear()
        self.pending.clear()
        self.first_pending = None
        self.jobs.clear()
        self.faults.clear()
        self.deliveries.clear()

    # -- under the lock ---------------------------------------------------

    def live(self, sub_id):
        """The subscription with this id unless it expired (then gone)."""
        sub = self.by_id.get(str(sub_id).lower())
        if sub is not None and sub["expires_at"] <= self.sim.now():
            del self.by_id[sub["id"]]
            sub = None
        return sub

    def expire(self):
        now = self.sim.now()
        for sub_id in [i for i, s in self.by_id.items()
                       if s["expires_at"] <= now]:
            del self.by_id[sub_id]

    def presence_changed(self, user, availability, activity):
        """Queue a notification for every live subscription of user."""
        key = user.id.lower()
        now = self.sim.now()
        added = False
        for sub in self.by_id.values():
            if key in sub["keys"] and sub["expires_at"] > now:
                self.pending.append((sub["id"], user.id, availability,
                                     activity))
                added = True
        if added:
            if self.first_pending is None:
                self.first_pending = time.monotonic()
            self.wake.notify_all()

    def take_jobs(self):
        """POSTs to make now: gathered changes and due retries."""
        now = time.monotonic()
        jobs = [job for due, job in self.jobs if due <= now]
        self.jobs = [(due, job) for due, job in self.jobs if due > now]
        if self.pending and now - self.first_pending >= GATHER_SECONDS:
            jobs.extend(self.notification_jobs())
            self.pending, self.first_pending = [], None
        return jobs

    def notification_jobs(self):
        """One POST per subscription, carrying all its queued changes."""
        by_sub = {}
        for sub_id, uid, availability, activity in self.pending:
            by_sub.setdefault(sub_id, []).append((uid, availability,
                                                  activity))
        jobs = []
        for sub_id, changes in by_sub.items():
            sub = self.live(sub_id)
            if sub is None:
                continue                 # deleted or expired meanwhile
            items = [notification(self.sim, sub, *c) for c in changes]
            payload = {"value": items}
            if sub["includeResourceData"]:
                payload["validationTokens"] = [validation_token(self.sim,
                                                                sub)]
            jobs.append({"kind": "notification", "subscriptionId": sub_id,
                         "url": sub["notificationUrl"], "payload": payload,
                         "attempt": 1})
        return jobs

    def take_fault(self):
        if not self.faults:
            return None
        fault = self.faults[0]
        if fault["count"] > 0:
            fault["count"] -= 1
            if fault["count"] == 0:
                self.faults.pop(0)
        fault["hits"] += 1
        return dict(fault)

    def record(self, entry):
        self.delivery_seq += 1
        entry = dict(entry, seq=self.delivery_seq, time=self.sim.iso_ms())
        self.deliveries.append(entry)
        del self.deliveries[:-MAX_DELIVERY_LOG]
        return entry

    def schedule_retry(self, job):
        if job["attempt"] >= DELIVERY_ATTEMPTS:
            return
        wait = self.backoff * (2 ** (job["attempt"] - 1))
        self.jobs.append((time.monotonic() + wait,
                          dict(job, attempt=job["attempt"] + 1)))
        self.wake.notify_all()


# --------------------------------------------------------------------------
# Notification bodies.

def presence_resource(uid):
    return {"@odata.type": "#microsoft.graph.presence",
            "@odata.id": "users/%s/presence" % uid, "id": uid}


def notification(sim, sub, uid, availability, activity):
    item = {
        "subscriptionId": sub["id"],
        "clientState": sub["clientState"],
        "changeType": "updated",
        "tenantId": sim.tenant,
        "resource": "communications/presences/%s" % uid,
        "subscriptionExpirationDateTime": iso_7(sub["expires_at"]),
        "resourceData": presence_resource(uid),
        "organizationId": sim.tenant,
    }
    if sub["includeResourceData"]:
        data = dict(presence_resource(uid), availability=availability,
                    activity=activity)
        item["encryptedContent"] = encrypt(sub, json.dumps(data).encode())
    return item


def lifecycle_notification(sim, sub, event):
    return {"value": [{
        "subscriptionId": sub["id"],
        "subscriptionExpirationDateTime": iso_7(sub["expires_at"]),
        "tenantId": sim.tenant,
        "clientState": sub["clientState"],
        "lifecycleEvent": event,
    }]}


def encrypt(sub, plain):
    """encryptedContent: AES-256-CBC under a fresh key, the key wrapped
    with RSA-OAEP (SHA-1) to the subscription's certificate, and an
    HMAC-SHA256 of the ciphertext."""
    from cryptography.hazmat.primitives import hashes, padding as sympad
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers import (Cipher, algorithms,
                                                        modes)
    key = os.urandom(32)
    padder = sympad.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    data = enc.update(padded) + enc.finalize()
    wrapped = sub["public_key"].encrypt(key, padding.OAEP(
        mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(),
        label=None))
    signature = hmac.new(key, data, hashlib.sha256).digest()
    return {
        "data": base64.b64encode(data).decode("ascii"),
        "dataSignature": base64.b64encode(signature).decode("ascii"),
        "dataKey": base64.b64encode(wrapped).decode("ascii"),
        "encryptionCertificateId": sub["encryptionCertificateId"],
        "encryptionCertificateThumbprint": sub["thumbprint"],
    }


def validation_token(sim, sub):
    """The JWT Graph adds to rich notifications, as issued to Microsoft
    Graph Change Tracking for the subscribing app."""
    from graphsim_auth import issuer, sign_jwt
    now = int(sim.now())
    return sign_jwt(sim, {
        "aud": sub["applicationId"], "iss": issuer(sim),
        "iat": now, "nbf": now, "exp": now + VALIDATION_TOKEN_LIFETIME,
        "azp": CHANGE_TRACKING_APP_ID, "azpacr": "2",
        "oid": CHANGE_TRACKING_OID, "sub": CHANGE_TRACKING_OID,
        "tid": sim.tenant, "ver": "2.0",
        "uti": uuid.uuid4().hex[:22],
    })


# The object id of the Change Tracking service principal in the tenant;
# any fixed value serves.
CHANGE_TRACKING_OID = "1e7d79fa-7893-4d50-bdde-164260d9c5ba"


# --------------------------------------------------------------------------
# HTTP client side: the handshake and deliveries.  No proxy applies.

def loopback(host):
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint_url(name, url):
    """https, or http on loopback; the simulator reaches loopback only."""
    if not isinstance(url, str) or not url:
        raise bad_request("%s is required." % name)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("%s must be an https URL; got '%s'." % (name, url))
    if not loopback(parts.hostname):
        raise bad_request("%s '%s': the simulator delivers to loopback "
                          "hosts only." % (name, url))


def post(url, body, content_type, timeout):
    """(status, content type, body bytes) of a POST; OSError on failure."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        # Test endpoints have self-signed certificates.
        ctx = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection(parts.hostname, parts.port,
                                           timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port,
                                          timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.request("POST", target, body=body,
                     headers={"Content-Type": content_type,
                              "User-Agent": "graphsim"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheader("Content-Type") or "", data
    except http.client.HTTPException as err:
        raise OSError(str(err) or type(err).__name__)
    finally:
        conn.close()


def validate_endpoint(sim, sub_id, url):
    """The handshake: POST ?validationToken=..., expect it back in 10 s."""
    token = ("Validation: Testing client application reachability for "
             "subscription Request-Id: %s" % uuid.uuid4())
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    target = url + sep + "validationToken=" + urllib.parse.quote_plus(token)
    started = time.monotonic()
    status, error = None, None
    try:
        status, ctype, data = post(target, b"", "text/plain; charset=utf-8",
                                   VALIDATION_TIMEOUT)
        if status != 200:
            error = "status %d" % status
        elif not ctype.lower().startswith("text/plain"):
            error = "content type '%s', not text/plain" % ctype
        elif data.decode("utf-8", "replace") != token:
            error = "the body is not the validation token"
    except OSError as err:
        error = "no answer: %s" % (err or type(err).__name__)
    latency = time.monotonic() - started
    if error is None and latency > VALIDATION_TIMEOUT:
        error = "answered after %.1f s" % latency
    with sim.lock:
        sim.subs.record({"kind": "validation", "subscriptionId": sub_id,
                         "url": target, "attempt": 1, "status": status,
                         "latency_ms": round(latency * 1000, 1),
                         "ok": error is None, "error": error,
                         "dropped": False, "body": None,
                         "validationToken": token})
    return error


def deliver(sim, job):
    """One POST of a job; records it and schedules a retry on failure."""
    with sim.lock:
        fault = sim.subs.take_fault()
    if fault is not None and fault["delay_ms"]:
        time.sleep(fault["delay_ms"] / 1000.0)
    entry = {"kind": job["kind"], "subscriptionId": job["subscriptionId"],
             "url": job["url"], "attempt": job["attempt"], "status": None,
             "latency_ms": None, "ok": False, "error": None,
             "dropped": False, "body": job["payload"]}
    if fault is not None and fault["drop"]:
        entry.update(dropped=True, error="dropped by a delivery fault")
        with sim.lock:
            sim.subs.record(entry)
        return
    timeout = DELIVERY_TIMEOUT if job["attempt"] == 1 else RETRY_TIMEOUT
    started = time.monotonic()
    try:
        status, _, _ = post(job["url"], json.dumps(job["payload"]).encode(),
                            "application/json; charset=utf-8", timeout)
        entry["status"] = status
        if not 200 <= status < 300:
            entry["error"] = "status %d" % status
    except OSError as err:
        entry["error"] = "no answer: %s" % (err or type(err).__name__)
    latency = time.monotonic() - started
    entry["latency_ms"] = round(latency * 1000, 1)
    if entry["error"] is None and latency > DELIVERY_TIMEOUT:
        entry["error"] = "answered after %.1f s" % latency
    entry["ok"] = entry["error"] is None
    with sim.lock:
        sim.subs.record(entry)
        if not entry["ok"]:
            sim.subs.schedule_retry(job)


def delivery_loop(sim):
    """The background thread: tick the clock-driven state, send due jobs."""
    subs = sim.subs
    while True:
        with sim.lock:
            subs.wake.wait(TICK_SECONDS / 2 if subs.pending
                           else TICK_SECONDS)
            if subs.stopping:
                return
            sim.tick()
            jobs = subs.take_jobs()
        for job in jobs:
            deliver(sim, job)


def start(sim):
    thread = threading.Thread(target=delivery_loop, args=(sim,),
                              name="graphsim-delivery", daemon=True)
    thread.start()
    return thread


def stop(sim):
    with sim.lock:
        sim.subs.stopping = True
        sim.subs.wake.notify_all()


# --------------------------------------------------------------------------
# Graph API: /v1.0/subscriptions.  Creation returns a Deferred: the
# handshake runs after the lock is released.

class Deferred:
    """Work a handler leaves for outside the lock: fn() -> (status, body)."""

    def __init__(self, fn):
        self.fn = fn


def parse_resource(resource):
    """The user ids a presence resource names, or 400."""
    if not isinstance(resource, str):
        raise bad_request("resource is required.")
    text = urllib.parse.unquote(resource.strip())
    m = _SINGLE_RE.match(text)
    if m:
        return [m.group(1)]
    m = _BULK_RE.match(text)
    if not m:
        raise bad_request("Unsupported resource '%s'. Presence supports "
                          "communications/presences/{id} and "
                          "communications/presences?$filter=id in "
                          "('{id}',...)." % resource)
    ids = []
    for part in m.group(1).split(","):
        part = part.strip()
        q = _QUOTED_RE.match(part)
        uid = q.group(1) if q else part
        if not uid or "'" in uid or " " in uid:
            raise bad_request("Invalid id '%s' in the filter of resource "
                              "'%s'." % (part, resource))
        ids.append(uid)
    if len(ids) > MAX_SUBSCRIPTION_IDS:
        raise bad_request("The number of ids in the filter (%d) exceeds "
                          "the maximum of %d." % (len(ids),
                                                  MAX_SUBSCRIPTION_IDS))
    return ids


def check_delegated(app, operation):
    """Presence subscriptions take delegated Presence.Read.All only."""
    if not app.delegated:
        raise GraphError(403, "ExtensionError",
                         "Operation: %s; Exception: [Status Code: Forbidden; "
                         "Reason: Application permissions are not supported "
                         "for presence subscriptions; use a delegated token "
                         "with Presence.Read.All.]" % operation)
    if not app.has_scope("Presence.Read.All", "Presence.ReadWrite.All"):
        raise GraphError(403, "ExtensionError",
                         "Operation: %s; Exception: [Status Code: Forbidden; "
                         "Reason: The token lacks the delegated permission "
                         "Presence.Read.All.]" % operation)


def expiration(sim, text):
    """Seconds since the epoch for expirationDateTime, by the rules."""
    when = parse_iso(text)
    if when is None:
        raise bad_request("expirationDateTime '%s' is not a valid date and "
                          "time." % text)
    now = sim.now()
    if when <= now:
        raise bad_request("Subscription expiration date '%s' is in the "
                          "past." % text)
    if when > now + SUBSCRIPTION_MAX:
        raise bad_request("Subscription expiration can only be %d minutes "
                          "in the future." % (SUBSCRIPTION_MAX // MINUTE))
    return max(when, now + SUBSCRIPTION_MIN)


def check_fields(body):
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for name in body:
        if name not in SUBSCRIPTION_FIELDS and name != "@odata.type":
            raise bad_request("Property '%s' does not exist on type "
                              "'microsoft.graph.subscription'." % name)


def encryption_certificate(body):
    """(public key, thumbprint) of encryptionCertificate, or 400."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    cert_id = body.get("encryptionCertificateId")
    if not isinstance(cert_id, str) or not cert_id:
        raise bad_request("encryptionCertificateId is required when "
                          "includeResourceData is true.")
    if len(cert_id) > MAX_CERTIFICATE_ID:
        raise bad_request("encryptionCertificateId must be at most %d "
                          "characters." % MAX_CERTIFICATE_ID)
    text = body.get("encryptionCertificate")
    if not isinstance(text, str) or not text:
        raise bad_request("encryptionCertificate is required when "
                          "includeResourceData is true.")
    try:
        der = base64.b64decode(text, validate=True)
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        raise bad_request("encryptionCertificate is not a base64-encoded "
                          "DER X.509 certificate.")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or \
            not 2048 <= key.key_size <= 4096:
        raise bad_request("encryptionCertificate must hold an RSA key of "
                          "2048 to 4096 bits.")
    der = cert.public_bytes(serialization.Encoding.DER)
    return key, hashlib.sha1(der).hexdigest().upper()


def new_subscription(sim, app, body):
    """A subscription from a create request, checked but not stored."""
    check_fields(body)
    if body.get("changeType") != "updated":
        raise bad_request("changeType '%s' is not supported for presence; "
                          "use 'updated'." % body.get("changeType"))
    ids = parse_resource(body.get("resource"))
    check_endpoint_url("notificationUrl", body.get("notificationUrl"))
    if body.get("lifecycleNotificationUrl") is not None:
        check_endpoint_url("lifecycleNotificationUrl",
                           body["lifecycleNotificationUrl"])
    state = body.get("clientState")
    if state is not None and (not isinstance(state, str)
                              or len(state) > MAX_CLIENT_STATE):
        raise bad_request("clientState must be a string of at most %d "
                          "characters." % MAX_CLIENT_STATE)
    tls = body.get("latestSupportedTlsVersion") or "v1_2"
    if tls not in TLS_VERSIONS:
        raise bad_request("latestSupportedTlsVersion '%s' is not valid."
                          % tls)
    rich = body.get("includeResourceData") or False
    if not isinstance(rich, bool):
        raise bad_request("includeResourceData must be a boolean.")
    public_key, thumbprint = (encryption_certificate(body) if rich
                              else (None, None))
    return {
        "id": str(uuid.uuid4()),
        "resource": body["resource"],
        "keys": {uid.lower() for uid in ids},
        "applicationId": app.client_id,
        "creatorId": app.user_id,
        "changeType": "updated",
        "clientState": state,
        "notificationUrl": body["notificationUrl"],
        "lifecycleNotificationUrl": body.get("lifecycleNotificationUrl"),
        "expires_at": expiration(sim, body.get("expirationDateTime")),
        "includeResourceData": rich,
        "encryptionCertificate": body.get("encryptionCertificate"),
        "encryptionCertificateId": body.get("encryptionCertificateId"),
        "latestSupportedTlsVersion": tls,
        "public_key": public_key,
        "thumbprint": thumbprint,
        "reauthorizationRequired": False,
    }


def check_duplicate(sim, sub):
    """One presence subscription per application per delegated user."""
    for other in list(sim.subs.by_id.values()):
        if sim.subs.live(other["id"]) is None:
            continue
        if other["applicationId"].lower() != sub["applicationId"].lower() \
                or other["creatorId"] != sub["creatorId"]:
            continue
        if other["keys"] == sub["keys"]:
            reason = ("Subscription Id %s already exists for the requested "
                      "combination" % other["id"])
        else:
            reason = ("A subscription already exists (Subscription Id %s). "
                      "It must be deleted before another can be made."
                      % other["id"])
        raise GraphError(409, "ExtensionError",
                         "Operation: Create; Exception: [Status Code: "
                         "Conflict; Reason: %s]" % reason)


def subscription_json(sim, sub, context=False):
    out = {
        "id": sub["id"],
        "resource": sub["resource"],
        "applicationId": sub["applicationId"],
        "changeType": sub["changeType"],
        "clientState": sub["clientState"],
        "notificationUrl": sub["notificationUrl"],
        "notificationQueryOptions": None,
        "lifecycleNotificationUrl": sub["lifecycleNotificationUrl"],
        "expirationDateTime": iso_7(sub["expires_at"]),
        "creatorId": sub["creatorId"],
        "includeResourceData": sub["includeResourceData"],
        "latestSupportedTlsVersion": sub["latestSupportedTlsVersion"],
        "encryptionCertificate": sub["encryptionCertificate"],
        "encryptionCertificateId": sub["encryptionCertificateId"],
        "notificationUrlAppId": None,
    }
    if context:
        out = dict({"@odata.context": "%s/$metadata#subscriptions/$entity"
                    % sim.base_url}, **out)
    return out


def api_create(sim, app, uid, body):
    check_delegated(app, "Create")
    sub = new_subscription(sim, app, body)
    check_duplicate(sim, sub)
    return 201, Deferred(lambda: finish_create(sim, sub))


def finish_create(sim, sub):
    """Outside the lock: validate both URLs, then store."""
    urls = [("notificationUrl", sub["notificationUrl"])]
    if sub["lifecycleNotificationUrl"]:
        urls.append(("lifecycleNotificationUrl",
                     sub["lifecycleNotificationUrl"]))
    for name, url in urls:
        error = validate_endpoint(sim, sub["id"], url)
        if error is not None:
            raise GraphError(400, "ValidationError",
                             "Subscription validation request failed. "
                             "Notification endpoint must respond with 200 "
                             "OK to validation request. (%s: %s)"
                             % (name, error))
    with sim.lock:
        check_duplicate(sim, sub)        # another may have won meanwhile
        sim.subs.by_id[sub["id"]] = sub
        return 201, subscription_json(sim, sub, context=True)


def own_subscription(sim, app, sub_id, operation):
    sub = sim.subs.live(sub_id)
    if sub is None or sub["applicationId"].lower() != app.client_id.lower():
        raise GraphError(404, "ResourceNotFound",
                         "The object was not found. Subscription '%s' does "
                         "not exist." % sub_id)
    if operation is not None:
        check_delegated(app, operation)
        if sub["creatorId"] != app.user_id:
            raise GraphError(403, "ExtensionError",
                             "Operation: %s; Exception: [Status Code: "
                             "Forbidden; Reason: The subscription was "
                             "created by another user.]" % operation)
    return sub


def api_list(sim, app, uid, body):
    sim.subs.expire()
    value = [subscription_json(sim, s) for s in sim.subs.by_id.values()
             if s["applicationId"].lower() == app.client_id.lower()
             and (not app.delegated or s["creatorId"] == app.user_id)]
    return 200, {"@odata.context": "%s/$metadata#subscriptions"
                 % sim.base_url, "value": value}


def api_get(sim, app, uid, body):
    return 200, subscription_json(sim, own_subscription(sim, app, uid, None),
                                  context=True)


def api_update(sim, app, uid, body):
    sub = own_subscription(sim, app, uid, "Update")
    if not isinstance(body, dict) or "expirationDateTime" not in body:
        raise bad_request("expirationDateTime is required.")
    for name in body:
        if name != "expirationDateTime":
            raise bad_request("Only expirationDateTime can be updated on a "
                              "presence subscription; got '%s'." % name)
    sub["expires_at"] = expiration(sim, body["expirationDateTime"])
    sub["reauthorizationRequired"] = False
    return 200, subscription_json(sim, sub, context=True)


def api_delete(sim, app, uid, body):
    sub = own_subscription(sim, app, uid, "Delete")
    del sim.subs.by_id[sub["id"]]
    return 204, None


def api_reauthorize(sim, app, uid, body):
    sub = own_subscription(sim, app, uid, "Reauthorize")
    sub["reauthorizationRequired"] = False
    return 204, None


_SID = r"([^/]+)"
# (method, path under /v1.0, handler); none counts against the presence
# rate limit.
GRAPH_ROUTES = [
    ("POST", r"/subscriptions", api_create),
    ("GET", r"/subscriptions", api_list),
    ("GET", r"/subscriptions/%s" % _SID, api_get),
    ("PATCH", r"/subscriptions/%s" % _SID, api_update),
    ("DELETE", r"/subscriptions/%s" % _SID, api_delete),
    ("POST", r"/subscriptions/%s/%sreauthorize"
     % (_SID, r"(?:microsoft\.graph\.)?"), api_reauthorize),
]


# --------------------------------------------------------------------------
# Control calls.

def ctl_subscriptions(sim, match, body):
    sim.subs.expire()
    now = sim.now()
    return 200, [dict(subscription_json(sim, s),
                      expires_in=round(s["expires_at"] - now, 3),
                      userIds=sorted(s["keys"]),
                      reauthorizationRequired=s["reauthorizationRequired"])
                 for s in sim.subs.by_id.values()]


def ctl_lifecycle(sim, match, body):
    """Send a lifecycle notification; subscriptionRemoved also deletes."""
    sub = sim.subs.live(match.group(1))
    if sub is None:
        raise GraphError(404, "NotFound", "No subscription '%s'."
                         % match.group(1))
    event = body.get("event") if isinstance(body, dict) else None
    if event not in LIFECYCLE_EVENTS:
        raise bad_request("event must be one of %s."
                          % ", ".join(LIFECYCLE_EVENTS))
    url = sub["lifecycleNotificationUrl"] or sub["notificationUrl"]
    sim.subs.jobs.append((time.monotonic(), {
        "kind": "lifecycle", "subscriptionId": sub["id"], "url": url,
        "payload": lifecycle_notification(sim, sub, event), "attempt": 1}))
    if event == "reauthorizationRequired":
        sub["reauthorizationRequired"] = True
    elif event == "subscriptionRemoved":
        del sim.subs.by_id[sub["id"]]
    sim.subs.wake.notify_all()
    return 202, {"subscriptionId": sub["id"], "event": event, "url": url}


def ctl_deliveries(sim, match, body):
    return 200, list(sim.subs.deliveries)


def ctl_clear_deliveries(sim, match, body):
    sim.subs.deliveries.clear()
    return 200, {"ok": True}


def ctl_add_delivery_fault(sim, match, body):
    if not isinstance(body, dict):
        raise bad_request("Expected {\"count\", \"delay_ms\", \"drop\"}.")
    fault = {"count": body.get("count", 1),
             "delay_ms": body.get("delay_ms", 0),
             "drop": body.get("drop", False), "hits": 0}
    if not isinstance(fault["count"], int) or fault["count"] == 0 \
            or fault["count"] < -1:
        raise bad_request("count must be a positive integer or -1.")
    if not isinstance(fault["delay_ms"], (int, float)) \
            or fault["delay_ms"] < 0:
        raise bad_request("delay_ms must be a non-negative number.")
    if not isinstance(fault["drop"], bool):
        raise bad_request("drop must be a boolean.")
    if not fault["drop"] and not fault["delay_ms"]:
        raise bad_request("A delivery fault needs a delay_ms, drop, or "
                          "both.")
    sim.subs.faults.append(fault)
    return 201, {"faults": sim.subs.faults}


def ctl_list_delivery_faults(sim, match, body):
    return 200, {"faults": sim.subs.faults}


def ctl_clear_delivery_faults(sim, match, body):
    sim.subs.faults.clear()
    return 200, {"faults": []}


CONTROL_ROUTES = [
    ("GET", r"/subscriptions", ctl_subscriptions),
    ("POST", r"/subscriptions/([^/]+)/lifecycle", ctl_lifecycle),
    ("GET", r"/deliveries", ctl_deliveries),
    ("DELETE", r"/deliveries", ctl_clear_deliveries),
    ("GET", r"/delivery_faults", ctl_list_delivery_faults),
    ("POST", r"/delivery_faults", ctl_add_delivery_fault),
    ("DELETE", r"/delivery_faults", ctl_clear_delivery_faults),
]
