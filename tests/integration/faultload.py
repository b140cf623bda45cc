#!/usr/bin/env python3
"""faultload: presgwd killed again and again under load (stdlib only).

Run by fault_sigkill_under_load.sh, which starts the Graph simulator and
writes the configuration.  This program owns presgwd: it starts it, kills
it with SIGKILL at random moments and starts it again on the same store,
while

  - phones PUBLISH their state (PIDF or dialog-info), modifying and
    refreshing their publications with SIP-If-Match;
  - watchers keep SUBSCRIBE dialogs to presence and dialog (and one
    resource list), answer every NOTIFY 200, refresh in the dialog and
    check each NOTIFY as it comes;
  - Teams clients change state through the simulator's control API.

Then the load stops, every phone makes one last change and the end state
is checked: Teams, the watchers, and the Graph writes.  The first broken
rule ends the run with exit status 1 and one line that says which.

Every SIP peer here is one UDP socket on 127.0.0.1 and a single-threaded
loop; the random choices come from one seed (--seed), printed first.
"""

import argparse
import heapq
import json
import os
import random
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

T1, T2, TIMER_F = 0.5, 4.0, 32.0
PUB_EXPIRES = 120
SUB_EXPIRES = 120

# Phone states: (PIDF activity and note, lamp on).  docs/mapping.md.
STATES = ("available", "in-call", "away", "dnd")
LAMP_ON = {"in-call", "dnd", "busy", "meeting", "conference"}
DIALOG_STATES = ("available", "in-call")

# Section 3 of docs/mapping.md (call_end = available, away_mode =
# preferred): the session presgw holds and the preferred presence.
IDLE = ("Available", "Available")
TEAMS_OF = {
    "available": (IDLE, None),
    "in-call": (("Busy", "InACall"), None),
    "away": (IDLE, ("Away", "Away")),
    "dnd": (IDLE, ("DoNotDisturb", "DoNotDisturb")),
}

# Section 4: Teams to status.
def teams_status(avail, act):
    a, c = (avail or "").lower(), (act or "").lower()
    if a in ("available", "availableidle"):
        return "available"
    if a in ("busy", "busyidle"):
        return {"inacall": "in-call", "inaconferencecall": "conference",
                "inameeting": "meeting"}.get(c, "busy")
    return {"donotdisturb": "dnd", "away": "away", "berightback": "brb",
            "offline": "offline", "presenceunknown": "offline"}.get(
                a, "unknown")

# Section 5: the person's note of a PIDF document, back to the status.
NOTE_STATUS = {
    "Unknown": "unknown", "Offline": "offline", "Away": "away",
    "Be right back": "brb", "Available": "available", "Busy": "busy",
    "In a meeting": "meeting", "Ringing": "ringing",
    "On the phone": "in-call", "In a conference call": "conference",
    "Do not disturb": "dnd",
}

# Pairs a Teams client may report (tests/graphsim/README.md).
CLIENT_PAIRS = [("Available", "Available"), ("Busy", "InACall"),
                ("Away", "Away"), ("DoNotDisturb", "Presenting"),
                ("Busy", "InAMeeting"), ("Busy", "Busy")]

COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via",
           "l": "content-length", "c": "content-type", "m": "contact",
           "o": "event", "k": "supported", "u": "allow-events"}


class Broken(Exception):
    """A rule of the test is broken."""


def now():
    return time.monotonic()


# --------------------------------------------------------------------------
# SIP messages.

class Msg:
    def __init__(self, data):
        text = data.decode("utf-8", "replace")
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + line.strip())
                continue
            name, _, value = line.partition(":")
            name = name.strip().lower()
            self.headers.append((COMPACT.get(name, name), value.strip()))
        self.body = body
        parts = self.first.split(" ", 2)
        self.is_request = not parts[0].startswith("SIP/")
        self.method = parts[0] if self.is_request else None
        self.status = None if self.is_request else int(parts[1])

    def get(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def all(self, name):
        return [v for n, v in self.headers if n == name]

    def cseq(self):
        num, _, method = (self.get("cseq") or "0 ?").partition(" ")
        return int(num), method.strip()

    def branch(self):
        m = re.search(r"branch=([^;, ]+)", self.get("via") or "")
        return m.group(1) if m else None


def tag_of(value):
    m = re.search(r";\s*tag=([^;> ]+)", value or "")
    return m.group(1) if m else None


def uri_of(value):
    m = re.search(r"<([^>]+)>", value or "")
    return m.group(1) if m else (value or "").split(";")[0].strip()


def answerer(msg):
    who = msg.get("server") or msg.get("user-agent")
    return " (answered by %s)" % who if who else ""


def build(first, headers, body=""):
    data = body.encode("utf-8")
    lines = [first] + ["%s: %s" % hv for hv in headers]
    lines.append("Content-Length: %d" % len(data))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + data


# --------------------------------------------------------------------------
# The loop: one UDP socket, timers, client transactions.

class Loop:
    def __init__(self, rng):
        self.rng = rng
        self.timers = []
        self.nseq = 0
        self.sel = selectors.DefaultSelector()
        self.txs = {}
        self.handlers = []

    def at(self, delay, fn, *args):
        self.nseq += 1
        entry = [now() + delay, self.nseq, fn, args, True]
        heapq.heappush(self.timers, entry)
        return entry

    @staticmethod
    def cancel(entry):
        if entry is not None:
            entry[4] = False

    def run_until(self, cond, limit):
        deadline = now() + limit
        while not cond():
            t = now()
            if t >= deadline:
                return False
            while self.timers and self.timers[0][0] <= t:
                entry = heapq.heappop(self.timers)
                if entry[4]:
                    entry[2](*entry[3])
                if cond():
                    return True
            wait = deadline - now()
            if self.timers:
                wait = min(wait, self.timers[0][0] - now())
            for key, _ in self.sel.select(max(0.0, min(wait, 0.05))):
                key.data()
        return True

    def sleep(self, seconds):
        until = now() + seconds
        self.run_until(lambda: now() >= until, seconds + 1)


class Endpoint:
    """One SIP UDP socket on loopback: a phone's or a watcher's."""

    def __init__(self, loop, name, server):
        self.loop = loop
        self.name = name
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.txs = {}
        self.on_request = None
        loop.sel.register(self.sock, selectors.EVENT_READ, self.readable)

    def contact(self):
        return "<sip:%s@127.0.0.1:%d>" % (self.name, self.port)

    def via(self, branch):
        return "SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (self.port,
                                                             branch)

    def send(self, data):
        try:
            self.sock.sendto(data, self.server)
        except OSError:
            pass

    def readable(self):
        while True:
            try:
                data, _ = self.sock.recvfrom(65535)
            except BlockingIOError:
                return
            msg = Msg(data)
            if msg.is_request:
                if self.on_request is not None:
                    self.on_request(self, msg)
                continue
            tx = self.txs.get(msg.branch())
            if tx is not None:
                tx.response(msg)

    def request(self, data, branch, on_final):
        tx = ClientTx(self, data, branch, on_final)
        self.txs[branch] = tx
        return tx

    def answer(self, req, status, reason, extra=()):
        headers = [("Via", v) for v in req.all("via")]
        headers += [("From", req.get("from")), ("To", req.get("to")),
                    ("Call-ID", req.get("call-id")),
                    ("CSeq", req.get("cseq"))]
        headers += list(extra)
        self.send(build("SIP/2.0 %d %s" % (status, reason), headers))


class ClientTx:
    """A non-INVITE client transaction (RFC 3261 17.1.2) over UDP."""

    def __init__(self, ep, data, branch, on_final):
        self.ep = ep
        self.data = data
        self.branch = branch
        self.on_final = on_final
        self.started = now()
        self.interval = T1
        self.done = False
        ep.send(data)
        self.retrans = ep.loop.at(self.interval, self.again)
        self.timeout = ep.loop.at(TIMER_F, self.expire)

    def again(self):
        if self.done:
            return
        self.ep.send(self.data)
        self.interval = min(self.interval * 2, T2)
        self.retrans = self.ep.loop.at(self.interval, self.again)

    def finish(self, msg):
        self.done = True
        Loop.cancel(self.retrans)
        Loop.cancel(self.timeout)
        self.ep.txs.pop(self.branch, None)
        self.on_final(self, msg)

    def response(self, msg):
        if self.done or msg.status < 200:
            return
        self.finish(msg)

    def expire(self):
        if not self.done:
            self.finish(None)


# --------------------------------------------------------------------------
# presgwd, killed and started again.

class Daemon:
    def __init__(self, args, fl):
        self.args = args
        self.fl = fl
        self.proc = None
        self.kills = []         # monotonic and wall time of each SIGKILL
        self.starts = 0
        self.up_since = None
        self.holder = None

    def hold_port(self):
        """While presgwd is down its port is free, and a test running
        next to this one could take it; a bound TCP socket keeps it."""
        self.holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.holder.bind(("127.0.0.1", self.args.sip_port))
        except OSError:
            self.holder.close()
            self.holder = None

    def start(self):
        if self.holder is not None:
            self.holder.close()
            self.holder = None
        with open(self.args.log, "rb") as f:
            f.seek(0, 2)
            offset = f.tell()
        out = open(self.args.log, "ab")
        self.proc = subprocess.Popen([self.args.presgwd, "-c", self.args.conf,
                                      "-f"], stdout=out, stderr=out,
                                     stdin=subprocess.DEVNULL)
        out.close()
        with open(self.args.pidfile, "w") as f:
            f.write("%d\n" % self.proc.pid)
        self.starts += 1
        deadline = now() + 15
        while now() < deadline:
            with open(self.args.log, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
            if "gateway started" in text:
                self.up_since = now()
                return
            if self.proc.poll() is not None:
                raise Broken("presgwd exited during start %d with status "
                             "%s" % (self.starts, self.proc.returncode))
            # SIP keeps going (retransmissions, NOTIFYs) meanwhile.
            self.fl.loop.sleep(0.02)
        raise Broken("presgwd did not log 'gateway started' within 15 s "
                     "(start %d)" % self.starts)

    def kill(self):
        if self.proc.poll() is not None:
            raise Broken("presgwd died by itself (status %s) before kill %d"
                         % (self.proc.returncode, len(self.kills) + 1))
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.hold_port()
        self.kills.append((now(), time.time()))
        self.up_since = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def killed_between(self, t0, t1):
        return any(t0 <= k <= t1 for k, _ in self.kills)


# --------------------------------------------------------------------------
# Phones.

def pidf(user, domain, state):
    act = {"in-call": "<rpid:activities><rpid:on-the-phone/>"
                      "</rpid:activities>",
           "away": "<rpid:activities><rpid:away/></rpid:activities>",
           "dnd": "<dm:note>Do not disturb</dm:note>"}.get(state, "")
    return ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
            '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
            'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
            'xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" '
            'entity="sip:%s@%s">\r\n'
            '<tuple id="t1"><status><basic>open</basic></status></tuple>\r\n'
            '<dm:person id="p1">%s</dm:person>\r\n</presence>\r\n'
            % (user, domain, act))


def dialog_info(user, domain, state, version):
    dlg = ""
    if state == "in-call":
        dlg = ('<dialog id="call1" direction="initiator">'
               '<state>confirmed</state></dialog>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
            '<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" '
            'version="%d" state="full" entity="sip:%s@%s">%s'
            '</dialog-info>\r\n' % (version, user, domain, dlg))


class Phone:
    def __init__(self, fl, user, kind):
        self.fl = fl
        self.user = user
        self.kind = kind                    # "presence" or "dialog"
        self.ep = fl.phone_ep
        self.call_id = "ph-%s-%d@faultload" % (user, fl.rng.randrange(10 ** 9))
        self.tag = "p%d" % fl.rng.randrange(10 ** 9)
        self.cseq = 0
        self.version = 0
        self.etag = None
        self.etag_start = 0                 # daemon start that gave it
        self.state = "available"
        self.tx = None
        self.tx_initial = False
        self.active = True
        self.timer = None
        self.sent = 0
        self.refreshed_over_restart = 0
        self.redone = 0

    def states(self):
        return DIALOG_STATES if self.kind == "dialog" else STATES

    def body(self, state):
        d = self.fl.args.domain
        if self.kind == "dialog":
            self.version += 1
            return ("application/dialog-info+xml",
                    dialog_info(self.user, d, state, self.version))
        return "application/pidf+xml", pidf(self.user, d, state)

    def publish(self, state, with_body, on_done=None):
        fl = self.fl
        self.cseq += 1
        branch = "z9hG4bK-%s-%d-%d" % (self.user, self.cseq,
                                        fl.rng.randrange(10 ** 9))
        hdrs = [("Via", self.ep.via(branch)), ("Max-Forwards", "70"),
                ("From", "<sip:%s@%s>;tag=%s" % (self.user, fl.args.domain,
                                                 self.tag)),
                ("To", "<sip:%s@%s>" % (self.user, fl.args.domain)),
                ("Call-ID", self.call_id),
                ("CSeq", "%d PUBLISH" % self.cseq),
                ("Event", self.kind), ("Expires", str(PUB_EXPIRES)),
                ("User-Agent", "presgw-it/faultload")]
        if self.etag is not None:
            hdrs.append(("SIP-If-Match", self.etag))
        body = ""
        if with_body:
            ctype, body = self.body(state)
            hdrs.append(("Content-Type", ctype))
        self.tx_initial = self.etag is None
        self.tx_state = state
        self.tx_etag_start = self.etag_start
        self.on_done = on_done
        self.sent += 1
        data = build("PUBLISH sip:%s@127.0.0.1:%d SIP/2.0" % (
            self.user, fl.args.sip_port), hdrs, body)
        self.tx = self.ep.request(data, branch, self.answered)

    def answered(self, tx, msg):
        fl = self.fl
        self.tx = None
        over_kill = fl.daemon.killed_between(tx.started, now())
        if msg is None:
            raise Broken("phone %s: PUBLISH (CSeq %d) got no answer in "
                         "%g s" % (self.user, self.cseq, TIMER_F))
        if msg.status == 412 and not self.tx_initial and over_kill:
            # RFC 3903: the answer to this very request died with
            # presgwd, the entity tag moved on; publish afresh.
            self.redone += 1
            self.etag = None
            self.publish(self.tx_state, True, self.on_done)
            return
        if msg.status != 200:
            raise Broken("phone %s: PUBLISH (CSeq %d, SIP-If-Match %s, "
                         "tag from start %d, now start %d) answered %s%s"
                         % (self.user, self.cseq, self.etag or "-",
                            self.tx_etag_start, fl.daemon.starts,
                            msg.first.split(" ", 1)[1], "" if not over_kill
                            else " across a kill") + answerer(msg))
        etag = msg.get("sip-etag")
        if not etag:
            raise Broken("phone %s: 200 to PUBLISH without SIP-ETag"
                         % self.user)
        if self.etag is not None and self.tx_etag_start != fl.daemon.starts:
            self.refreshed_over_restart += 1
        self.etag = etag
        self.etag_start = fl.daemon.starts
        self.state = self.tx_state
        fl.phone_log.append((now(), self.user, self.state))
        if self.on_done is not None:
            self.on_done(self)
        elif self.active:
            self.schedule()

    def schedule(self):
        self.timer = self.fl.loop.at(self.fl.rng.uniform(0.3, 1.8),
                                     self.act)

    def act(self):
        if not self.active or self.tx is not None:
            return
        if self.fl.rng.random() < 0.35:
            self.publish(self.state, False)
            return
        choices = [s for s in self.states() if s != self.state]
        self.publish(self.fl.rng.choice(choices), True)


# --------------------------------------------------------------------------
# Watchers.

def parse_multipart(ctype, body):
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if m is None:
        return []
    parts = []
    for chunk in body.split("--" + m.group(1))[1:]:
        if chunk.startswith("--"):
            break
        head, _, content = chunk.lstrip("\r\n").partition("\r\n\r\n")
        parts.append((head.lower(), content))
    return parts


def dialog_doc(text):
    """(entity user, version, lamp on) of a dialog-info document."""
    ent = re.search(r'entity="sip:([^@"]+)@', text)
    ver = re.search(r'<dialog-info[^>]*\sversion="(\d+)"', text)
    states = re.findall(r"<(?:\w+:)?state[^>]*>\s*([a-z]+)\s*<", text)
    on = any(s in ("confirmed", "early") for s in states)
    return (ent.group(1) if ent else None,
            int(ver.group(1)) if ver else None, on)


def pidf_status(text):
    person = re.search(r"<(?:\w+:)?person\b.*?</(?:\w+:)?person>", text,
                       re.S)
    if person is None:
        return None
    note = re.search(r"<(?:\w+:)?note[^>]*>([^<]*)<", person.group(0))
    return NOTE_STATUS.get(note.group(1).strip()) if note else None


class Sub:
    def __init__(self, fl, ep, target, event, is_list=False):
        self.fl = fl
        self.ep = ep
        self.target = target                # the user, or the list
        self.event = event
        self.is_list = is_list
        self.name = "%s/%s%s" % (target, event, " (list)" if is_list else "")
        self.call_id = "w-%s-%s-%d@faultload" % (target, event,
                                                 fl.rng.randrange(10 ** 9))
        self.tag = "w%d" % fl.rng.randrange(10 ** 9)
        self.remote_tag = None
        self.remote_target = None
        self.cseq = 0
        self.notifies = 0
        self.last_cseq = None
        self.last_branch = None
        self.last_body = None
        self.last_version = None
        self.last_rlmi = None
        self.view = None                    # status or lamp, per user
        self.lamps = {}                     # list: user -> lamp on
        self.last_at = 0.0
        self.started_at = None
        self.tx = None
        self.refreshes = 0
        self.refreshed_over_restart = 0
        self.timer = None
        self.active = True
        fl.subs[self.call_id] = self

    def subscribe(self):
        fl = self.fl
        self.cseq += 1
        branch = "z9hG4bK-s%d-%d" % (self.cseq, fl.rng.randrange(10 ** 12))
        to = "<sip:%s@%s>" % (self.target, fl.args.domain)
        if self.remote_tag is not None:
            to += ";tag=" + self.remote_tag
        ruri = self.remote_target or "sip:%s@127.0.0.1:%d" % (
            self.target, fl.args.sip_port)
        hdrs = [("Via", self.ep.via(branch)), ("Max-Forwards", "70"),
                ("From", "<sip:%s@127.0.0.1>;tag=%s" % (self.ep.name,
                                                        self.tag)),
                ("To", to), ("Call-ID", self.call_id),
                ("CSeq", "%d SUBSCRIBE" % self.cseq),
                ("Contact", self.ep.contact()), ("Event", self.event),
                ("Expires", str(SUB_EXPIRES)),
                ("User-Agent", "presgw-it/faultload")]
        if self.is_list:
            hdrs += [("Supported", "eventlist"),
                     ("Accept", "application/rlmi+xml, multipart/related, "
                      "application/dialog-info+xml")]
        self.tx_start = fl.daemon.starts
        data = build("SUBSCRIBE %s SIP/2.0" % ruri, hdrs)
        self.tx = self.ep.request(data, branch, self.answered)

    def answered(self, tx, msg):
        fl = self.fl
        self.tx = None
        if msg is None:
            raise Broken("watcher %s: SUBSCRIBE (CSeq %d) got no answer"
                         % (self.name, self.cseq))
        if msg.status != 200:
            raise Broken("watcher %s: %s SUBSCRIBE (CSeq %d, start %d) "
                         "answered %d %s" % (
                             self.name, "refresh" if self.cseq > 1 else
                             "initial", self.cseq, fl.daemon.starts,
                             msg.status, msg.first.split(" ", 2)[-1]) +
                         answerer(msg))
        tag = tag_of(msg.get("to"))
        if self.remote_tag is None:
            self.remote_tag = tag
        elif tag != self.remote_tag:
            raise Broken("watcher %s: refresh answered with To tag %s, not "
                         "the dialog's %s" % (self.name, tag,
                                              self.remote_tag))
        if self.remote_target is None and msg.get("contact"):
            self.remote_target = uri_of(msg.get("contact"))
        if self.cseq > 1:
            self.refreshes += 1
            if self.tx_start != self.started_at:
                self.refreshed_over_restart += 1
        self.started_at = fl.daemon.starts
        if self.active:
            self.timer = fl.loop.at(fl.rng.uniform(2.0, 7.0), self.refresh)

    def refresh(self):
        if self.active and self.tx is None:
            self.subscribe()

    def notify(self, msg):
        fl = self.fl
        cseq, _ = msg.cseq()
        branch = msg.branch()
        if self.last_cseq is not None and cseq == self.last_cseq and \
                branch == self.last_branch:
            return                          # a retransmission
        ftag, ttag = tag_of(msg.get("from")), tag_of(msg.get("to"))
        if ttag != self.tag:
            raise Broken("watcher %s: NOTIFY CSeq %d has To tag %s, not "
                         "ours %s" % (self.name, cseq, ttag, self.tag))
        if self.remote_tag is None:
            self.remote_tag = ftag
        elif ftag != self.remote_tag:
            raise Broken("watcher %s: NOTIFY CSeq %d (after %d kills) has "
                         "From tag %s, not the dialog's %s" % (
                             self.name, cseq, len(fl.daemon.kills), ftag,
                             self.remote_tag))
        if self.last_cseq is not None and cseq <= self.last_cseq:
            raise Broken("watcher %s: NOTIFY CSeq %d after CSeq %d (after "
                         "%d kills, start %d): CSeq must rise" % (
                             self.name, cseq, self.last_cseq,
                             len(fl.daemon.kills), fl.daemon.starts))
        state = (msg.get("subscription-state") or "").split(";")[0].strip()
        if state != "active":
            raise Broken("watcher %s: NOTIFY CSeq %d says Subscription-"
                         "State %s (start %d)" % (
                             self.name, cseq,
                             msg.get("subscription-state"),
                             fl.daemon.starts))
        self.read_body(msg, cseq)
        self.last_cseq = cseq
        self.last_branch = branch
        self.last_body = msg.body
        self.last_at = now()
        self.notifies += 1
        fl.notifies += 1

    def check_version(self, kind, last, ver, same, cseq):
        if ver is None:
            raise Broken("watcher %s: NOTIFY CSeq %d: %s without a version"
                         % (self.name, cseq, kind))
        if last is not None and (ver < last or (ver == last and not same)):
            raise Broken("watcher %s: NOTIFY CSeq %d: %s version %d after "
                         "%d (start %d)" % (self.name, cseq, kind, ver,
                                            last, self.fl.daemon.starts))

    def read_body(self, msg, cseq):
        same = msg.body == self.last_body
        if self.is_list:
            parts = parse_multipart(msg.get("content-type") or "", msg.body)
            rlmi = [c for h, c in parts if "rlmi+xml" in h]
            if not rlmi:
                raise Broken("watcher %s: NOTIFY CSeq %d without RLMI"
                             % (self.name, cseq))
            m = re.search(r'<list[^>]*\sversion="(\d+)"', rlmi[0])
            ver = int(m.group(1)) if m else None
            self.check_version("RLMI", self.last_rlmi, ver, same, cseq)
            self.last_rlmi = ver
            if 'fullState="true"' in rlmi[0]:
                self.lamps = {}
            for h, c in parts:
                if "dialog-info+xml" in h:
                    user, _, on = dialog_doc(c)
                    self.lamps[user] = on
            return
        if self.event == "dialog":
            _, ver, on = dialog_doc(msg.body)
            self.check_version("dialog-info", self.last_version, ver, same,
                               cseq)
            self.last_version = ver
            self.view = on
            return
        status = pidf_status(msg.body)
        if status is None:
            raise Broken("watcher %s: NOTIFY CSeq %d: no status in its PIDF"
                         % (self.name, cseq))
        self.view = status


def on_watcher_request(fl):
    def handle(ep, msg):
        if msg.method != "NOTIFY":
            ep.answer(msg, 405, "Method Not Allowed")
            return
        sub = fl.subs.get(msg.get("call-id"))
        if sub is None:
            ep.answer(msg, 481, "Subscription Does Not Exist")
            fl.fail("watcher %s: NOTIFY for an unknown dialog (Call-ID %s)"
                    % (ep.name, msg.get("call-id")))
            return
        try:
            sub.notify(msg)
        except Broken as err:
            ep.answer(msg, 500, "Broken Rule")
            fl.fail(str(err))
            return
        ep.answer(msg, 200, "OK", [("Contact", ep.contact())])
    return handle


# --------------------------------------------------------------------------
# The Graph simulator.

def sim(args, method, path, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(args.sim.rstrip("/") + path, data=data,
                                 method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        raise Broken("simulator: %s %s answered %d: %s" % (
            method, path, err.code, err.read()[:200]))


# --------------------------------------------------------------------------
# The run.

class FaultLoad:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.loop = Loop(self.rng)
        self.daemon = Daemon(args, self)
        self.server = ("127.0.0.1", args.sip_port)
        self.phone_ep = Endpoint(self.loop, "phones", self.server)
        self.watcher_eps = [Endpoint(self.loop, "watcher%d" % i,
                                     self.server) for i in range(3)]
        for ep in self.watcher_eps:
            ep.on_request = on_watcher_request(self)
        self.users = args.users.split(",")
        self.ids = dict(u.split("=") for u in args.ids.split(","))
        self.subs = {}
        self.phones = []
        self.notifies = 0
        self.teams_changes = 0
        self.phone_log = []
        self.failure = None

    def fail(self, why):
        if self.failure is None:
            self.failure = why

    def check(self):
        if self.failure is not None:
            raise Broken(self.failure)

    def wait(self, cond, limit, what):
        ok = self.loop.run_until(lambda: self.failure is not None or cond(),
                                 limit)
        self.check()
        if not ok:
            raise Broken(what)

    # -- set-up
    def setup(self):
        a = self.args
        for i, u in enumerate(self.users):
            kind = "dialog" if i % 3 == 2 else "presence"
            self.phones.append(Phone(self, u, kind))
        for i, u in enumerate(self.users):
            ep = self.watcher_eps[i % len(self.watcher_eps)]
            Sub(self, ep, u, "presence")
            Sub(self, self.watcher_eps[(i + 1) % 3], u, "dialog")
        if a.list:
            Sub(self, self.watcher_eps[0], a.list, "dialog", is_list=True)
        for u in self.users:
            sim(a, "POST", "/_sim/users/%s/client" % self.ids[u],
                {"availability": "Available", "activity": "Available"})
        self.daemon.start()
        for p in self.phones:
            p.publish("available", True, on_done=lambda p: None)
        self.wait(lambda: all(p.etag for p in self.phones), 20,
                  "the phones' first PUBLISHes were not all answered")
        for s in self.subs.values():
            s.subscribe()
        self.wait(lambda: all(s.remote_tag and s.notifies and s.tx is None
                              for s in self.subs.values()), 20,
                  "not every watcher got its first NOTIFY")
        # Let the dialogs reach the store before the first kill.
        self.loop.sleep(0.5)

    # -- load
    def teams_change(self):
        if not self.loading:
            return
        u = self.rng.choice(self.users)
        av, act = self.rng.choice(CLIENT_PAIRS)
        sim(self.args, "POST", "/_sim/users/%s/client" % self.ids[u],
            {"availability": av, "activity": act})
        self.teams_changes += 1
        self.loop.at(self.rng.uniform(0.2, 1.0), self.teams_change)

    def initial_in_flight(self):
        return any(p.tx is not None and p.tx_initial for p in self.phones)

    def load(self):
        self.loading = True
        for p in self.phones:
            p.active = True
            p.schedule()
        for s in self.subs.values():
            s.timer = self.loop.at(self.rng.uniform(0.5, 5.0), s.refresh)
        self.loop.at(0.1, self.teams_change)
        for k in range(self.args.kills):
            # Mostly well into a run; now and then right after a start,
            # while resumed dialogs are still being written.
            if self.rng.random() < 0.3:
                up = self.rng.uniform(0.02, 0.4)
            else:
                up = self.rng.uniform(0.5, 3.0)
            self.loop.sleep(up)
            self.check()
            # An initial PUBLISH answered by a dead presgwd and sent again
            # makes a second publication (RFC 3903 allows it; it lives
            # till it expires): kills wait for those to be answered.
            self.wait(lambda: not self.initial_in_flight(), 40,
                      "an initial PUBLISH was not answered")
            self.daemon.kill()
            self.loop.sleep(self.rng.uniform(0.0, 0.5))
            self.check()
            self.daemon.start()
            self.check()
        self.loop.sleep(1.0)
        self.loading = False
        for p in self.phones:
            p.active = False
            self.loop.cancel(p.timer)
        for s in self.subs.values():
            s.active = False
            self.loop.cancel(s.timer)
        self.wait(lambda: all(p.tx is None for p in self.phones) and
                  all(s.tx is None for s in self.subs.values()), 40,
                  "PUBLISH or SUBSCRIBE still unanswered after the load")

    # -- the end
    def teams_state(self, u):
        return sim(self.args, "GET", "/_sim/users/%s" % self.ids[u])

    def teams_mismatch(self, p):
        """Why Teams does not hold p's last state, or None."""
        st = self.teams_state(p.user)
        want_sess, want_pref = TEAMS_OF[p.state]
        sess = None
        for sid, s in (st.get("sessions") or {}).items():
            if sid.lower() == self.args.client_id.lower():
                sess = (s["availability"], s["activity"])
        pref = st.get("preferred")
        pref = (pref["availability"], pref["activity"]) if pref else None
        # presgw writes no idle session for a user it never wrote a
        # call for: no session of its own is idle too.
        if sess is None and want_sess == IDLE:
            sess = IDLE
        if sess != want_sess or pref != want_pref:
            return ("Teams holds session %s and preferred %s for %s, whose "
                    "phone's last state is %s (want %s and %s)" % (
                        sess, pref, p.user, p.state, want_sess, want_pref))
        agg = st["aggregate"]
        shown = teams_status(agg["availability"], agg["activity"])
        if shown != p.state:
            return "Teams shows %s (%s/%s) for %s, whose phone is %s" % (
                shown, agg["availability"], agg["activity"], p.user,
                p.state)
        return None

    def watcher_mismatch(self, s, shown, since):
        if s.is_list:
            for u, status in shown.items():
                if s.lamps.get(u) != (status in LAMP_ON):
                    return ("list watcher %s: lamp of %s is %s, Teams shows "
                            "%s" % (s.name, u, s.lamps.get(u), status))
            return None
        # No NOTIFY since the final change is right when the user's view
        # did not change (Teams may have shown the final state already,
        # from a write still pending before it); the view must match.
        status = shown[s.target]
        if s.event == "dialog" and s.view != (status in LAMP_ON):
            return "watcher %s: lamp %s, Teams shows %s" % (
                s.name, "on" if s.view else "off", status)
        if s.event == "presence" and s.view != status:
            return "watcher %s: last NOTIFY shows %s, Teams shows %s" % (
                s.name, s.view, status)
        return None

    def final(self):
        a = self.args
        # Teams clients back to Available, so that Teams shows what the
        # phones set; then one change per phone that flips its lamp.
        for u in self.users:
            sim(a, "POST", "/_sim/users/%s/client" % self.ids[u],
                {"availability": "Available", "activity": "Available"})
        self.loop.sleep(3.0)
        self.check()
        since = now()
        for p in self.phones:
            lamp = p.state in LAMP_ON
            p.active = False
            p.publish(self.rng.choice([s for s in p.states()
                                       if (s in LAMP_ON) != lamp]),
                      True, on_done=lambda p: None)
        self.wait(lambda: all(p.tx is None for p in self.phones), 40,
                  "a final PUBLISH was not answered")
        why = "-"
        deadline = now() + 25
        while why is not None and now() < deadline:
            self.loop.sleep(0.5)
            why = self.end_mismatch(since)
        if why is not None:
            raise Broken(why + " (25 s after the final change)")
        # Nothing may undo it: a late NOTIFY of an older state, say.
        self.loop.sleep(2.0)
        why = self.end_mismatch(since)
        if why is not None:
            raise Broken(why + " (2 s after all had matched)")

    def end_mismatch(self, since):
        self.check()
        why = None
        shown = {}
        for p in self.phones:
            why = why or self.teams_mismatch(p)
            agg = self.teams_state(p.user)["aggregate"]
            shown[p.user] = teams_status(agg["availability"],
                                         agg["activity"])
        for s in self.subs.values():
            why = why or self.watcher_mismatch(s, shown, since)
        # NOTIFYs still flow after all the kills: the final change flips
        # every phone's lamp, so most watchers must have heard of it.
        heard = sum(1 for s in self.subs.values() if s.last_at >= since)
        if why is None and heard * 2 < len(self.subs):
            why = ("only %d of %d watchers got a NOTIFY after the final "
                   "change" % (heard, len(self.subs)))
        return why

    def graph_writes(self):
        """No write repeated for the same user and state unless presgwd
        was killed between the two (docs/known-issues.md)."""
        log = sim(self.args, "GET", "/_sim/requests")
        walls = [w for _, w in self.daemon.kills]
        last = {}
        n = 0
        for e in log:
            parts = (e.get("path") or "").strip("/").split("/")
            action = parts[-1]
            if e.get("method") != "POST" or len(parts) != 5 or action not in (
                    "setPresence", "clearPresence", "setUserPreferredPresence",
                    "clearUserPreferredPresence"):
                continue
            uid = parts[2] if parts[1] == "users" else parts[3]
            mech = "pref" if "Preferred" in action else "session"
            b = e.get("body") or {}
            what = (action, b.get("availability"), b.get("activity"))
            t = iso_time(e.get("time"))
            n += 1
            prev = last.get((uid, mech))
            last[(uid, mech)] = (what, t, e.get("seq"))
            if prev is None or prev[0] != what:
                continue
            if not any(prev[1] - 0.05 <= w <= t + 0.05 for w in walls):
                user = [u for u, i in self.ids.items()
                        if i.lower() == uid.lower()]
                raise Broken("Graph write %s %s/%s for %s sent twice in a "
                             "row (requests #%s and #%s) with no restart "
                             "between" % (what[0], what[1], what[2],
                                          user[0] if user else uid,
                                          prev[2], e.get("seq")))
        return n


def iso_time(text):
    # "2024-05-01T10:00:00.123Z" on the simulator's clock (wall clock).
    import datetime
    text = (text or "").rstrip("Z")
    try:
        dt = datetime.datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--presgwd", required=True)
    p.add_argument("--conf", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pidfile", required=True)
    p.add_argument("--sip-port", type=int, required=True)
    p.add_argument("--sim", required=True)
    p.add_argument("--domain", default="example.com")
    p.add_argument("--client-id", required=True)
    p.add_argument("--users", required=True, help="name,name,...")
    p.add_argument("--ids", required=True, help="name=id,...")
    p.add_argument("--list", help="a list of all the users, to watch")
    p.add_argument("--kills", type=int, default=22)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()

    fl = FaultLoad(args)
    print("faultload: seed=%d kills=%d users=%d" % (args.seed, args.kills,
                                                   len(fl.users)))
    sys.stdout.flush()
    started = now()
    try:
        fl.setup()
        fl.load()
        fl.final()
        writes = fl.graph_writes()
    except Broken as err:
        print("faultload: FAIL (seed %d, after %d kills): %s" % (
            args.seed, len(fl.daemon.kills), err))
        fl.daemon.stop()
        return 1
    fl.daemon.stop()
    subs = fl.subs.values()
    if not sum(p.refreshed_over_restart for p in fl.phones) or \
            not sum(s.refreshed_over_restart for s in subs):
        print("faultload: FAIL (seed %d): no publication or no subscription "
              "was refreshed across a restart; the run proved nothing"
              % args.seed)
        return 1
    print("faultload: kills=%d starts=%d notifies=%d publishes=%d "
          "publish-refreshes-over-restart=%d publications-redone=%d "
          "subscribe-refreshes=%d over-restart=%d teams-changes=%d "
          "graph-writes=%d seconds=%.0f" % (
              len(fl.daemon.kills), fl.daemon.starts, fl.notifies,
              sum(p.sent for p in fl.phones),
              sum(p.refreshed_over_restart for p in fl.phones),
              sum(p.redone for p in fl.phones),
              sum(s.refreshes for s in subs),
              sum(s.refreshed_over_restart for s in subs),
              fl.teams_changes, writes, now() - started))
    for s in sorted(subs, key=lambda s: s.name):
        print("faultload:   %-24s notifies=%d last-cseq=%s" % (
            s.name, s.notifies, s.last_cseq))
    return 0


if __name__ == "__main__":
    sys.exit(main())
