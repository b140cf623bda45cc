"""graphsim_auth: the identity platform side of the Graph simulator.

Token endpoint grants (client credentials with a secret or a certificate
assertion, device code, refresh token), the device authorization endpoint,
the signing key whose JWKS it publishes, and the control calls that play
the service account's administrator (approve or deny a device sign-in,
revoke the account's refresh tokens).

Only the certificate assertion and the signing key need the cryptography
package (Debian's python3-cryptography); it is imported where they are
used, so everything else runs on a bare python3.
"""

import base64
import binascii
import hashlib
import re
import secrets
import urllib.parse

from graphsim_base import (DAY, AadError, GraphError, b64url, b64url_decode,
                           bad_request, missing_param)

TOKEN_PATH = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$", re.IGNORECASE)
DEVICECODE_PATH = re.compile(r"^/([^/]+)/oauth2/v2\.0/devicecode$",
                             re.IGNORECASE)
KEYS_PATH = re.compile(r"^/([^/]+)/discovery/v2\.0/keys$", re.IGNORECASE)
OPENID_PATH = re.compile(r"^/([^/]+)/v2\.0/\.well-known/"
                         r"openid-configuration$", re.IGNORECASE)

GRANT_CLIENT = "client_credentials"
GRANT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_REFRESH = "refresh_token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

DEVICE_CODE_LIFETIME = 900           # 15 minutes, as the platform gives
DEVICE_CODE_INTERVAL = 5
VERIFICATION_URI = "https://microsoft.com/devicelogin"
# OpenID scopes ask for sign-in, not for Graph permissions.
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
GRAPH_RESOURCE = "https://graph.microsoft.com/"
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ASSERTION_SKEW = 300                 # clock skew allowed on nbf and exp


class Token:
    """An issued access token: app-only, or delegated for one user."""

    def __init__(self, tenant, client_id, expires_at, user=None,
                 scopes=()):
        self.tenant = tenant
        self.client_id = client_id
        self.expires_at = expires_at
        self.user_id = user.id if user is not None else None
        self.upn = user.upn if user is not None else None
        self.scopes = tuple(scopes)

    @property
    def delegated(self):
        return self.user_id is not None

    def has_scope(self, *names):
        """A delegated token holds a permission if it was asked for by
        name or through {resource}/.default (all consented ones)."""
        wanted = {n.lower() for n in names}
        return any(s.lower() in wanted or s.endswith(".default")
                   for s in self.scopes)


class Auth:
    """Identity state: device codes, refresh tokens, keys."""

    def __init__(self, args):
        self.device_codes = {}           # device_code -> dict
        self.refresh_tokens = {}         # refresh token -> dict
        self.refresh_lifetime = args.refresh_lifetime
        self.refresh_reuse = args.refresh_reuse
        self.device_lifetime = args.device_code_lifetime
        self.device_interval = args.device_code_interval
        self.client_cert = None          # (DER, public key) or None
        self.signing = None              # lazily made (key, DER, kid)
        if args.client_cert:
            self.client_cert = load_client_cert(args.client_cert)


def load_client_cert(path):
    """The app's registered certificate: DER bytes and public key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return cert.public_bytes(serialization.Encoding.DER), cert.public_key()


# --------------------------------------------------------------------------
# Token endpoint.

def basic_credentials(header):
    """client_id and client_secret from HTTP Basic (RFC 6749 2.3.1)."""
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
        user, _, password = decoded.decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)


def check_tenant(sim, tenant):
    if tenant.lower() != sim.tenant.lower():
        raise AadError(400, "invalid_request", 90002,
                       "Tenant '%s' not found." % tenant)


def check_client_id(sim, client_id, tenant):
    if not client_id:
        raise missing_param("client_id")
    if client_id.lower() != sim.client_id.lower():
        raise AadError(400, "unauthorized_client", 700016,
                       "Application with identifier '%s' was not found in "
                       "the directory '%s'." % (client_id, tenant))


def token_grant(sim, tenant, fields, basic, url):
    """The body of a successful token response, or AadError.

    url is the address the request was sent to, the audience a client
    assertion must name.
    """
    check_tenant(sim, tenant)
    grant = fields.get("grant_type")
    if not grant:
        raise missing_param("grant_type")
    if grant not in (GRANT_CLIENT, GRANT_DEVICE, GRANT_REFRESH):
        raise AadError(400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type "
                       "'%s'." % grant)
    client_id = fields.get("client_id") or basic[0]
    check_client_id(sim, client_id, tenant)
    if grant == GRANT_CLIENT:
        authenticate_client(sim, fields, basic, client_id, tenant, url,
                            required=True)
        check_scope(fields.get("scope"))
        return token_body(sim, client_id)
    # A public-client flow: the app may prove itself but need not.
    authenticate_client(sim, fields, basic, client_id, tenant, url,
                        required=False)
    if grant == GRANT_DEVICE:
        return redeem_device_code(sim, fields, client_id)
    return redeem_refresh_token(sim, fields, client_id)


def authenticate_client(sim, fields, basic, client_id, tenant, url,
                        required):
    """A client secret or a certificate assertion, checked."""
    secret = fields.get("client_secret") or basic[1]
    if fields.get("client_assertion") or fields.get("client_assertion_type"):
        check_assertion(sim, fields, client_id, url)
        return
    if not secret:
        if required:
            raise AadError(401, "invalid_client", 7000218,
                           "The request body must contain the following "
                           "parameter: 'client_assertion' or "
                           "'client_secret'.")
        return
    if not secrets.compare_digest(secret.encode(),
                                  sim.client_secret.encode()):
        raise AadError(401, "invalid_client", 7000215,
                       "Invalid client secret provided for app '%s'."
                       % client_id)


def check_scope(scope):
    """Client credentials take one scope, '{resource}/.default'."""
    if not scope:
        raise missing_param("scope")
    parts = scope.split()
    if (len(parts) != 1 or not parts[0].endswith("/.default")
            or parts[0] == "/.default"):
        raise AadError(400, "invalid_scope", 70011,
                       "The provided value for the input parameter 'scope' "
                       "is not valid. The scope %s is not valid." % scope)


def token_body(sim, client_id, user=None, scopes=(), refresh=False,
               openid=False):
    lifetime = sim.token_lifetime
    body = {"token_type": "Bearer", "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": sim.issue_token(client_id, user, scopes)}
    if user is not None:
        body = {"token_type": "Bearer", "scope": " ".join(scopes),
                "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": body["access_token"]}
        if refresh:
            body["refresh_token"] = issue_refresh_token(sim, client_id,
                                                        user, scopes, openid)
        if openid:
            body["id_token"] = id_token(sim, client_id, user)
    return body


def id_token(sim, client_id, user):
    """OpenID Connect Core 2: who signed in.  Signed by the platform key
    when the cryptography package is there, else unsigned (alg none)."""
    import json
    now = int(sim.now())
    claims = {"aud": client_id, "iss": issuer(sim), "iat": now, "nbf": now,
              "exp": now + 3600, "tid": sim.tenant, "oid": user.id,
              "sub": b64url(hashlib.sha256(user.id.encode()).digest()),
              "preferred_username": user.upn, "name": user.upn,
              "ver": "2.0"}
    try:
        return sign_jwt(sim, claims)
    except ImportError:
        head = b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
        return head + "." + b64url(json.dumps(claims).encode()) + "."


def graph_scopes(scope_text):
    """Requested scopes without the OpenID ones, short names for Graph's."""
    out = []
    for s in scope_text.split():
        if s.lower() in OIDC_SCOPES:
            continue
        if s.lower().startswith(GRAPH_RESOURCE) and \
                not s.endswith("/.default"):
            s = s[len(GRAPH_RESOURCE):]
        out.append(s)
    return out


# --------------------------------------------------------------------------
# Device authorization (RFC 8628 as the identity platform runs it).

def device_code_request(sim, tenant, fields, basic):
    """POST /{tenant}/oauth2/v2.0/devicecode: start a sign-in."""
    check_tenant(sim, tenant)
    client_id = fields.get("client_id") or basic[0]
    check_client_id(sim, client_id, tenant)
    scope = fields.get("scope")
    if not scope:
        raise missing_param("scope")
    auth = sim.auth
    now = sim.now()
    for code in [c for c, v in auth.device_codes.items()
                 if v["expires_at"] <= now - DAY]:
        del auth.device_codes[code]
    user_code = "".join(secrets.choice(USER_CODE_ALPHABET)
                        for _ in range(9))
    device_code = secrets.token_urlsafe(96)
    auth.device_codes[device_code] = {
        "user_code": user_code, "client_id": client_id,
        "scope": scope, "expires_at": now + auth.device_lifetime,
        "last_poll": None, "state": "pending", "user": None}
    return {
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": VERIFICATION_URI,
        "expires_in": auth.device_lifetime,
        "interval": auth.device_interval,
        "message": "To sign in, use a web browser to open the page %s and "
                   "enter the code %s to authenticate."
                   % (VERIFICATION_URI, user_code),
    }


def redeem_device_code(sim, fields, client_id):
    """One poll of the token endpoint with a device code."""
    code = fields.get("device_code")
    if not code:
        raise missing_param("device_code")
    entry = sim.auth.device_codes.get(code)
    if entry is None or entry["client_id"].lower() != client_id.lower():
        raise AadError(400, "bad_verification_code", 70000,
                       "The provided device code is not recognized.")
    now = sim.now()
    last, entry["last_poll"] = entry["last_poll"], now
    if entry["state"] == "redeemed":
        raise AadError(400, "invalid_grant", 54005,
                       "The device code was already redeemed.")
    if entry["expires_at"] <= now:
        raise AadError(400, "expired_token", 70019,
                       "Verification code expired.")
    if entry["state"] == "declined":
        raise AadError(400, "authorization_declined", 70000,
                       "The user declined the sign-in request.")
    if last is not None and now - last < sim.auth.device_interval:
        raise AadError(400, "slow_down", 70016,
                       "The client polled faster than the interval of %d "
                       "seconds." % sim.auth.device_interval)
    if entry["state"] == "pending":
        raise AadError(400, "authorization_pending", 70016,
                       "OAuth 2.0 device flow error. Authorization is "
                       "pending. Continue polling.")
    entry["state"] = "redeemed"
    scopes = entry["scope"].split()
    return token_body(sim, client_id, entry["user"], graph_scopes(
        entry["scope"]), refresh="offline_access" in scopes,
        openid="openid" in scopes)


def find_device_code(sim, user_code):
    for entry in sim.auth.device_codes.values():
        if entry["user_code"] == user_code:
            return entry
    return None


# --------------------------------------------------------------------------
# Refresh tokens.

def issue_refresh_token(sim, client_id, user, scopes, openid=False):
    token = secrets.token_urlsafe(96)
    sim.auth.refresh_tokens[token] = {
        "client_id": client_id, "user": user, "scopes": list(scopes),
        "openid": openid,
        "expires_at": sim.now() + sim.auth.refresh_lifetime,
        "revoked": False, "used": False}
    return token


def redeem_refresh_token(sim, fields, client_id):
    """grant_type=refresh_token: a new access token and refresh token."""
    token = fields.get("refresh_token")
    if not token:
        raise missing_param("refresh_token")
    entry = sim.auth.refresh_tokens.get(token)
    if entry is None or entry["client_id"].lower() != client_id.lower():
        raise AadError(400, "invalid_grant", 9002313,
                       "Invalid request. Request is malformed or invalid.")
    if entry["revoked"]:
        raise AadError(400, "invalid_grant", 50173,
                       "The provided grant has expired due to it being "
                       "revoked, a fresh auth token is needed. The user "
                       "might have changed or reset their password.")
    if entry["expires_at"] <= sim.now():
        raise AadError(400, "invalid_grant", 700082,
                       "The refresh token has expired due to inactivity. "
                       "The token was inactive for %d seconds."
                       % sim.auth.refresh_lifetime)
    if entry["used"] and sim.auth.refresh_reuse == "reject":
        raise AadError(400, "invalid_grant", 70008,
                       "The provided refresh token was already used and "
                       "has been replaced.")
    entry["used"] = True
    scopes = entry["scopes"]
    openid = entry["openid"]
    if fields.get("scope"):
        scopes = graph_scopes(fields["scope"])
        openid = "openid" in fields["scope"].split()
    return token_body(sim, client_id, entry["user"], scopes, refresh=True,
                      openid=openid)


# --------------------------------------------------------------------------
# Client assertion (certificate credential).

def assertion_error(code, message, error="invalid_client", status=401):
    return AadError(status, error, code, message)


def check_assertion(sim, fields, client_id, url):
    """Verify an RS256/PS256 client assertion against --client-cert."""
    atype = fields.get("client_assertion_type")
    if not atype:
        raise missing_param("client_assertion_type")
    if atype != ASSERTION_TYPE:
        raise assertion_error(50027, "The client_assertion_type '%s' is "
                              "not supported." % atype, "invalid_request",
                              400)
    jwt = fields.get("client_assertion")
    if not jwt:
        raise missing_param("client_assertion")
    header, claims, signing_input, signature = split_jwt(jwt)
    cert = sim.auth.client_cert
    check_assertion_key(header, cert)
    verify_signature(header["alg"], cert[1], signing_input, signature)
    check_assertion_claims(sim, claims, client_id, url)


def split_jwt(jwt):
    """(header, claims, signing input, signature) or AADSTS50027."""
    import json
    try:
        head, body, sig = jwt.split(".")
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
        signature = b64url_decode(sig)
    except (ValueError, UnicodeDecodeError):
        raise assertion_error(50027, "JWT token is invalid or malformed.",
                              "invalid_request", 400)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise assertion_error(50027, "JWT token is invalid or malformed.",
                              "invalid_request", 400)
    if header.get("alg") not in ("RS256", "PS256"):
        raise assertion_error(50027, "JWT token is invalid or malformed: "
                              "alg '%s' is not supported." % header.get("alg"),
                              "invalid_request", 400)
    return header, claims, (head + "." + body).encode("ascii"), signature


def check_assertion_key(header, cert):
    """The header names the registered certificate by its thumbprint."""
    thumb = header.get("x5t#S256") or header.get("x5t")
    if cert is None:
        expected = ()
    elif "x5t#S256" in header:
        expected = (b64url(hashlib.sha256(cert[0]).digest()),)
    else:
        expected = (b64url(hashlib.sha1(cert[0]).digest()),)
    if thumb not in expected:
        raise assertion_error(700027, "Client assertion contains an invalid "
                              "signature. [Reason - The key was not found., "
                              "Thumbprint of key used by client: '%s']"
                              % thumb)


def verify_signature(alg, public_key, signing_input, signature):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    if alg == "RS256":
        pad = padding.PKCS1v15()
    else:
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                          salt_length=padding.PSS.AUTO)
    try:
        public_key.verify(signature, signing_input, pad, hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise assertion_error(700027, "Client assertion contains an invalid "
                              "signature. [Reason - The provided signature "
                              "value did not match the expected signature "
                              "value.]")


def check_assertion_claims(sim, claims, client_id, url):
    if claims.get("iss") != claims.get("sub") or \
            str(claims.get("sub")).lower() != client_id.lower():
        raise assertion_error(700021, "Client assertion application "
                              "identifier doesn't match 'client_id' "
                              "parameter.")
    aud = str(claims.get("aud", "")).rstrip("/").lower()
    if aud != url.rstrip("/").lower():
        raise assertion_error(700023, "Client assertion audience claim does "
                              "not match Realm issuer. Expected '%s'." % url)
    now = sim.now()
    exp, nbf = claims.get("exp"), claims.get("nbf", 0)
    if not isinstance(exp, (int, float)) or \
            not isinstance(nbf, (int, float)) or \
            exp + ASSERTION_SKEW <= now or nbf - ASSERTION_SKEW > now:
        raise assertion_error(700024, "Client assertion is not within its "
                              "valid time range.")
    if not claims.get("jti"):
        raise assertion_error(50027, "JWT token is invalid or malformed: "
                              "no jti claim.", "invalid_request", 400)


# --------------------------------------------------------------------------
# Signing key of the simulated identity platform (validation tokens).

def signing_key(sim):
    """(private key, certificate DER, kid), made on first use."""
    if sim.auth.signing is None:
        sim.auth.signing = make_signing_key()
    return sim.auth.signing


def make_signing_key():
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         "graphsim token signing")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=3650 * 3))
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    return key, der, b64url(hashlib.sha1(der).digest())


def sign_jwt(sim, claims):
    """An RS256 JWT over claims, signed by the platform key."""
    import json
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    key, _, kid = signing_key(sim)
    header = {"typ": "JWT", "alg": "RS256", "x5t": kid, "kid": kid}
    signing_input = (b64url(json.dumps(header).encode()) + "."
                     + b64url(json.dumps(claims).encode()))
    sig = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(),
                   hashes.SHA256())
    return signing_input + "." + b64url(sig)


def jwks(sim):
    key, der, kid = signing_key(sim)
    numbers = key.public_key().public_numbers()

    def unsigned(n):
        return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    return {"keys": [{
        "kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
        "n": unsigned(numbers.n), "e": unsigned(numbers.e),
        "x5c": [base64.b64encode(der).decode("ascii")],
    }]}


def issuer(sim, tenant=None):
    return "%s/%s/v2.0" % (sim.login_url, tenant or sim.tenant)


def openid_configuration(sim, tenant):
    base = "%s/%s" % (sim.login_url, tenant)
    return {
        "issuer": issuer(sim, "{tenantid}" if tenant.lower() == "common"
                         else sim.tenant),
        "token_endpoint": base + "/oauth2/v2.0/token",
        "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
        "jwks_uri": base + "/discovery/v2.0/keys",
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_post", "private_key_jwt", "client_secret_basic"],
    }


def known_tenant(sim, tenant):
    """Discovery answers for the configured tenant and for 'common'."""
    if tenant.lower() not in ("common", "organizations",
                              sim.tenant.lower()):
        raise AadError(400, "invalid_tenant", 90002,
                       "Tenant '%s' not found." % tenant)


# --------------------------------------------------------------------------
# Control calls: the administrator and the service account's user.

def ctl_device_approve(sim, match, body):
    """{"user_code","upn"}: the user signs in and consents."""
    entry, user = device_control_args(sim, body, need_upn=True)
    entry["state"], entry["user"] = "approved", user
    return 200, {"user_code": entry["user_code"], "state": "approved",
                 "upn": user.upn}


def ctl_device_deny(sim, match, body):
    """{"user_code"}: the user declines the sign-in."""
    entry, _ = device_control_args(sim, body, need_upn=False)
    entry["state"] = "declined"
    return 200, {"user_code": entry["user_code"], "state": "declined"}


def device_control_args(sim, body, need_upn):
    if not isinstance(body, dict) or not isinstance(body.get("user_code"),
                                                    str):
        raise bad_request("Expected {\"user_code\": \"...\"%s}."
                          % (", \"upn\": \"...\"" if need_upn else ""))
    entry = find_device_code(sim, body["user_code"].strip().upper())
    if entry is None:
        raise GraphError(404, "NotFound", "No sign-in waits for user code "
                         "'%s'." % body["user_code"])
    if entry["state"] != "pending":
        raise GraphError(409, "Conflict", "The sign-in is already %s."
                         % entry["state"])
    user = None
    if need_upn:
        user = sim.user_by_upn(body.get("upn"))
        if user is None:
            raise GraphError(404, "NotFound", "No user with upn '%s'."
                             % body.get("upn"))
    return entry, user


def ctl_revoke(sim, match, body):
    """Revoke the sign-in sessions of an account: its refresh tokens."""
    upn = urllib.parse.unquote(match.group(1))
    user = sim.user_by_upn(upn)
    if user is None:
        raise GraphError(404, "NotFound", "No user with upn '%s'." % upn)
    count = 0
    for entry in sim.auth.refresh_tokens.values():
        if entry["user"] is user and not entry["revoked"]:
            entry["revoked"] = True
            count += 1
    return 200, {"upn": user.upn, "revoked": count}


def ctl_accounts(sim, match, body):
    """Refresh tokens per account, for tests to inspect."""
    now = sim.now()
    out = {}
    for entry in sim.auth.refresh_tokens.values():
        row = out.setdefault(entry["user"].upn, {"valid": 0, "revoked": 0,
                                                 "expired": 0})
        if entry["revoked"]:
            row["revoked"] += 1
        elif entry["expires_at"] <= now:
            row["expired"] += 1
        else:
            row["valid"] += 1
    return 200, out


CONTROL_ROUTES = [
    ("POST", r"/devicecode/approve", ctl_device_approve),
    ("POST", r"/devicecode/deny", ctl_device_deny),
    ("GET", r"/accounts", ctl_accounts),
    ("POST", r"/accounts/([^/]+)/revoke", ctl_revoke),
]
