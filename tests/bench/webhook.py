"""webhook.py: the "webhook" part of make bench (bench.py runs it).

A Teams change brought by a Graph change notification, with polling off:
presgwd gets an HTTP listener and notify_url, two service accounts sign
in through the simulator's device code flow (presgwctl login, then
SIGHUP), so its 1,000 users are covered by two subscriptions (650 + 350).
For W = 1, 100, 1000 watchers of u000 (watchers.py), the user's Teams
client changes state through the simulator's control API, several times,
alternating Busy/InACall and DoNotDisturb/Presenting.  Each change is timed from the
control call to the first and the last NOTIFY with the new state reaching
the watchers' socket (kernel time stamps), and split into:

  sim    the control call to the simulator's webhook POST (it gathers
         changes for 50 ms and ticks every 50-100 ms, as Graph batches)
  read   the POST to presgwd's "pa teams" log line (answer 202, read the
         user with getPresencesByUserId, take the new state)
  fan    that log line to the last NOTIFY

Prints min/median/max over the changes; nothing passes or fails on a
time.  Every process it starts is ended by its PID (bench.PROCS).
"""

import datetime
import os
import re
import signal
import statistics
import subprocess
import time

ACCOUNTS = (("svc1", "5e4c1a00-0000-4000-8000-5e4c00000001"),
            ("svc2", "5e4c1a00-0000-4000-8000-5e4c00000002"))
# (control call body, text only that state's NOTIFY carries, log word)
# Both outrank the Available session earlier parts leave for u000 in the
# simulator (its aggregate takes the highest availability).
STATES = ((("Busy", "InACall"), ">On the phone<", "Busy"),
          (("DoNotDisturb", "Presenting"), ">Do not disturb<",
           "DoNotDisturb"))
WHO = 0     # u000, in svc1's subscription


def spread(vals):
    """"min / median / max" in ms, or "-"."""
    if not vals:
        return "-"
    return "%s / %s / %s" % tuple(
        "%.1f" % v for v in (min(vals), statistics.median(vals), max(vals)))


def sim_time(iso):
    """Seconds since the epoch of the simulator's ISO time (UTC, ms)."""
    try:
        t = datetime.datetime.strptime(iso.rstrip("Z")[:23],
                                       "%Y-%m-%dT%H:%M:%S.%f")
    except (AttributeError, ValueError):
        return None
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


class WebhookPart:
    def __init__(self, bench, mod):
        self.b = bench
        self.m = mod        # bench.py: PROCS, Presgwd, say, helpers
        self.sizes = mod.env_list("BENCH_WEBHOOK_WATCHERS", [1, 100, 1000])
        self.trials = int(os.environ.get("BENCH_WEBHOOK_TRIALS") or 5)
        self.ctl = os.path.join(bench.build, "presgwctl")
        self.pg = None
        self.turn = 0       # which of STATES comes next

    def run(self):
        say = self.m.say
        say("")
        say("== Teams change to phone through the webhook (presgw, "
            "polling off, 2 subscriptions) ==")
        if not os.access(self.ctl, os.X_OK):
            say("skipped: %s is not built" % self.ctl)
            return None
        rows = []
        try:
            if not self.start():
                return None
            say("%6s %6s %22s %22s %7s %7s %7s %6s"
                % ("W", "told", "first ms min/med/max",
                   "last ms min/med/max", "sim", "read", "fan", "drops"))
            for w in self.sizes:
                row = self.one(w)
                rows.append(row)
                say("%6d %6s %22s %22s %7s %7s %7s %6s"
                    % (w, row.get("told", "-"), spread(row["first"]),
                       spread(row["last"]), self.med(row["sim"]),
                       self.med(row["read"]), self.med(row["fan"]),
                       row.get("drops", "-")))
                for note in row["notes"]:
                    say("       " + note)
            say("ms from the control call that changed Teams; sim, read, "
                "fan: medians of the")
            say("parts (simulator to webhook POST, POST to presgwd's new "
                "state, state to last NOTIFY).")
        finally:
            self.stop()
        return rows

    def med(self, vals):
        """The median as bench.py's ms() shows it ("<1" below 1 ms: the
        log line's trip through the pipe is as long as a NOTIFY's)."""
        return self.m.ms(statistics.median(vals)) if vals else "-"

    # -- set-up -----------------------------------------------------------

    def start(self):
        """presgwd with notifications and two accounts; True once they
        are active."""
        b, m = self.b, self.m
        b.sim.client(WHO, "Available", "Available")
        for name, oid in ACCOUNTS:
            b.sim.call("POST", "/_sim/users",
                       {"id": oid, "upn": name + "@contoso.example"})
        http = m.free_block()
        url = "http://127.0.0.1:%d/graph/" % http
        level = "debug" if b.level == "debug" else "info"
        self.pg = m.Presgwd(
            b.presgwd_bin, b.work, b.sim, b.secret_file, "presgwd-webhook",
            0, level, tap=True,
            graph_extra="notify_url = %snotify\nlifecycle_url = "
            "%slifecycle\n" % (url, url),
            tail="[http]\nlisten = 127.0.0.1:%d\n" % http)
        for name, _ in ACCOUNTS:
            if not self.login(name):
                m.say("skipped: presgwctl login %s failed" % name)
                return False
        self.pg.proc.send_signal(signal.SIGHUP)
        end = time.monotonic() + 30
        while self.pg.tap.find(r"graph notifications active") is None:
            if time.monotonic() > end:
                m.say("skipped: notifications did not become active in "
                      "30 s; see " + self.pg.log)
                return False
            time.sleep(0.05)
        self.active_line = self.pg.tap.count()
        return True

    def login(self, name):
        """presgwctl login NAME, approved through the simulator."""
        out_path = os.path.join(self.b.work, "ctl-%s.out" % name)
        with open(out_path, "w") as out:
            p = self.m.PROCS.start([self.ctl, "-c", self.pg.conf, "login",
                                    name], stdout=out,
                                   stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        try:
            code, end = None, time.monotonic() + 15
            while code is None and time.monotonic() < end:
                with open(out_path) as f:
                    hit = re.search(r"enter the code ([A-Z0-9-]+)", f.read())
                code = hit.group(1) if hit else None
                if code is None:
                    if p.poll() is not None:
                        return False
                    time.sleep(0.1)
            if code is None:
                return False
            self.b.sim.call("POST", "/_sim/devicecode/approve",
                            {"user_code": code,
                             "upn": name + "@contoso.example"})
            p.wait(30)
            return p.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False
        finally:
            self.m.PROCS.stop(p, wait=5)

    def stop(self):
        if self.pg is None:
            return
        rc = self.pg.stop()
        comp = [line for _, line in self.pg.tap.seen
                if line.split(" ", 2)[1:2] in (["warn"], ["error"])]
        if comp:
            self.b.results["complaints"].append(
                {"where": "webhook", "lines": [c.rstrip("\n")
                                               for c in comp]})
        if rc not in (0, None):
            self.m.say("note: the webhook part's presgwd exited with "
                       "status %s" % rc)

    # -- one size ---------------------------------------------------------

    def one(self, w):
        m, pg = self.m, self.pg
        row = {"watchers": w, "notes": [], "first": [], "last": [],
               "sim": [], "read": [], "fan": []}
        aor = "%s@%s" % (m.user_name(WHO), m.DOMAIN)
        kids = []
        try:
            wp, reader, ready = self.b.watchers(pg, aor, w, kids)
            if ready is None or not ready["subscribed"]:
                row["notes"].append("watchers did not get ready")
                return row
            row["told"] = ready["subscribed"]
            m.wait_idle(pg.ticks, quiet=0.3, limit=5)
            drops0 = m.udp_rcvbuf_errors()
            for _ in range(self.trials):
                self.trial(row, wp, reader, aor, STATES[self.turn % 2])
                self.turn += 1
                time.sleep(0.3)
            row["drops"] = m.udp_rcvbuf_errors() - drops0
            if pg.tap.find(r"graph poll users=", self.active_line):
                row["notes"].append("a poll ran: polling was not off")
            wp.stdin.write("unsubscribe\n")
            wp.stdin.flush()
            reader.expect("unsubscribed", 60)
        finally:
            for wp_, _ in kids:
                try:
                    wp_.stdin.write("quit\n")
                    wp_.stdin.flush()
                except (OSError, ValueError):
                    pass
                m.PROCS.stop(wp_, wait=5)
        last = row["last"]
        row["last_med"] = statistics.median(last) if last else None
        return row

    def trial(self, row, wp, reader, aor, state):
        (avail, act), text, word = state
        wp.stdin.write("arm %s\n" % text)
        wp.stdin.flush()
        if reader.expect("armed", 10) is None:
            row["notes"].append("the watchers did not arm")
            return
        start_line = self.pg.tap.count()
        seq = self.last_delivery()
        t0 = time.time()
        self.b.sim.client(WHO, avail, act)
        fan = reader.expect("fanout", 20)
        if fan is None or fan.get("last") is None:
            row["notes"].append("change to %s: not every watcher told in "
                                "20 s" % word)
            wp.stdin.write("report\n")
            wp.stdin.flush()
            reader.expect("fanout", 5)
            return
        row["first"].append(1000.0 * (fan["first"] - t0))
        row["last"].append(1000.0 * (fan["last"] - t0))
        hit = self.pg.tap.find(r"pa teams user=%s availability=%s"
                               % (re.escape(aor), word), start_line)
        post = self.delivery_start(seq)
        if hit is not None:
            row["fan"].append(1000.0 * (fan["last"] - hit[0]))
        if post is not None:
            row["sim"].append(1000.0 * (post - t0))
            if hit is not None:
                row["read"].append(1000.0 * (hit[0] - post))

    def last_delivery(self):
        got = self.b.sim.call("GET", "/_sim/deliveries") or []
        return got[-1]["seq"] if got else 0

    def delivery_start(self, after):
        """When the simulator began the first webhook POST after seq."""
        for d in self.b.sim.call("GET", "/_sim/deliveries") or []:
            if d["seq"] <= after or d["kind"] != "notification":
                continue
            t = sim_time(d.get("time"))
            if t is None or d.get("latency_ms") is None:
                return None
            return t - d["latency_ms"] / 1000.0
        return None
