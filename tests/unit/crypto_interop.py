"""crypto_interop.py: our crypto module against Python's cryptography.

Python plays Microsoft Graph and Entra: it makes an RSA key and a
self-signed certificate, seals rich notification content the way Graph
does (graph-api.md 3.6), signs validation tokens with RS256 and a kid,
and checks the client assertion our code signs.  cryptotool (built from
tests/tools/cryptotool.c) is our side.

Usage: crypto_interop.py CRYPTOTOOL.  Exit 0 pass, 1 fail, 77 skip.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, padding, serialization
    from cryptography.hazmat.primitives.asymmetric import padding as apad
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    from cryptography.hazmat.primitives.ciphers import modes
    from cryptography.x509.oid import NameOID
except ImportError:
    print("skip: python3 cryptography module missing")
    sys.exit(77)

TOOL = sys.argv[1]
FAILED = []


def check(cond, what):
    print(("ok " if cond else "not ok ") + what)
    if not cond:
        FAILED.append(what)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_dec(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_key(directory, name, bits=2048):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    cert_file = os.path.join(directory, name + "-cert.pem")
    key_file = os.path.join(directory, name + "-key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return key, cert, cert_file, key_file


def seal(cert, plaintext):
    """encryptedContent as Graph makes it."""
    sym = os.urandom(32)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(sym), modes.CBC(sym[:16])).encryptor()
    data = enc.update(padded) + enc.finalize()
    sig = hmac.new(sym, data, hashlib.sha256).digest()
    wrapped = cert.public_key().encrypt(sym, apad.OAEP(
        mgf=apad.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(),
        label=None))
    return [base64.b64encode(x).decode() for x in (data, wrapped, sig)]


def tool(*args):
    return subprocess.run([TOOL] + list(args), capture_output=True)


def sign_jwt(key, header, claims):
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    signing = (head + "." + body).encode()
    sig = key.sign(signing, apad.PKCS1v15(), hashes.SHA256())
    return head + "." + body + "." + b64url(sig)


def jwk(key, kid, cert=None):
    nums = key.public_key().public_numbers()
    out = {"kty": "RSA", "use": "sig", "kid": kid,
           "e": b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8,
                                       "big")),
           "n": b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8,
                                       "big"))}
    if cert is not None:
        der = cert.public_bytes(serialization.Encoding.DER)
        out = {"kty": "RSA", "kid": kid,
               "x5c": [base64.b64encode(der).decode()]}
    return out


def rich_cases(cert, cert_file, key_file, other_cert):
    text = json.dumps({"id": "4a5d2c1e", "availability": "Busy",
                       "activity": "InACall"}).encode()
    data, wrapped, sig = seal(cert, text)
    r = tool("rich-open", cert_file, key_file, data, wrapped, sig)
    check(r.returncode == 0 and r.stdout == text, "rich content opens")

    raw = bytearray(base64.b64decode(data))
    raw[5] ^= 1
    r = tool("rich-open", cert_file, key_file,
             base64.b64encode(bytes(raw)).decode(), wrapped, sig)
    check(r.returncode == 1 and b"signature mismatch" in r.stderr
          and r.stdout == b"", "flipped data byte is a signature mismatch")

    data2, wrapped2, sig2 = seal(other_cert, text)
    r = tool("rich-open", cert_file, key_file, data2, wrapped2, sig2)
    check(r.returncode == 1 and r.stdout == b"",
          "content sealed to another certificate is refused")

    big = json.dumps({"value": ["x" * 1000] * 40}).encode()
    data3, wrapped3, sig3 = seal(cert, big)
    r = tool("rich-open", cert_file, key_file, data3, wrapped3, sig3)
    check(r.returncode == 0 and r.stdout == big, "40 kB content opens")


def jwt_cases(directory, key, cert, other_key):
    aud, tid = "925bff9f-f6e2-4a69-b858-f71ea2b9b6d0", "tenant-1"
    now = int(time.time())
    claims = {"aud": aud, "tid": tid, "iat": now, "nbf": now,
              "exp": now + 3600,
              "azp": "0bf30f3b-4a52-48df-9a82-234910c4a086",
              "iss": "https://login.microsoftonline.com/%s/v2.0" % tid}
    jwks_file = os.path.join(directory, "jwks.json")
    with open(jwks_file, "w") as f:
        json.dump({"keys": [jwk(other_key, "other"), jwk(key, "k1"),
                            jwk(key, "k1-cert", cert)]}, f)

    good = sign_jwt(key, {"typ": "JWT", "alg": "RS256", "kid": "k1"},
                    claims)
    r = tool("jwt-verify", jwks_file, good, aud, tid)
    check(r.returncode == 0, "token signed by Python verifies")
    by_cert = sign_jwt(key, {"alg": "RS256", "kid": "k1-cert"}, claims)
    r = tool("jwt-verify", jwks_file, by_cert, aud)
    check(r.returncode == 0, "token of a key given by x5c verifies")
    r = tool("jwt-verify", jwks_file, good, "another-app", tid)
    check(r.returncode == 1 and b"audience" in r.stderr,
          "token for another audience fails")
    forged = sign_jwt(other_key, {"alg": "RS256", "kid": "k1"}, claims)
    r = tool("jwt-verify", jwks_file, forged, aud, tid)
    check(r.returncode == 1, "token signed by another key fails")
    none = (b64url(b'{"alg":"none","kid":"k1"}') + "." +
            b64url(json.dumps(claims).encode()) + ".")
    r = tool("jwt-verify", jwks_file, none, aud, tid)
    check(r.returncode == 1, "token with alg none fails")
    old = dict(claims, nbf=now - 7200, exp=now - 3600)
    r = tool("jwt-verify", jwks_file,
             sign_jwt(key, {"alg": "RS256", "kid": "k1"}, old), aud, tid)
    check(r.returncode == 1 and b"expired" in r.stderr,
          "expired token fails")


def assertion_cases(key, cert, cert_file, key_file):
    url = "https://login.example.test/tenant-1/oauth2/v2.0/token"
    r = tool("assertion", cert_file, key_file, "client-1", url)
    check(r.returncode == 0, "assertion is made")
    jwt = r.stdout.decode().strip()
    head, body, sig = jwt.split(".")
    try:
        cert.public_key().verify(b64url_dec(sig),
                                 (head + "." + body).encode(),
                                 apad.PKCS1v15(), hashes.SHA256())
        verified = True
    except Exception:   # noqa: BLE001 (any failure is a failed check)
        verified = False
    check(verified, "assertion signature verifies with the certificate")
    h, c = json.loads(b64url_dec(head)), json.loads(b64url_dec(body))
    der = cert.public_bytes(serialization.Encoding.DER)
    check(h.get("alg") == "RS256" and h.get("typ") == "JWT",
          "assertion header says RS256 JWT")
    check(h.get("x5t#S256") == b64url(hashlib.sha256(der).digest()),
          "assertion x5t#S256 is the certificate's SHA-256")
    check(h.get("x5t") == b64url(hashlib.sha1(der).digest()),
          "assertion x5t is the certificate's SHA-1")
    now = time.time()
    check(c.get("aud") == url and c.get("iss") == "client-1"
          and c.get("sub") == "client-1" and len(c.get("jti", "")) == 36
          and abs(c.get("nbf", 0) - now) < 120
          and c.get("exp", 0) - c.get("nbf", 0) == 600,
          "assertion claims")

    r = tool("thumbprint", cert_file, key_file)
    thumb, b64 = r.stdout.decode().split()
    check(thumb == hashlib.sha1(der).hexdigest().upper(),
          "thumbprint is the SHA-1 of the certificate")
    check(base64.b64decode(b64) == der, "certificate base64 is its DER")


def main():
    with tempfile.TemporaryDirectory(prefix="presgw-interop-") as d:
        key, cert, cert_file, key_file = make_key(d, "ours")
        other_key, other_cert, _, _ = make_key(d, "other", 3072)
        rich_cases(cert, cert_file, key_file, other_cert)
        jwt_cases(d, key, cert, other_key)
        assertion_cases(key, cert, cert_file, key_file)
    print("%d failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
