#!/usr/bin/env python3
"""richtool: rich change notifications made by a test, to post to presgwd.

  richtool.py payload --sim URL --cert PEM --user ID --availability A
        --activity B [--tamper data|signature|token] [--tokens oldest]
      Prints a notification batch as Graph sends it for the one live
      subscription of the simulator (its id and clientState): one item
      whose encryptedContent holds the user's presence, encrypted to the
      certificate PEM, and the validationTokens of the newest rich
      delivery the simulator made (genuine, signed by its key).  --tamper
      spoils one part: a flipped byte in data (after the HMAC was taken),
      a flipped byte in dataSignature, or a token re-signed with another
      key under the same kid.  --tokens oldest takes the tokens of the
      oldest rich delivery instead of the newest.

  richtool.py delivery --sim URL
      Prints the body of the newest rich delivery the simulator made, as
      it was posted: what somebody who saw it could post again.

  richtool.py repack --sim URL FILE
      Prints the items of the batch in FILE under the tokens of the
      newest rich delivery, the fields in another order.

Needs the cryptography package (Debian's python3-cryptography).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sympad
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def get(sim, path):
    with urllib.request.urlopen(sim + path, timeout=5) as r:
        return json.loads(r.read().decode())


def b64(b):
    return base64.b64encode(b).decode("ascii")


def flip(b):
    return bytes([b[0] ^ 0x01]) + b[1:]


def encrypted_content(cert, plain, tamper):
    key = os.urandom(32)
    padder = sympad.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    data = enc.update(padded) + enc.finalize()
    sig = hmac.new(key, data, hashlib.sha256).digest()
    wrapped = cert.public_key().encrypt(key, padding.OAEP(
        mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(),
        label=None))
    if tamper == "data":
        data = flip(data)
    elif tamper == "signature":
        sig = flip(sig)
    der = cert.public_bytes(serialization.Encoding.DER)
    thumb = hashlib.sha1(der).hexdigest().upper()
    return {"data": b64(data), "dataSignature": b64(sig),
            "dataKey": b64(wrapped), "encryptionCertificateId": thumb,
            "encryptionCertificateThumbprint": thumb}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def resign(token):
    """The same header and claims, signed by a key of our own."""
    head, claims, _ = token.split(".")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sig = key.sign((head + "." + claims).encode("ascii"),
                   padding.PKCS1v15(), hashes.SHA256())
    return head + "." + claims + "." + b64url(sig)


def rich_deliveries(sim):
    out = []
    for d in get(sim, "/_sim/deliveries"):
        body = d.get("body") or {}
        if d.get("kind") == "notification" and body.get("validationTokens"):
            out.append(body)
    if not out:
        raise SystemExit("richtool: no rich delivery in the simulator")
    return out


def genuine_tokens(sim, which="newest"):
    bodies = rich_deliveries(sim)
    body = bodies[0] if which == "oldest" else bodies[-1]
    return body["validationTokens"]


def cmd_payload(args):
    with open(args.cert, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    subs = get(args.sim, "/_sim/subscriptions")
    if len(subs) != 1:
        raise SystemExit("richtool: %d subscriptions, not 1" % len(subs))
    sub = subs[0]
    uid = args.user
    plain = json.dumps({"@odata.type": "#microsoft.graph.presence",
                        "@odata.id": "users/%s/presence" % uid, "id": uid,
                        "availability": args.availability,
                        "activity": args.activity}).encode()
    item = {
        "subscriptionId": sub["id"], "clientState": sub["clientState"],
        "changeType": "updated", "tenantId": sub.get("tenantId", ""),
        "resource": "communications/presences/%s" % uid,
        "subscriptionExpirationDateTime": sub["expirationDateTime"],
        "resourceData": {"@odata.type": "#microsoft.graph.presence",
                         "@odata.id": "users/%s/presence" % uid,
                         "id": uid},
        "encryptedContent": encrypted_content(cert, plain, args.tamper),
    }
    tokens = genuine_tokens(args.sim, args.tokens)
    if args.tamper == "token":
        tokens = [resign(t) for t in tokens]
    print(json.dumps({"value": [item], "validationTokens": tokens}))
    return 0


def cmd_delivery(args):
    print(json.dumps(rich_deliveries(args.sim)[-1]))
    return 0


def cmd_repack(args):
    with open(args.file) as f:
        batch = json.load(f)
    items = [dict(reversed(list(i.items()))) for i in batch["value"]]
    print(json.dumps({"validationTokens": genuine_tokens(args.sim),
                      "value": items}, indent=1))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="richtool.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("payload")
    sp.add_argument("--sim", default=os.environ.get("SIM_URL"))
    sp.add_argument("--cert", required=True)
    sp.add_argument("--user", required=True)
    sp.add_argument("--availability", required=True)
    sp.add_argument("--activity", required=True)
    sp.add_argument("--tamper", choices=("data", "signature", "token"))
    sp.add_argument("--tokens", choices=("oldest", "newest"),
                    default="newest")
    sp.set_defaults(fn=cmd_payload)
    sp = sub.add_parser("delivery")
    sp.add_argument("--sim", default=os.environ.get("SIM_URL"))
    sp.set_defaults(fn=cmd_delivery)
    sp = sub.add_parser("repack")
    sp.add_argument("--sim", default=os.environ.get("SIM_URL"))
    sp.add_argument("file")
    sp.set_defaults(fn=cmd_repack)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
