#!/usr/bin/env python3
"""watchers.py: many presence watchers of one user, on one UDP socket.

  watchers.py --server 127.0.0.1:PORT --user u000@example.com --count W
      [--expires 3600] [--window 100] [--deadline 300]

Opens W presence subscriptions (SUBSCRIBE, Event presence) to --user, from
W watcher addresses that share one UDP socket on 127.0.0.1, answers every
NOTIFY with 200, and talks to its parent as lines on stdin and stdout:

  on start          prints {"event": "port", "port": N}
  when subscribed   prints {"event": "ready", "subscribed": n, "refused": n,
                    "lost": n, "seconds": s}: every subscription has its 2xx
                    and its first NOTIFY, or gave up
  "arm TEXT"        from now on, the first NOTIFY of each subscription whose
                    body contains TEXT counts; prints {"event": "armed"}
  (all counted)     prints {"event": "fanout", "got": n, "first": t,
                    "last": t}: kernel arrival times (SO_TIMESTAMPNS,
                    seconds since the epoch) of the first and the last
                    counted NOTIFY; also printed on "report"
  "unsubscribe"     ends every subscription (SUBSCRIBE Expires 0) and waits
                    for the terminated NOTIFYs; prints {"event":
                    "unsubscribed", "ended": n, "seconds": s}
  "quit" or EOF     exits

Exits by itself after --deadline seconds whatever happens.  Python 3
standard library only.
"""

import argparse
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

T1 = 0.5          # first retransmission of a request (RFC 3261 T1)
# Linux's value where Python does not name it (asm-generic/socket.h).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
MAX_SENDS = 6     # a request is sent at most this many times


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def parse(data):
    """(first line, {lower-case header: [values]}, body) of a message."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        name = {"v": "via", "f": "from", "t": "to", "i": "call-id",
                "m": "contact"}.get(name, name)
        hdrs.setdefault(name, []).append(value.strip())
    return lines[0], hdrs, body


def tag_of(value):
    for part in value.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "tag":
            return v
    return ""


def uri_of(value):
    if "<" in value:
        return value[value.index("<") + 1:value.index(">")]
    return value.split(";")[0].strip()


class Sub:
    __slots__ = ("n", "call_id", "from_tag", "to_tag", "target", "cseq",
                 "branch", "msg", "sends", "next_send", "answered",
                 "notified", "counted", "ended", "gave_up")

    def __init__(self, n):
        self.n = n
        self.call_id = ""
        self.from_tag = ""
        self.to_tag = ""
        self.target = ""
        self.cseq = 0
        self.branch = ""
        self.msg = b""
        self.sends = 0
        self.next_send = 0.0
        self.answered = 0      # final status of the open SUBSCRIBE
        self.notified = False  # first NOTIFY seen
        self.counted = False   # armed NOTIFY seen
        self.ended = False     # terminated NOTIFY seen
        self.gave_up = False


class Watchers:
    def __init__(self, args):
        self.args = args
        host, _, port = args.server.rpartition(":")
        self.server = (host, int(port))
        self.user = args.user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # A burst of 10,000 NOTIFYs must fit while they are handled:
        # beyond rmem_max where allowed (root), else as much as it gives.
        for opt, size in ((SO_RCVBUFFORCE, 1 << 25),
                          (socket.SO_RCVBUF, 1 << 25)):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, size)
                break
            except OSError:
                pass
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.kernel_stamps = True
        except OSError:
            self.kernel_stamps = False
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.tag = "%x" % random.getrandbits(32)
        self.subs = [Sub(i) for i in range(args.count)]
        self.by_call = {}
        self.pending = {}          # branch -> Sub with a request out
        self.arm_text = None
        self.arm_got = 0
        self.first = None
        self.last = None
        self.fanout_sent = False
        self.deadline = time.monotonic() + args.deadline
        self.stdin_buf = b""
        self.quit = False

    # -- requests ---------------------------------------------------------

    def subscribe(self, s, expires):
        s.cseq += 1
        s.branch = "z9hG4bK-w%s-%d-%d" % (self.tag, s.n, s.cseq)
        if not s.call_id:
            s.call_id = "w%s-%d@127.0.0.1" % (self.tag, s.n)
            s.from_tag = "f%s%d" % (self.tag, s.n)
            self.by_call[s.call_id] = s
        ruri = s.target or "sip:%s" % self.user
        to = "<sip:%s>" % self.user
        if s.to_tag:
            to += ";tag=" + s.to_tag
        lines = [
            "SUBSCRIBE %s SIP/2.0" % ruri,
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (self.port,
                                                              s.branch),
            "Max-Forwards: 70",
            "From: <sip:w%05d@127.0.0.1>;tag=%s" % (s.n, s.from_tag),
            "To: " + to,
            "Call-ID: " + s.call_id,
            "CSeq: %d SUBSCRIBE" % s.cseq,
            "Contact: <sip:w%05d@127.0.0.1:%d>" % (s.n, self.port),
            "Event: presence",
            "Accept: application/pidf+xml",
            "Expires: %d" % expires,
            "Content-Length: 0",
        ]
        s.msg = ("\r\n".join(lines) + "\r\n\r\n").encode()
        s.sends = 0
        s.answered = 0
        self.pending[s.branch] = s
        self.send_request(s, time.monotonic())

    def send_request(self, s, now):
        try:
            self.sock.sendto(s.msg, self.server)
        except BlockingIOError:
            pass
        s.sends += 1
        s.next_send = now + min(T1 * (1 << (s.sends - 1)), 4.0)

    def retransmit(self, now):
        for branch, s in list(self.pending.items()):
            if s.next_send > now:
                continue
            if s.sends >= MAX_SENDS:
                del self.pending[branch]
                s.gave_up = True
                continue
            self.send_request(s, now)

    # -- what comes in ----------------------------------------------------

    def answer(self, hdrs, status="200 OK"):
        lines = ["SIP/2.0 " + status]
        lines += ["Via: " + v for v in hdrs.get("via", [])]
        for name in ("from", "to", "call-id", "cseq"):
            for v in hdrs.get(name, []):
                lines.append("%s: %s" % (name.title() if name != "call-id"
                                         else "Call-ID", v))
        lines.append("Content-Length: 0")
        msg = ("\r\n".join(lines) + "\r\n\r\n").encode()
        try:
            self.sock.sendto(msg, self.server)
        except BlockingIOError:
            pass

    def on_message(self, data, stamp):
        first, hdrs, body = parse(data)
        if first.startswith("SIP/2.0 "):
            self.on_response(first, hdrs)
            return
        method = first.split(" ", 1)[0]
        if method != "NOTIFY":
            self.answer(hdrs, "405 Method Not Allowed")
            return
        self.answer(hdrs)
        s = self.by_call.get((hdrs.get("call-id") or [""])[0])
        if s is None:
            return
        state = (hdrs.get("subscription-state") or [""])[0].lower()
        if not s.to_tag:
            s.to_tag = tag_of((hdrs.get("from") or [""])[0])
        if not s.notified:
            s.notified = True
        if state.startswith("terminated"):
            s.ended = True
            return
        if (self.arm_text is not None and not s.counted and
                self.arm_text in body):
            s.counted = True
            self.arm_got += 1
            if self.first is None or stamp < self.first:
                self.first = stamp
            if self.last is None or stamp > self.last:
                self.last = stamp

    def on_response(self, first, hdrs):
        try:
            status = int(first.split(" ")[1])
        except (IndexError, ValueError):
            return
        via = (hdrs.get("via") or [""])[0]
        branch = ""
        for part in via.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k == "branch":
                branch = v
        s = self.pending.get(branch)
        if s is None or status < 200:
            return
        del self.pending[branch]
        s.answered = status
        if 200 <= status < 300 and s.cseq == 1:
            s.to_tag = tag_of((hdrs.get("to") or [""])[0]) or s.to_tag
            contact = (hdrs.get("contact") or [""])[0]
            if contact:
                s.target = uri_of(contact)

    def read_socket(self):
        """Drains the socket first, handles the batch after: the kernel's
        arrival stamps stay exact however slow the handling is."""
        batch = []
        for _ in range(4096):
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(65536, 64)
            except (BlockingIOError, InterruptedError):
                break
            stamp = None
            for level, kind, value in anc:
                if (level == socket.SOL_SOCKET and
                        kind == SO_TIMESTAMPNS):
                    sec, nsec = struct.unpack("qq", value[:16])
                    stamp = sec + nsec / 1e9
            batch.append((data, stamp if stamp is not None else time.time()))
        for data, stamp in batch:
            self.on_message(data, stamp)

    def read_stdin(self, sel):
        try:
            chunk = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            chunk = b""
        if not chunk:
            sel.unregister(sys.stdin)
            self.quit = True
            return []
        self.stdin_buf += chunk
        cmds = []
        while b"\n" in self.stdin_buf:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            cmds.append(line.decode().strip())
        return cmds

    # -- the phases -------------------------------------------------------

    def loop(self, until, sel, on_cmd):
        """Runs the event loop until until() is true, or the deadline."""
        while not self.quit and not until():
            now = time.monotonic()
            if now >= self.deadline:
                self.quit = True
                break
            for key, _ in sel.select(timeout=0.05):
                if key.fileobj is self.sock:
                    self.read_socket()
                else:
                    for cmd in self.read_stdin(sel):
                        on_cmd(cmd)
            self.retransmit(time.monotonic())
            self.fanout_check()

    def fanout_check(self):
        if (self.arm_text is not None and not self.fanout_sent and
                self.arm_got >= self.expected()):
            self.fanout_sent = True
            self.report()

    def expected(self):
        return sum(1 for s in self.subs
                   if 200 <= s.answered < 300 and s.notified)

    def report(self):
        emit({"event": "fanout", "got": self.arm_got,
              "expected": self.expected(), "first": self.first,
              "last": self.last})

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(sys.stdin, selectors.EVENT_READ)
        emit({"event": "port", "port": self.port,
              "kernel_stamps": self.kernel_stamps,
              "rcvbuf": self.sock.getsockopt(socket.SOL_SOCKET,
                                             socket.SO_RCVBUF)})
        start = time.monotonic()
        todo = list(self.subs)
        todo.reverse()

        def opened():
            while todo and len(self.pending) < self.args.window:
                self.subscribe(todo.pop(), self.args.expires)
            if todo or self.pending:
                return False
            return all(s.notified or s.gave_up or s.answered >= 300
                       for s in self.subs)

        wanted = []
        self.loop(opened, sel, wanted.append)
        emit({"event": "ready",
              "subscribed": sum(1 for s in self.subs
                                if 200 <= s.answered < 300 and s.notified),
              "refused": sum(1 for s in self.subs if s.answered >= 300),
              "lost": sum(1 for s in self.subs
                          if s.gave_up or (s.answered and not s.notified)),
              "seconds": round(time.monotonic() - start, 3)})

        state = {"unsub": False}

        def on_cmd(cmd):
            if cmd.startswith("arm "):
                self.arm_text = cmd[4:].encode()
                self.arm_got = 0
                self.first = self.last = None
                self.fanout_sent = False
                for s in self.subs:
                    s.counted = False
                emit({"event": "armed"})
            elif cmd == "report":
                self.report()
            elif cmd == "unsubscribe":
                state["unsub"] = True
            elif cmd == "quit":
                self.quit = True

        for cmd in wanted:
            on_cmd(cmd)
        self.loop(lambda: state["unsub"], sel, on_cmd)
        if self.quit:
            return
        start = time.monotonic()
        live = [s for s in self.subs if 200 <= s.answered < 300]
        todo = list(live)
        todo.reverse()

        def closed():
            while todo and len(self.pending) < self.args.window:
                self.subscribe(todo.pop(), 0)
            if todo or self.pending:
                return False
            return all(s.ended or s.gave_up for s in live)

        self.loop(closed, sel, on_cmd)
        emit({"event": "unsubscribed",
              "ended": sum(1 for s in live if s.ended),
              "seconds": round(time.monotonic() - start, 3)})
        self.loop(lambda: False, sel, on_cmd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--deadline", type=float, default=300)
    Watchers(ap.parse_args()).run()


if __name__ == "__main__":
    main()
