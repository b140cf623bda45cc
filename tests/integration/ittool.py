#!/usr/bin/env python3
"""ittool: what the presgw integration tests need from Python (stdlib only).

  ittool.py ports N [--seed S]
      Prints N port numbers from 20000-39999 (below the kernel's ephemeral
      range where that starts inside it), each the start of a block of
      eight consecutive ports that are free for both TCP and UDP on
      127.0.0.1 (sipp uses its SIP port, a control port and two media
      ports).  The seed (derived from the calling shell's PID) spreads
      parallel tests over the range.

  ittool.py [--sim URL] get PATH
  ittool.py [--sim URL] post PATH [JSON]
  ittool.py [--sim URL] delete PATH
      One request to the Graph simulator's control API; prints the JSON
      answer.  Exit 1 on an HTTP error or no answer.

  ittool.py [--sim URL] last-seq
      The sequence number of the newest request the simulator logged
      (0 if none); pass it as --after to look at later requests only.

  ittool.py [--sim URL] wait-request [--method M] [--path REGEX]
        [--field NAME=VALUE ...] [--after SEQ] [--ok] [--status N]
        [--timeout S]
      Polls GET /_sim/requests until a logged request matches: method,
      path (a regular expression searched in the path), JSON body fields
      (NAME=VALUE compares the field's text; NAME! asks that the field is
      absent), --ok an answer in 200-299, --status N that answer.  Prints
      the request as one line of JSON and exits 0; after the timeout
      prints the requests seen and exits 1.

  ittool.py [--sim URL] no-request [same filters] [--for S]
      Exit 0 if no matching request shows up within S seconds, else
      prints it and exits 1.

  ittool.py notifies FILE
      One line per NOTIFY received in a sipp message trace (-trace_msg):
      cseq= callid= ftag= ttag= sub= vias= via= routes= version= full=
      res=USER:STATE,...  (vias: how many Via headers, via: the top one's
      sent-by, routes: Route headers left; version, full and res from an
      RLMI body, empty without one).  Retransmissions are left out.

--sim defaults to the environment variable SIM_URL.
"""

import argparse
import json
import os
import random
import re
import socket
import sys
import time
import urllib.error
import urllib.request


def port_free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def port_range():
    """[low, high): 20000-39999, cut below the kernel's ephemeral ports
    (which outgoing connections and port 0 take) when those start there."""
    low, high = 20000, 40000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph_low = int(f.read().split()[0])
        if low + 4000 <= eph_low < high:
            high = eph_low
    except (OSError, ValueError, IndexError):
        pass
    return low, high


def cmd_ports(args):
    low, high = port_range()
    blocks = (high - low) // 8
    rng = random.Random(args.seed) if args.seed is not None \
        else random.SystemRandom()
    found = []
    tried = set()
    while len(found) < args.count and len(tried) < blocks:
        base = low + 8 * rng.randrange(0, blocks)
        if base in tried:
            continue
        tried.add(base)
        if all(port_free(base + i) for i in range(8)):
            found.append(base)
    if len(found) < args.count:
        print("ittool: no free ports found", file=sys.stderr)
        return 1
    print(" ".join(str(p) for p in found))
    return 0


def request(sim, method, path, body=None, timeout=5.0):
    """(status, decoded JSON or text) of one control-API request."""
    if not sim:
        raise SystemExit("ittool: no simulator URL (--sim or SIM_URL)")
    data = None
    headers = {}
    if body is not None:
        data = body.encode("utf-8")
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(sim.rstrip("/") + path, data=data,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text) if text.strip() else None
    except ValueError:
        return status, text


def cmd_simple(args):
    method = {"get": "GET", "post": "POST", "delete": "DELETE"}[args.cmd]
    body = None
    if method == "POST":
        body = args.json if args.json is not None else "{}"
    try:
        status, answer = request(args.sim, method, args.path, body)
    except OSError as err:
        print("ittool: %s %s: %s" % (method, args.path, err),
              file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=1, sort_keys=True))
    if status >= 400:
        print("ittool: %s %s: HTTP %d" % (method, args.path, status),
              file=sys.stderr)
        return 1
    return 0


def requests_log(sim):
    status, answer = request(sim, "GET", "/_sim/requests")
    if status != 200 or not isinstance(answer, list):
        raise OSError("GET /_sim/requests answered %d" % status)
    return answer


def cmd_last_seq(args):
    try:
        log = requests_log(args.sim)
    except OSError as err:
        print("ittool: %s" % err, file=sys.stderr)
        return 1
    print(max([e.get("seq", 0) for e in log] or [0]))
    return 0


def field_text(value):
    if isinstance(value, str):
        return value
    return json.dumps(value)


def matches(entry, args):
    if entry.get("seq", 0) <= args.after:
        return False
    if args.method and entry.get("method") != args.method:
        return False
    if args.path and not re.search(args.path, entry.get("path") or ""):
        return False
    if args.ok:
        status = entry.get("status")
        if not isinstance(status, int) or not 200 <= status < 300:
            return False
    if args.status is not None and entry.get("status") != args.status:
        return False
    body = entry.get("body")
    for spec in args.field:
        if spec.endswith("!") and "=" not in spec:
            if isinstance(body, dict) and spec[:-1] in body:
                return False
            continue
        name, _, want = spec.partition("=")
        if not isinstance(body, dict) or name not in body:
            return False
        if field_text(body[name]) != want:
            return False
    return True


def summary(log, args):
    """The requests after --after, leaving out the polls unless asked."""
    polls = "getPresencesByUserId" not in (args.path or "")
    lines = []
    for e in log:
        if e.get("seq", 0) <= args.after:
            continue
        if polls and "getPresencesByUserId" in (e.get("path") or ""):
            continue
        lines.append("  #%s %s %s -> %s %s" % (
            e.get("seq"), e.get("method"), e.get("path"), e.get("status"),
            json.dumps(e.get("body"), sort_keys=True)))
    return "\n".join(lines) or "  (none)"


def poll(args, seconds):
    """The first matching entry within seconds, or (None, last log)."""
    deadline = time.monotonic() + seconds
    log = []
    while True:
        try:
            log = requests_log(args.sim)
        except OSError:
            log = log or []
        for e in log:
            if matches(e, args):
                return e, log
        if time.monotonic() >= deadline:
            return None, log
        time.sleep(0.1)


def cmd_wait_request(args):
    entry, log = poll(args, args.timeout)
    if entry is not None:
        print(json.dumps(entry, sort_keys=True))
        return 0
    print("ittool: no request matched within %gs (method=%s path=%s "
          "fields=%s); requests seen (polls left out):\n%s" % (
              args.timeout, args.method or "*", args.path or "*",
              ",".join(args.field) or "-", summary(log, args)),
          file=sys.stderr)
    return 1


def cmd_no_request(args):
    entry, _ = poll(args, args.duration)
    if entry is None:
        return 0
    print("ittool: unexpected request: %s" % json.dumps(entry,
                                                         sort_keys=True),
          file=sys.stderr)
    return 1


def add_filters(p):
    p.add_argument("--method")
    p.add_argument("--path", help="regular expression searched in the path")
    p.add_argument("--field", action="append", default=[],
                   help="NAME=VALUE (body field text) or NAME! (absent)")
    p.add_argument("--after", type=int, default=0,
                   help="only requests with a larger sequence number")
    p.add_argument("--ok", action="store_true",
                   help="only requests answered 2xx")
    p.add_argument("--status", type=int,
                   help="only requests answered with this status")


def sip_headers(head, name):
    """The values of every header name (no compact forms) in head."""
    out = []
    for m in re.finditer(r"^%s:[ \t]*(.*)$" % name, head, re.M | re.I):
        out.extend(v.strip() for v in m.group(1).split(",") if v.strip())
    return out


def sip_tag(value):
    m = re.search(r";tag=([^;> ]+)", value)
    return m.group(1) if m else ""


def notify_line(head, body):
    one = lambda name: (sip_headers(head, name) or [""])[0]
    vias = sip_headers(head, "Via")
    top = re.match(r"SIP/2\.0/\S+\s+([^;\s]+)", vias[0]) if vias else None
    lst = re.search(r"<list [^>]*>", body)
    lst = lst.group(0) if lst else ""
    ver = re.search(r'version="(\d+)"', lst)
    full = re.search(r'fullState="(\w+)"', lst)
    res = re.findall(r'<resource uri="sip:([^@"]+)@[^"]*">\s*'
                     r'<instance [^>]*state="(\w+)"', body)
    sub = re.search(r"^Subscription-State:[ \t]*(.*)$", head, re.M | re.I)
    return ("cseq=%s callid=%s ftag=%s ttag=%s sub=%s vias=%d via=%s "
            "routes=%d version=%s full=%s res=%s" % (
                one("CSeq").split(" ")[0], one("Call-ID"),
                sip_tag(one("From")), sip_tag(one("To")),
                sub.group(1).replace(" ", "") if sub else "",
                len(vias), top.group(1) if top else "",
                len(sip_headers(head, "Route")),
                ver.group(1) if ver else "", full.group(1) if full else "",
                ",".join("%s:%s" % r for r in res)))


def cmd_notifies(args):
    try:
        with open(args.file, errors="replace") as f:
            text = f.read()
    except OSError:
        return 0
    seen = set()
    for msg in re.split(r"\n-{20,} [^\n]*\n", "\n" + text):
        first, _, msg = msg.strip("\n").partition("\n")
        if "message received" not in first:
            continue
        head, _, body = msg.lstrip("\n").partition("\n\n")
        if not head.startswith("NOTIFY "):
            continue
        line = notify_line(head, body)
        key = line.split(" ")[:2]       # cseq, callid: a retransmission
        if tuple(key) not in seen:
            seen.add(tuple(key))
            print(line)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sim", default=os.environ.get("SIM_URL", ""))
    sub = p.add_subparsers(dest="cmd", required=True)

    sp = sub.add_parser("ports")
    sp.add_argument("count", type=int)
    sp.add_argument("--seed", type=int)
    sp.set_defaults(func=cmd_ports)

    for name in ("get", "delete"):
        sp = sub.add_parser(name)
        sp.add_argument("path")
        sp.set_defaults(func=cmd_simple)
    sp = sub.add_parser("post")
    sp.add_argument("path")
    sp.add_argument("json", nargs="?")
    sp.set_defaults(func=cmd_simple)

    sp = sub.add_parser("last-seq")
    sp.set_defaults(func=cmd_last_seq)

    sp = sub.add_parser("wait-request")
    add_filters(sp)
    sp.add_argument("--timeout", type=float, default=10.0)
    sp.set_defaults(func=cmd_wait_request)

    sp = sub.add_parser("no-request")
    add_filters(sp)
    sp.add_argument("--for", dest="duration", type=float, default=2.0)
    sp.set_defaults(func=cmd_no_request)

    sp = sub.add_parser("notifies")
    sp.add_argument("file")
    sp.set_defaults(func=cmd_notifies)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
