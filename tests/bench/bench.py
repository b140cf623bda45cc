#!/usr/bin/env python3
"""bench.py: the presgw benchmarks behind "make bench".

  bench.py --srcdir DIR --builddir DIR

Starts the Graph simulator, presgwd (and Kamailio's presence server when
it is installed) on 127.0.0.1, drives them with sipp and with
watchers.py, and prints figures next to the targets of the design
(DESIGN.md section 8).  Nothing here passes or fails on a timing; the exit
status is 0 unless the bench itself could not run.

  1. PUBLISH cycles (initial, refresh, remove) over 1,000 users at
     stepped rates: an idle body (SIP and the store only) and a call body
     (two Graph writes per cycle).
  2. SUBSCRIBE cycles (SUBSCRIBE, NOTIFY, un-SUBSCRIBE, NOTIFY).
  3. Fan-out: W watchers of one user; the user changes in Teams; the time
     from presgwd's "pa teams" log line to the last NOTIFY; RSS per
     subscription.
  3b. Webhook (webhook.py): the same change brought by a Graph change
     notification with polling off, timed from the control call that
     changed Teams to the first and the last NOTIFY.
  4. The cycles of 1 and 2 against Kamailio (presence + presence_xml,
     memory only), and the ratios.

Knobs (environment), each optional:

  BENCH_STEP_SECONDS   seconds per rate step (5)
  BENCH_PUB_RATES      PUBLISH cycle rates, idle body
  BENCH_CALL_RATES     PUBLISH cycle rates, call body
  BENCH_SUB_RATES      SUBSCRIBE cycle rates
  BENCH_KAM_PUB_RATES, BENCH_KAM_SUB_RATES   the same for Kamailio
  BENCH_WATCHERS       fan-out sizes (1,100,1000,10000)
  BENCH_PARTS          which parts: pub,call,sub,memory,fanout,webhook,
                       kamailio (all)
  BENCH_WEBHOOK_WATCHERS, BENCH_WEBHOOK_TRIALS   webhook part: sizes
                       (1,100,1000) and changes timed at each (5)
  BENCH_MEM_WATCHERS   subscriptions per batch of the memory probe (10000)
  BENCH_KAMAILIO       "no" skips Kamailio
  BENCH_LOG_LEVEL      presgwd's log level (info)
  BENCH_KEEP           1 keeps the scratch directory
  BENCH_JSON           also write every figure to this file as JSON
  PRESGWD, SIPP, KAMAILIO, PYTHON   the programs
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import webhook

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

TENANT = "00000000-0000-4000-8000-0000000be7c0"
CLIENT_ID = "11111111-2222-4333-8444-5555555be7c0"
DOMAIN = "example.com"
NUSERS = 1000

# DESIGN.md section 8: Kamailio 5.6 presence, memory only, on this kind
# of box, and what presgw aims for.
KAM_PUB_REF = 5000          # PUBLISH cycles/s
KAM_SUB_REF = (3500, 4000)  # SUBSCRIBE cycles/s
PUB_TARGET = int(1.5 * KAM_PUB_REF)
SUB_TARGET = int(1.5 * KAM_SUB_REF[0])
SUB_TARGET_HI = int(1.5 * KAM_SUB_REF[1])
FANOUT_TARGET_MS = 500      # 10,000 watchers
MEM_SETTLE = 35             # s: UDP server transactions linger 64*T1
MEM_TARGET = 1024           # bytes per subscription


def env_list(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return list(default)
    return [int(x) for x in re.split(r"[,\s]+", raw) if x]


def user_id(i):
    return "00000000-0000-4000-8000-%012d" % (i + 1)


def user_name(i):
    return "u%03d" % i


def say(msg=""):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# Processes: every one started here is ended here, by its PID.

class Procs:
    def __init__(self):
        self.live = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.live.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=10.0):
        """Signals p, waits up to wait seconds, then kills it."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                say("  note: pid %d did not stop in %.0f s; killing it"
                    % (p.pid, wait))
                p.kill()
                p.wait(5)
        if p in self.live:
            self.live.remove(p)
        return p.returncode

    def stop_all(self):
        for p in list(reversed(self.live)):
            self.stop(p, wait=8.0)


PROCS = Procs()


def free_block(n=8, tries=400):
    """The first of n consecutive ports free on 127.0.0.1 (UDP and TCP)."""
    rng = random.SystemRandom()
    for _ in range(tries):
        base = rng.randrange(20000, 39000 - n)
        ok = True
        for port in range(base, base + n):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                finally:
                    s.close()
                if not ok:
                    break
            if not ok:
                break
        if ok:
            return base
    raise SystemExit("bench: no free ports on 127.0.0.1")


# ---------------------------------------------------------------------------
# /proc

def proc_ticks(pid):
    """utime + stime of pid (all its threads), in clock ticks."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def tree_ticks(root):
    """utime + stime of root and every live descendant (Kamailio forks)."""
    parent = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    total = 0
    for pid in parent:
        p, depth = pid, 0
        while p and p != root and depth < 16:
            p, depth = parent.get(p, 0), depth + 1
        if p == root:
            total += proc_ticks(pid)
    return total


def vm_rss(pid):
    """VmRSS of pid, in bytes."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def udp_rcvbuf_errors():
    """Datagrams the kernel dropped for want of socket buffer (all UDP)."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [line.split() for line in f if line.startswith("Udp:")]
        head, vals = rows[0], rows[1]
        return int(vals[head.index("RcvbufErrors")])
    except (OSError, IndexError, ValueError):
        return 0


def cpu_busy_ticks():
    """Ticks every CPU of the machine spent busy (/proc/stat)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    except (OSError, ValueError, IndexError):
        return 0


def udp_port_drops(port):
    """Datagrams dropped at the UDP sockets bound to port (/proc/net/udp)."""
    total = 0
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    total += int(fields[-1])
    except (OSError, StopIteration, IndexError, ValueError):
        pass
    return total


def sip_ping(port):
    """True once an OPTIONS to 127.0.0.1:port gets any SIP answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        lport = s.getsockname()[1]
        msg = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ping%d\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:bench@127.0.0.1>;tag=ping\r\n"
               "To: <sip:127.0.0.1:%d>\r\n"
               "Call-ID: ping%d@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n"
               % (port, lport, lport, port, lport))
        s.sendto(msg.encode(), ("127.0.0.1", port))
        data, _ = s.recvfrom(65536)
        return data.startswith(b"SIP/2.0")
    except OSError:
        return False
    finally:
        s.close()


def wait_idle(pid_ticks, quiet=0.3, limit=10.0):
    """Waits until the ticks stop moving for quiet seconds (a backlog is
    worked off), at most limit seconds."""
    end = time.monotonic() + limit
    last = pid_ticks()
    while time.monotonic() < end:
        time.sleep(quiet)
        now = pid_ticks()
        if now - last <= 1:
            return
        last = now


# ---------------------------------------------------------------------------
# The Graph simulator.

class GraphSim:
    def __init__(self, top, work, python, secret):
        self.work = work
        self.log = os.path.join(work, "sim-requests.jsonl")
        users = os.path.join(work, "sim-users.csv")
        with open(users, "w") as f:
            f.write("# entra-object-id,upn\n")
            for i in range(NUSERS):
                f.write("%s,%s@contoso.example\n" % (user_id(i),
                                                     user_name(i)))
        port_file = os.path.join(work, "sim.port")
        self.out = open(os.path.join(work, "graphsim.out"), "w")
        self.proc = PROCS.start(
            [python, os.path.join(top, "tests/graphsim/graphsim.py"),
             "--port", "0", "--port-file", port_file, "--tenant", TENANT,
             "--client-id", CLIENT_ID, "--client-secret", secret,
             "--users", users, "--rate-limit", "100000000",
             "--device-code-interval", "1", "--log", self.log],
            stdout=self.out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        end = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("bench: graphsim exited at start-up")
            try:
                with open(os.path.join(work, "graphsim.out")) as f:
                    if "graphsim listening" in f.read():
                        break
            except OSError:
                pass
            if time.monotonic() > end:
                raise SystemExit("bench: graphsim did not start")
            time.sleep(0.1)
        with open(port_file) as f:
            self.port = int(f.read().strip())
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_pos = 0

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    def client(self, i, availability, activity):
        self.call("POST", "/_sim/users/%s/client" % user_id(i),
                  {"availability": availability, "activity": activity})

    def mark(self):
        try:
            self.log_pos = os.path.getsize(self.log)
        except OSError:
            self.log_pos = 0

    def writes_since_mark(self):
        """(presence writes, their non-2xx answers, polls) logged since
        mark()."""
        writes = bad = polls = 0
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_pos)
                data = f.read()
        except OSError:
            return 0, 0, 0
        for line in data.splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            path = r.get("path", "").lower()
            if r.get("method") != "POST" or "/v1.0/" not in path:
                continue
            if "getpresencesbyuserid" in path:
                polls += 1
                continue
            writes += 1
            st = r.get("status") or 0
            if not 200 <= st < 300:
                bad += 1
        return writes, bad, polls


# ---------------------------------------------------------------------------
# presgwd.

class LogTap(threading.Thread):
    """Copies presgwd's stderr to its log file and notes, with
    time.time(), when each line arrived, for lines that match a
    pattern someone waits for."""

    def __init__(self, pipe, path):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.out = open(path, "ab")
        self.lock = threading.Lock()
        self.seen = []          # (time, line) of every line
        self.keep = True

    def run(self):
        for raw in iter(self.pipe.readline, b""):
            t = time.time()
            self.out.write(raw)
            self.out.flush()
            with self.lock:
                self.seen.append((t, raw.decode("utf-8", "replace")))
        self.out.close()

    def find(self, regex, start=0):
        rx = re.compile(regex)
        with self.lock:
            for t, line in self.seen[start:]:
                if rx.search(line):
                    return t, line
        return None

    def count(self):
        with self.lock:
            return len(self.seen)


class Presgwd:
    def __init__(self, binary, work, sim, secret_file, name, poll,
                 level, tap=False, graph_extra="", tail=""):
        self.work = work
        self.name = name
        self.port = free_block()
        self.conf = os.path.join(work, name + ".conf")
        self.log = os.path.join(work, name + ".log")
        with open(self.conf, "w") as f:
            f.write("""[sip]
listen = sip:127.0.0.1:%(port)d
domain = %(domain)s
aliases = 127.0.0.1 localhost

[graph]
login_url = %(sim)s
graph_url = %(sim)s/v1.0
tenant_id = %(tenant)s
client_id = %(client)s
client_secret_file = %(secret)s
poll_interval = %(poll)d
timeout = 10
%(graph_extra)s
[store]
path = %(name)s.db

[users]
map = users.csv

[log]
level = %(level)s
%(tail)s""" % {"port": self.port, "graph_extra": graph_extra, "tail": tail, "domain": DOMAIN, "sim": sim.url,
                "tenant": TENANT, "client": CLIENT_ID, "secret": secret_file,
                "poll": poll, "name": name, "level": level})
        self.tap = None
        if tap:
            self.proc = PROCS.start([binary, "-c", self.conf, "-f"],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            self.tap = LogTap(self.proc.stdout, self.log)
            self.tap.start()
        else:
            self.logf = open(self.log, "ab")
            self.proc = PROCS.start([binary, "-c", self.conf, "-f"],
                                    stdout=self.logf,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.log_pos = 0
        end = time.monotonic() + 15
        # "gateway started" is an info line; below info, the SIP port
        # answering tells.
        while not (self.log_has("gateway started") or
                   (level in ("warn", "error") and sip_ping(self.port))):
            if self.proc.poll() is not None:
                raise SystemExit("bench: presgwd exited at start-up; see "
                                 + self.log + "\n" + self.tail())
            if time.monotonic() > end:
                raise SystemExit("bench: presgwd did not start; see "
                                 + self.log)
            time.sleep(0.05)

    def log_has(self, text):
        try:
            with open(self.log, "rb") as f:
                return text.encode() in f.read()
        except OSError:
            return False

    def tail(self, n=20):
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def ticks(self):
        return proc_ticks(self.pid)

    def mark(self):
        try:
            self.log_pos = os.path.getsize(self.log)
        except OSError:
            self.log_pos = 0

    def complaints(self):
        """Lines at warn or error level since mark(), and how many."""
        out = []
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_pos)
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return out
        for line in data.splitlines():
            parts = line.split(" ", 2)
            if len(parts) > 1 and parts[1] in ("warn", "error"):
                out.append(line)
        return out

    def stop(self):
        rc = PROCS.stop(self.proc, wait=15.0)
        if self.tap is not None:
            self.tap.join(5)
        return rc


# ---------------------------------------------------------------------------
# Kamailio.

class Kamailio:
    def __init__(self, binary, cfg, work):
        self.port = free_block()
        run = os.path.join(work, "kamailio-run")
        os.makedirs(run, exist_ok=True)
        self.log = os.path.join(work, "kamailio.log")
        self.logf = open(self.log, "ab")
        addr = "sip:127.0.0.1:%d" % self.port
        argv = [binary, "-f", cfg, "-l", "udp:127.0.0.1:%d" % self.port,
                "-DD", "-E", "-m", "1024", "-M", "32", "-Y", run,
                "-P", os.path.join(run, "kamailio.pid"),
                "-A", 'SERVER_ADDR="%s"' % addr]
        self.proc = PROCS.start(argv, stdout=self.logf,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        end = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("kamailio exited at start-up; see "
                                   + self.log)
            if sip_ping(self.port):
                break
            if time.monotonic() > end:
                raise RuntimeError("kamailio did not answer; see "
                                   + self.log)
            time.sleep(0.2)

    def ticks(self):
        return tree_ticks(self.pid)

    def mark(self):
        try:
            self.log_pos = os.path.getsize(self.log)
        except OSError:
            self.log_pos = 0

    def complaints(self):
        out = []
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_pos)
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return out
        for line in data.splitlines():
            if "ERROR" in line or "CRITICAL" in line or "WARNING" in line:
                out.append(line)
        return out

    def stop(self):
        return PROCS.stop(self.proc, wait=15.0)


# ---------------------------------------------------------------------------
# sipp rate steps.

def sipp_stat(path):
    """The last row of a sipp -trace_stat file as {column: value}."""
    try:
        with open(path) as f:
            rows = [line.rstrip("\n") for line in f if line.strip()]
    except OSError:
        return {}
    if len(rows) < 2:
        return {}
    head = rows[0].split(";")
    vals = rows[-1].split(";")
    return dict(zip(head, vals))


def stat_int(st, name):
    try:
        return int(st.get(name, "0") or 0)
    except ValueError:
        return 0


def sipp_unexpected(path, limit=20 << 20):
    """{status code or method: count} of the unexpected messages sipp
    logged with -trace_err."""
    counts = {}
    try:
        with open(path, "rb") as f:
            data = f.read(limit).decode("utf-8", "replace")
    except OSError:
        return counts
    for m in re.finditer(r"received '(SIP/2\.0 (\d{3})|([A-Z]+) )", data):
        key = m.group(2) or m.group(3)
        counts[key] = counts.get(key, 0) + 1
    return counts


class Bench:
    def __init__(self, args):
        self.args = args
        self.top = os.path.abspath(args.srcdir)
        self.build = os.path.abspath(args.builddir)
        self.here = os.path.join(self.top, "tests", "bench")
        self.python = os.environ.get("PYTHON") or sys.executable
        self.presgwd_bin = os.environ.get("PRESGWD") or os.path.join(
            self.build, "presgwd")
        self.sipp = os.environ.get("SIPP") or "sipp"
        self.kamailio = os.environ.get("KAMAILIO") or shutil.which(
            "kamailio") or "/usr/sbin/kamailio"
        self.step_s = int(os.environ.get("BENCH_STEP_SECONDS") or 5)
        self.level = os.environ.get("BENCH_LOG_LEVEL") or "info"
        parts = os.environ.get("BENCH_PARTS") or \
            "pub,call,sub,memory,fanout,webhook,kamailio"
        self.parts = set(p.strip() for p in parts.split(",") if p.strip())
        self.results = {"steps": [], "fanout": [], "notes": [],
                        "complaints": []}
        self.work = None
        self.sim = None

    # -- set-up -----------------------------------------------------------

    def setup(self):
        if not os.access(self.presgwd_bin, os.X_OK):
            raise SystemExit("bench: %s is not built (run make first)"
                             % self.presgwd_bin)
        if shutil.which(self.sipp) is None:
            raise SystemExit("bench: sipp not found (Debian: apt-get "
                             "install sip-tester)")
        self.work = tempfile.mkdtemp(prefix="presgw-bench.")
        self.secret = "bench-secret-%d" % os.getpid()
        self.secret_file = os.path.join(self.work, "client-secret")
        with open(self.secret_file, "w") as f:
            f.write(self.secret + "\n")
        os.chmod(self.secret_file, 0o600)
        with open(os.path.join(self.work, "users.csv"), "w") as f:
            f.write("# SIP address of record, Entra object id, upn\n")
            for i in range(NUSERS):
                f.write("sip:%s@%s, %s, %s@contoso.example\n"
                        % (user_name(i), DOMAIN, user_id(i), user_name(i)))
        self.inf = os.path.join(self.work, "users-inf.csv")
        with open(self.inf, "w") as f:
            f.write("SEQUENTIAL\n")
            for i in range(NUSERS):
                f.write("%s;%s;\n" % (user_name(i), DOMAIN))
        self.sim = GraphSim(self.top, self.work, self.python, self.secret)

    # -- one sipp step ----------------------------------------------------

    def run_sipp(self, port, scenario, rate, tag):
        """One sipp run at rate for step_s seconds; its figures."""
        calls = rate * self.step_s
        base = free_block()
        stem = os.path.join(self.work, "sipp-%s" % tag)
        argv = [self.sipp, "127.0.0.1:%d" % port,
                "-sf", os.path.join(self.here, scenario + ".xml"),
                "-inf", self.inf, "-t", "u1",
                "-i", "127.0.0.1", "-bind_local", "-p", str(base),
                "-ci", "127.0.0.1", "-cp", str(base + 1),
                "-mi", "127.0.0.1", "-mp", str(base + 4),
                "-r", str(rate), "-m", str(calls), "-l", "5000",
                "-recv_timeout", "3000", "-buff_size", "4194304",
                "-default_behaviors", "all,-bye",
                "-timeout", "%ds" % (self.step_s + 20), "-nostdin",
                "-trace_stat", "-stf", stem + ".stat.csv", "-fd", "1",
                "-trace_err", "-error_file", stem + ".err",
                "-max_log_size", str(8 << 20)]
        out = open(stem + ".out", "wb")
        t0 = time.monotonic()
        p = PROCS.start(argv, stdout=out, stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL)
        # sipp stops itself (-m, -timeout); this only bounds a hang.
        limit = t0 + self.step_s + 40
        usage = None
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > limit:
                say("  note: sipp pid %d overran; stopping it" % p.pid)
                PROCS.stop(p)
                usage = None
                break
            time.sleep(0.05)
        if p in PROCS.live:
            PROCS.live.remove(p)
        wall = time.monotonic() - t0
        out.close()
        st = sipp_stat(stem + ".stat.csv")
        res = {
            "rate": rate, "wall": wall, "rc": p.returncode,
            "created": stat_int(st, "TotalCallCreated"),
            "ok": stat_int(st, "SuccessfulCall(C)"),
            "failed": stat_int(st, "FailedCall(C)"),
            "retrans": stat_int(st, "Retransmissions(C)"),
            "timeouts": stat_int(st, "FailedTimeoutOnRecv(C)") +
            stat_int(st, "FailedMaxUDPRetrans(C)"),
            "unexpected": stat_int(st, "FailedUnexpectedMessage(C)"),
            "sipp_cpu": (usage.ru_utime + usage.ru_stime) if usage else None,
            "errors": sipp_unexpected(stem + ".err"),
        }
        try:
            res["got_rate"] = float(st.get("CallRate(C)", "0") or 0)
        except ValueError:
            res["got_rate"] = 0.0
        if not st:
            res["failed"] = max(res["failed"], calls)
            res["note"] = "no sipp statistics; see " + stem + ".out"
        return res

    def ladder(self, target, label, scenario, rates, graph=False):
        """Runs rates upwards until a step has failures."""
        say("")
        say("== %s ==" % label)
        say("%6s %7s %7s %6s %7s %11s %6s %5s %6s %5s %8s%s"
            % ("rate", "got/s", "ok", "failed", "retrans", "drops s/all",
               "cpu%", "sipp%", "other%", "warn", "ms/cycle",
               "  graph/cycle" if graph else ""))
        steps = []
        for rate in rates:
            wait_idle(target.ticks)
            target.mark()
            if graph:
                self.sim.mark()
            drops0 = udp_rcvbuf_errors()
            sdrops0 = udp_port_drops(target.port)
            busy0 = cpu_busy_ticks()
            sim0 = proc_ticks(self.sim.proc.pid)
            c0 = target.ticks()
            t0 = time.monotonic()
            res = self.run_sipp(target.port, scenario, rate,
                                "%s-%d" % (label.split()[0].lower()
                                           .replace("/", "-"), rate)
                                + ("-graph" if graph else "")
                                + ("-kam" if isinstance(target, Kamailio)
                                   else ""))
            if graph:
                self.drain_graph(target)
            c1 = target.ticks()
            wall = time.monotonic() - t0
            res["drops"] = udp_rcvbuf_errors() - drops0
            res["drops_server"] = udp_port_drops(target.port) - sdrops0
            cpu_s = (c1 - c0) / CLK_TCK
            res["cpu_s"] = cpu_s
            # What the rest of the machine did meanwhile: neither the
            # target, nor sipp, nor the simulator.
            other = (cpu_busy_ticks() - busy0 - (c1 - c0) -
                     (proc_ticks(self.sim.proc.pid) - sim0)) / CLK_TCK
            if res.get("sipp_cpu") is not None:
                other -= res["sipp_cpu"]
            res["other_pct"] = max(0.0, 100.0 * other / wall) if wall else 0
            res["sim_pct"] = 100.0 * (proc_ticks(self.sim.proc.pid) -
                                      sim0) / CLK_TCK / wall if wall else 0
            res["cpu_pct"] = 100.0 * cpu_s / wall if wall > 0 else 0.0
            res["ms_per_cycle"] = (1000.0 * cpu_s / res["ok"]
                                   if res["ok"] else None)
            res["sipp_pct"] = (100.0 * res["sipp_cpu"] / res["wall"]
                               if res.get("sipp_cpu") is not None else None)
            comp = target.complaints()
            res["complaints"] = len(comp)
            if comp:
                self.results["complaints"].append(
                    {"where": "%s at %d/s" % (label, rate), "lines": comp})
            if graph:
                w, bad, polls = self.sim.writes_since_mark()
                res["graph_writes"] = w
                res["graph_bad"] = bad
                res["graph_per_cycle"] = w / res["ok"] if res["ok"] else None
            res["target"] = "kamailio" if isinstance(target, Kamailio) \
                else "presgw"
            res["bench"] = label
            steps.append(res)
            self.results["steps"].append(res)
            say("%6d %7.0f %7d %6d %7d %11s %6.1f %5s %6.0f %5d %8s%s"
                % (rate, res["got_rate"], res["ok"], res["failed"],
                   res["retrans"],
                   "%d/%d" % (res["drops_server"], res["drops"]),
                   res["cpu_pct"],
                   "%.0f" % res["sipp_pct"] if res["sipp_pct"] is not None
                   else "-", res["other_pct"], res["complaints"],
                   "%.3f" % res["ms_per_cycle"]
                   if res["ms_per_cycle"] is not None else "-",
                   ("  %.2f (%d non-2xx)" % (res["graph_per_cycle"],
                                              res["graph_bad"])
                    if graph and res["graph_per_cycle"] is not None
                    else "")))
            if res["errors"]:
                say("       unexpected messages at sipp: " + ", ".join(
                    "%s x%d" % kv for kv in sorted(res["errors"].items())))
            if res.get("note"):
                say("       " + res["note"])
            if target.proc.poll() is not None:
                note = ("%s exited during %s at %d/s (status %s); see %s"
                        % (res["target"], label, rate,
                           target.proc.returncode, target.log))
                say("       " + note)
                if hasattr(target, "tail"):
                    for line in target.tail(10).splitlines():
                        say("       | " + line)
                self.results["notes"].append(note)
                res["failed"] = max(res["failed"], 1)
                break
            if res["failed"] > 0:
                break
        clean = [s["rate"] for s in steps if s["failed"] == 0]
        best = max(clean) if clean else 0
        smooth = [s["rate"] for s in steps
                  if s["failed"] == 0 and s["retrans"] == 0]
        say("highest clean rate: %s cycles/s (without a retransmission: "
            "%s)" % (best or "none", max(smooth) if smooth else "none"))
        return steps, best

    def drain_graph(self, target, quiet=1.0, limit=30.0):
        """Waits until the simulator has seen no new request for quiet
        seconds: presgwd's write queue is empty."""
        end = time.monotonic() + limit
        last = -1
        still = time.monotonic()
        while time.monotonic() < end:
            try:
                size = os.path.getsize(self.sim.log)
            except OSError:
                size = 0
            if size != last:
                last = size
                still = time.monotonic()
            elif time.monotonic() - still >= quiet:
                return
            time.sleep(0.1)
        say("  note: Graph writes still coming after %.0f s" % limit)

    # -- the parts --------------------------------------------------------

    def cycles_presgwd(self, pg, n):
        """pg while it runs, else a fresh presgwd for the next ladder."""
        if pg is not None and pg.proc.poll() is None:
            return pg
        pg = Presgwd(self.presgwd_bin, self.work, self.sim,
                     self.secret_file, "presgwd-cycles%s" % (n or ""), 0,
                     self.level)
        say("presgwd pid %d on 127.0.0.1:%d, %d users, poll off, log %s"
            % (pg.pid, pg.port, NUSERS, self.level))
        return pg

    def cycles(self):
        out = {}
        pg = self.cycles_presgwd(None, 0)
        try:
            if "pub" in self.parts:
                out["pub"] = self.ladder(
                    pg, "PUBLISH cycle, idle body (presgw)",
                    "pub-cycle-idle",
                    env_list("BENCH_PUB_RATES",
                             [500, 1000, 2000, 3000, 4000, 5000, 6000,
                              7500]),
                    graph=True)
            if "call" in self.parts:
                pg = self.cycles_presgwd(pg, 1)
                out["call"] = self.ladder(
                    pg, "PUBLISH cycle, call body (presgw)",
                    "pub-cycle-call",
                    env_list("BENCH_CALL_RATES", [100, 250, 500, 1000]),
                    graph=True)
            if "sub" in self.parts:
                pg = self.cycles_presgwd(pg, 2)
                out["sub"] = self.ladder(
                    pg, "SUBSCRIBE cycle (presgw)", "sub-cycle",
                    env_list("BENCH_SUB_RATES",
                             [500, 1000, 2000, 3000, 4000, 5000, 6000,
                              7000]))
        finally:
            rc = pg.stop()
            if rc not in (0, None):
                self.results["notes"].append(
                    "presgwd (cycles) exited with status %s" % rc)
        return out

    def kamailio_cycles(self):
        out = {}
        cfg = os.path.join(self.here, "kamailio.cfg")
        try:
            kam = Kamailio(self.kamailio, cfg, self.work)
        except RuntimeError as err:
            say("")
            say("Kamailio could not start (%s); its part is skipped." % err)
            self.results["notes"].append("kamailio did not start: %s" % err)
            return None
        say("")
        say("kamailio pid %d on 127.0.0.1:%d (presence, memory only)"
            % (kam.pid, kam.port))
        try:
            if "pub" in self.parts:
                out["pub"] = self.ladder(
                    kam, "PUBLISH cycle, idle body (Kamailio)",
                    "pub-cycle-idle",
                    env_list("BENCH_KAM_PUB_RATES",
                             env_list("BENCH_PUB_RATES",
                                      [500, 1000, 2000, 3000, 4000, 5000,
                                       6000, 7500])))
            if "sub" in self.parts:
                out["sub"] = self.ladder(
                    kam, "SUBSCRIBE cycle (Kamailio)", "sub-cycle",
                    env_list("BENCH_KAM_SUB_RATES",
                             env_list("BENCH_SUB_RATES",
                                      [500, 1000, 2000, 3000, 4000, 5000,
                                       6000, 7000])))
        finally:
            kam.stop()
        return out

    def fanout(self):
        sizes = env_list("BENCH_WATCHERS", [1, 100, 1000, 10000])
        say("")
        say("== Teams change fan-out (presgw, poll_interval 1) ==")
        say("%6s %10s %10s %9s %8s %9s %9s %10s %6s"
            % ("W", "RSS before", "RSS after", "B/sub", "sub s",
               "first ms", "last ms", "change ms", "drops"))
        rows = []
        for w in sizes:
            row = self.fanout_one(w)
            rows.append(row)
            self.results["fanout"].append(row)
            say("%6d %10s %10s %9s %8s %9s %9s %10s %6s"
                % (w, kib(row.get("rss0")), kib(row.get("rss1")),
                   "%.0f" % row["bytes_per_sub"]
                   if row.get("bytes_per_sub") is not None else "-",
                   "%.2f" % row["sub_seconds"]
                   if row.get("sub_seconds") is not None else "-",
                   ms(row.get("first_ms")), ms(row.get("last_ms")),
                   ms(row.get("change_ms")), row.get("drops", "-")))
            for note in row.get("notes", []):
                say("       " + note)
        return rows

    def fanout_one(self, w):
        row = {"watchers": w, "notes": []}
        who = 0   # u000
        self.sim.client(who, "Available", "Available")
        # The fan-out is timed from an info line.
        level = "debug" if self.level == "debug" else "info"
        pg = Presgwd(self.presgwd_bin, self.work, self.sim,
                     self.secret_file, "presgwd-fanout-%d" % w, 1,
                     level, tap=True)
        kids = []
        try:
            aor = "%s@%s" % (user_name(who), DOMAIN)
            # The first poll has to be in, so the watchers start from
            # "available" and only the change below is news.
            end = time.monotonic() + 15
            while pg.tap.find(r"graph poll-done") is None:
                if time.monotonic() > end:
                    row["notes"].append("no poll-done within 15 s")
                    return row
                time.sleep(0.05)
            time.sleep(0.5)
            row["rss0"] = vm_rss(pg.pid)
            wp, reader, ready = self.watchers(pg, aor, w, kids)
            if ready is None:
                row["notes"].append("watchers did not get ready")
                return row
            t_ready = time.monotonic()
            row["sub_seconds"] = ready["seconds"]
            row["subscribed"] = ready["subscribed"]
            if ready["refused"] or ready["lost"]:
                row["notes"].append(
                    "subscriptions refused %d, lost %d"
                    % (ready["refused"], ready["lost"]))
            wait_idle(pg.ticks, quiet=0.3, limit=5)
            row["rss1"] = vm_rss(pg.pid)
            if ready["subscribed"] >= 100:
                row["bytes_per_sub"] = (row["rss1"] - row["rss0"]) / \
                    ready["subscribed"]
            wp.stdin.write("arm on-the-phone\n")
            wp.stdin.flush()
            reader.expect("armed", 10)
            start_line = pg.tap.count()
            drops0 = udp_rcvbuf_errors()
            pdrops0 = udp_port_drops(pg.port)
            t_change = time.time()
            self.sim.client(who, "Busy", "InACall")
            fan = reader.expect("fanout", 20)
            if fan is None:
                wp.stdin.write("report\n")
                wp.stdin.flush()
                fan = reader.expect("fanout", 5)
                row["notes"].append("not every watcher was told in 20 s")
            row["drops"] = udp_rcvbuf_errors() - drops0
            row["drops_presgwd"] = udp_port_drops(pg.port) - pdrops0
            row["drops_watchers"] = udp_port_drops(reader.port)
            hit = pg.tap.find(r"pa teams user=%s availability=Busy"
                              % re.escape(aor), start_line)
            if fan is None or hit is None or fan.get("last") is None:
                row["notes"].append("no fan-out seen (log line %s)"
                                    % ("found" if hit else "missing"))
                return row
            t_log = hit[0]
            row["told"] = fan["got"]
            row["first_ms"] = 1000.0 * (fan["first"] - t_log)
            row["last_ms"] = 1000.0 * (fan["last"] - t_log)
            row["change_ms"] = 1000.0 * (fan["last"] - t_change)
            if fan["got"] < ready["subscribed"]:
                row["notes"].append("only %d of %d watchers told"
                                    % (fan["got"], ready["subscribed"]))
            if row["drops"]:
                row["notes"].append(
                    "%d datagrams dropped during the fan-out (%d at "
                    "presgwd's socket, %d at the watchers'); a dropped "
                    "NOTIFY or 200 costs a 500 ms retransmission"
                    % (row["drops"], row["drops_presgwd"],
                       row["drops_watchers"]))
            for wp_, reader_ in kids:
                wp_.stdin.write("unsubscribe\n")
                wp_.stdin.flush()
            for wp_, reader_ in kids:
                done = reader_.expect("unsubscribed", 60)
                if done is None or done["ended"] < ready["subscribed"]:
                    row["notes"].append("un-SUBSCRIBE: %s"
                                        % (done or "no answer"))
        finally:
            for wp_, _ in kids:
                try:
                    wp_.stdin.write("quit\n")
                    wp_.stdin.flush()
                except (OSError, ValueError):
                    pass
                PROCS.stop(wp_, wait=5)
            rc = pg.stop()
            comp = [l for t, l in pg.tap.seen
                    if l.split(" ", 2)[1:2] in (["warn"], ["error"])]
            if comp:
                self.results["complaints"].append(
                    {"where": "fan-out W=%d" % w,
                     "lines": [c.rstrip("\n") for c in comp]})
                row["notes"].append("presgwd logged %d warn/error lines"
                                    % len(comp))
            if rc not in (0, None):
                row["notes"].append("presgwd exited with status %s" % rc)
        return row

    def watchers(self, pg, aor, w, kids, deadline=240):
        """Starts watchers.py for w subscriptions; (process, reader,
        its "ready" report or None).  It exits by itself after deadline
        seconds."""
        wp = PROCS.start(
            [self.python, os.path.join(self.here, "watchers.py"),
             "--server", "127.0.0.1:%d" % pg.port, "--user", aor,
             "--count", str(w), "--deadline", str(deadline)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        reader = LineReader(wp.stdout)
        kids.append((wp, reader))
        port = reader.expect("port", 10)
        reader.port = port["port"] if port else 0
        return wp, reader, reader.expect("ready", 120)

    def memory_start(self):
        """Opens W subscriptions on a presgwd of their own; the second
        half of the measurement (memory_finish) comes 35 s later, after
        other parts have run."""
        w = int(os.environ.get("BENCH_MEM_WATCHERS") or 10000)
        mem = {"watchers": w, "notes": [], "kids": []}
        say("")
        say("memory: %d subscriptions opened now, %d more after %d s "
            "(other parts run meanwhile)" % (w, w, MEM_SETTLE))
        self.sim.client(0, "Available", "Available")
        pg = Presgwd(self.presgwd_bin, self.work, self.sim,
                     self.secret_file, "presgwd-memory", 0, self.level)
        mem["pg"] = pg
        aor = "%s@%s" % (user_name(0), DOMAIN)
        time.sleep(0.5)
        mem["rss0"] = vm_rss(pg.pid)
        _, _, ready = self.watchers(pg, aor, w, mem["kids"], 900)
        mem["t_ready"] = time.monotonic()
        if ready is None or ready["subscribed"] < w:
            mem["notes"].append("first batch: %s" % (ready or "no answer"))
        if ready is not None:
            wait_idle(pg.ticks, quiet=0.3, limit=5)
            mem["rss1"] = vm_rss(pg.pid)
            mem["first"] = ready["subscribed"]
        return mem

    def memory_finish(self, mem):
        pg = mem["pg"]
        aor = "%s@%s" % (user_name(0), DOMAIN)
        try:
            if "rss1" not in mem:
                return mem
            left = mem["t_ready"] + MEM_SETTLE - time.monotonic()
            if left > 0:
                time.sleep(left)
            mem["rss_a"] = vm_rss(pg.pid)
            _, _, ready = self.watchers(pg, aor, mem["watchers"],
                                        mem["kids"])
            if ready is None or ready["subscribed"] < 100:
                mem["notes"].append("second batch: %s"
                                    % (ready or "no answer"))
                return mem
            wait_idle(pg.ticks, quiet=0.3, limit=5)
            mem["rss_b"] = vm_rss(pg.pid)
            mem["second"] = ready["subscribed"]
            mem["bytes_first"] = (mem["rss1"] - mem["rss0"]) / mem["first"]
            mem["bytes_settled"] = (mem["rss_b"] - mem["rss_a"]) / \
                ready["subscribed"]
            for wp, reader in mem["kids"]:
                wp.stdin.write("unsubscribe\n")
                wp.stdin.flush()
            for wp, reader in mem["kids"]:
                if reader.expect("unsubscribed", 60) is None:
                    mem["notes"].append("un-SUBSCRIBE did not finish")
        finally:
            for wp, _ in mem["kids"]:
                try:
                    wp.stdin.write("quit\n")
                    wp.stdin.flush()
                except (OSError, ValueError):
                    pass
                PROCS.stop(wp, wait=5)
            pg.log_pos = 0
            comp = pg.complaints()
            if comp:
                self.results["complaints"].append(
                    {"where": "memory probe", "lines": comp})
            pg.stop()
            for key in ("pg", "kids"):
                mem.pop(key, None)
            self.memory_report(mem)
        return mem

    def memory_report(self, mem):
        say("")
        say("== Memory per subscription (presgw, %d + %d watchers) =="
            % (mem["watchers"], mem["watchers"]))
        say("  RSS at start %s; after the first %d subscriptions %s; "
            "%d s later %s;" % (kib(mem.get("rss0")), mem["watchers"],
                                kib(mem.get("rss1")), MEM_SETTLE,
                                kib(mem.get("rss_a"))))
        say("  after %d more %s" % (mem["watchers"], kib(mem.get("rss_b"))))
        if mem.get("bytes_first") is not None:
            say("  first batch %.0f bytes/subscription (with the SIP "
                "transactions still held)" % mem["bytes_first"])
            say("  second batch %.0f bytes/subscription (settled: freed "
                "transaction memory reused)" % mem["bytes_settled"])
        for note in mem["notes"]:
            say("       " + note)

    # -- the end ----------------------------------------------------------

    def summary(self, cyc, kam, fan, mem, hook=None):
        say("")
        say("=" * 78)
        say("presgw bench summary (targets: DESIGN.md section 8)")
        say("=" * 78)
        say("%-44s %14s  %s" % ("figure", "measured", "target"))
        say("-" * 78)

        def line(name, value, target):
            say("%-44s %14s  %s" % (name, value, target))

        def smooth(steps):
            r = [s["rate"] for s in steps
                 if s["failed"] == 0 and s["retrans"] == 0]
            return str(max(r)) if r else "none"

        def med_ms(steps):
            vals = [s["ms_per_cycle"] for s in steps
                    if s["failed"] == 0 and s["ms_per_cycle"] is not None]
            return statistics.median(vals) if vals else None

        pub = cyc.get("pub")
        if pub:
            line("PUBLISH cycles/s, idle body (clean)", str(pub[1]),
                 ">= %d (1.5 x Kamailio %d)" % (PUB_TARGET, KAM_PUB_REF))
            line("  without a retransmission", smooth(pub[0]), "")
            m = med_ms(pub[0])
            line("  presgwd CPU ms/cycle (median, clean)",
                 "%.3f" % m if m is not None else "-",
                 "half of Kamailio's")
            g = [s["graph_per_cycle"] for s in pub[0]
                 if s.get("graph_per_cycle") is not None]
            line("  Graph writes/cycle", "%.2f" % max(g) if g else "-", "0")
        call = cyc.get("call")
        if call:
            line("PUBLISH cycles/s, call body (clean)", str(call[1]),
                 "- (writes/cycle is the figure)")
            m = med_ms(call[0])
            line("  presgwd CPU ms/cycle (median, clean)",
                 "%.3f" % m if m is not None else "-", "-")
            g = [s["graph_per_cycle"] for s in call[0]
                 if s.get("graph_per_cycle") is not None
                 and s["failed"] == 0]
            line("  Graph writes/cycle (clean steps)",
                 " ".join("%.2f" % x for x in g) if g else "-",
                 "2 (call start + call end)")
        sub = cyc.get("sub")
        if sub:
            line("SUBSCRIBE cycles/s (clean)", str(sub[1]),
                 ">= %d-%d (1.5 x Kamailio %d-%d)"
                 % ((SUB_TARGET, SUB_TARGET_HI) + KAM_SUB_REF))
            line("  without a retransmission", smooth(sub[0]), "")
            m = med_ms(sub[0])
            line("  presgwd CPU ms/cycle (median, clean)",
                 "%.3f" % m if m is not None else "-",
                 "half of Kamailio's")
        for row in fan or []:
            w = row["watchers"]
            line("fan-out to %d watcher%s, ms to last NOTIFY"
                 % (w, "" if w == 1 else "s"), ms(row.get("last_ms")),
                 "< %d at 10,000" % FANOUT_TARGET_MS)
        for row in hook or []:
            w = row["watchers"]
            line("webhook, W=%d: ms from change to last NOTIFY" % w,
                 ms(row.get("last_med")), "- (median; sim adds ~50)")
        for row in [r for r in fan or []
                    if r.get("bytes_per_sub") is not None]:
            line("RSS per subscription at W=%d, bytes"
                 % row["watchers"], "%.0f" % row["bytes_per_sub"],
                 "<= %d" % MEM_TARGET)
        if mem and mem.get("bytes_settled") is not None:
            line("RSS per subscription, %d more after %d s"
                 % (mem["watchers"], MEM_SETTLE),
                 "%.0f" % mem["bytes_settled"], "<= %d" % MEM_TARGET)
        if kam is None:
            line("Kamailio comparison", "skipped", "")
        else:
            for key, name in (("pub", "PUBLISH"), ("sub", "SUBSCRIBE")):
                if key not in kam or key not in cyc:
                    continue
                ours, theirs = cyc[key], kam[key]
                line("Kamailio %s cycles/s (clean)" % name, str(theirs[1]),
                     "ref. %s" % (KAM_PUB_REF if key == "pub" else
                                  "%d-%d" % KAM_SUB_REF))
                line("  without a retransmission", smooth(theirs[0]), "")
                if theirs[1]:
                    line("  presgw/Kamailio rate", "%.2f"
                         % (ours[1] / theirs[1]), ">= 1.5")
                ratio = cpu_ratio(ours[0], theirs[0])
                line("  presgw/Kamailio CPU per cycle",
                     "%.2f" % ratio if ratio is not None else "-",
                     "<= 0.5 (median over rates clean on both)")
        say("-" * 78)
        say("CPU is utime+stime from /proc (100 Hz ticks), sipp shares "
            "the same cores;")
        say("read rates as the highest step with no failed call, not as "
            "a maximum.")
        busy = [s for s in self.results["steps"] if s["other_pct"] >= 25]
        if busy:
            say("The machine was busy with other work (other%% >= 25) "
                "during %d of %d steps" % (len(busy),
                                           len(self.results["steps"])))
            say("(up to %.0f%% of a core): those figures are low; run "
                "the bench on a quiet machine." %
                max(s["other_pct"] for s in busy))
        if self.results["complaints"]:
            say("")
            say("warn and error lines logged (distinct messages, counted):")
            for c in self.results["complaints"]:
                groups = group_lines(c["lines"])
                say("  %s: %d line(s)" % (c["where"], len(c["lines"])))
                for text, (count, example) in groups[:6]:
                    say("    %6d x %s" % (count, example[:150]))
                if len(groups) > 6:
                    say("    ... and %d other messages" % (len(groups) - 6))
        for note in self.results["notes"]:
            say("note: " + note)

    def run(self):
        t0 = time.monotonic()
        self.setup()
        say("presgw bench: scratch %s, %d s per step, %d cores"
            % (self.work, self.step_s, os.cpu_count() or 0))
        flags = os.environ.get("BENCH_CFLAGS")
        if flags is not None:
            say("presgwd built with: %s" % (" ".join(flags.split()) or
                                            "(no CFLAGS)"))
            if "-fsanitize" in flags or "-O2" not in flags.split():
                note = ("presgwd is not a plain -O2 build (%s): its "
                        "figures are not comparable" % " ".join(
                            f for f in flags.split()
                            if f.startswith(("-O", "-fsanitize"))))
                say("WARNING: " + note)
                self.results["notes"].append(note)
        cyc, kam, fan, mem, hook = {}, None, None, None, None
        if self.parts & {"pub", "call", "sub"}:
            cyc = self.cycles()
        if "memory" in self.parts:
            mem = self.memory_start()
        if "fanout" in self.parts:
            fan = self.fanout()
        if "webhook" in self.parts:
            hook = webhook.WebhookPart(self, sys.modules[__name__]).run()
        if "kamailio" in self.parts:
            if os.environ.get("BENCH_KAMAILIO", "").lower() in ("no", "0"):
                say("")
                say("Kamailio comparison skipped (BENCH_KAMAILIO=%s)."
                    % os.environ["BENCH_KAMAILIO"])
            elif not os.access(self.kamailio, os.X_OK):
                say("")
                say("Kamailio comparison skipped: kamailio not installed "
                    "(Debian: apt-get install kamailio "
                    "kamailio-presence-modules).")
            else:
                kam = self.kamailio_cycles()
        if mem is not None:
            mem = self.memory_finish(mem)
        self.summary(cyc, kam, fan, mem, hook)
        say("bench took %.0f s" % (time.monotonic() - t0))
        if os.environ.get("BENCH_JSON"):
            with open(os.environ["BENCH_JSON"], "w") as f:
                json.dump({"cycles": {k: v[0] for k, v in cyc.items()
                                      if isinstance(v, tuple)},
                           "kamailio": {k: v[0] for k, v in
                                        (kam or {}).items()},
                           "fanout": fan, "webhook": hook,
                           "memory": mem,
                           "notes": self.results["notes"],
                           "complaints": [
                               {"where": c["where"],
                                "count": len(c["lines"]),
                                "messages": [list(v) for _, v in
                                             group_lines(c["lines"])]}
                               for c in self.results["complaints"]]},
                          f, indent=1)

    def cleanup(self):
        PROCS.stop_all()
        if self.work and os.path.isdir(self.work):
            if os.environ.get("BENCH_KEEP"):
                say("kept " + self.work)
            else:
                shutil.rmtree(self.work, ignore_errors=True)


class LineReader:
    """JSON lines from a child, with a time limit per wait."""

    def __init__(self, stream):
        self.port = 0
        self.lines = []
        self.cond = threading.Condition()
        self.t = threading.Thread(target=self.pump, args=(stream,),
                                  daemon=True)
        self.t.start()

    def pump(self, stream):
        for line in stream:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                self.lines.append(obj)
                self.cond.notify_all()
        with self.cond:
            self.lines.append({"event": "eof"})
            self.cond.notify_all()

    def expect(self, event, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, obj in enumerate(self.lines):
                    if obj.get("event") == event:
                        del self.lines[:i + 1]
                        return obj
                    if obj.get("event") == "eof":
                        return None
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


def cpu_ratio(ours, theirs):
    """Median over rates clean on both of presgw's CPU per cycle divided
    by Kamailio's."""
    k = {s["rate"]: s["ms_per_cycle"] for s in theirs
         if s["failed"] == 0 and s["ms_per_cycle"]}
    r = [s["ms_per_cycle"] / k[s["rate"]] for s in ours
         if s["failed"] == 0 and s["ms_per_cycle"] and s["rate"] in k]
    return statistics.median(r) if r else None


def group_lines(lines):
    """[(key, (count, first line))], most frequent first: log lines told
    apart by their text without time stamps, process ids and numbers."""
    groups = {}
    for line in lines:
        text = re.sub(r"^\S+ (warn|error) ", "", line.strip())
        text = re.sub(r"^\s*\d+\(\d+\) ", "", text)
        key = re.sub(r"\d+", "N", text)
        count, example = groups.get(key, (0, text))
        groups[key] = (count + 1, example)
    return sorted(groups.items(), key=lambda kv: -kv[1][0])


def kib(v):
    return "%d KiB" % (v // 1024) if v else "-"


def ms(v):
    """Milliseconds for the fan-out table; below 1 ms the log line's trip
    through the pipe is as long as the NOTIFY's, so only "<1" is told."""
    if v is None:
        return "-"
    return "<1" if v < 1.0 else "%.1f" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--srcdir", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--builddir", default=os.getcwd())
    args = ap.parse_args()
    bench = Bench(args)

    def on_signal(signum, _frame):
        raise SystemExit("bench: stopped by signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        bench.run()
    except KeyboardInterrupt:
        say("bench: interrupted")
        return 130
    finally:
        bench.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
