"""Self-test of the Graph simulator.

Run from the repository root:
    python3 -m unittest tests/graphsim/test_graphsim.py

Each test class starts graphsim.py on a free loopback port and talks to it
with http.client (not urllib, so no proxy from the environment applies).
"""

import base64
import http.client
import importlib
import email.utils
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "graphsim.py")

TENANT = "0d9b1a5e-7c1f-4f54-9a0b-3c2e4d5f6a7b"
CLIENT_ID = "22553876-f5ab-4529-bffb-cfe50aa89f87"
SECRET = "not-a-real-secret~value"
SCOPE = "https://graph.microsoft.com/.default"
ALICE = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3"
BOB = "66825e03-7ef5-42da-9069-724602c31f6b"
TIMEOUT = 10


class Sim:
    """A graphsim process on port 0 and a small HTTP client for it."""

    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="graphsim-test-")
        users = os.path.join(self.dir, "users.csv")
        with open(users, "w") as f:
            f.write("# object id, upn\n%s,alice@example.test\n\n"
                    "%s,bob@example.test  # trailing comment\n"
                    % (ALICE, BOB))
        self.log = os.path.join(self.dir, "requests.jsonl")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            [sys.executable, SIM, "--port", "0", "--port-file", port_file,
             "--tenant", TENANT, "--client-id", CLIENT_ID,
             "--client-secret", SECRET, "--users", users,
             "--log", self.log] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("graphsim listening port="):
            self.proc.kill()
            raise RuntimeError("graphsim did not start: %r %s"
                               % (line, self.proc.stderr.read()))
        self.port = int(line.strip().split("=", 1)[1])
        with open(port_file) as f:
            assert int(f.read()) == self.port

    def stop(self):
        """SIGTERM, then the exit status (killed after TIMEOUT)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def request(self, method, path, body=None, token=None, form=None,
                headers=None, raw=None):
        """(status, headers dict with lower-case names, JSON or None)."""
        hdrs = dict(headers or {})
        data = raw
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=TIMEOUT)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            rh = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        return resp.status, rh, json.loads(payload) if payload else None

    def token_form(self, **override):
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                "client_secret": SECRET, "scope": SCOPE}
        form.update(override)
        return {k: v for k, v in form.items() if v is not None}

    def token(self):
        status, _, body = self.request("POST", "/%s/oauth2/v2.0/token"
                                       % TENANT, form=self.token_form())
        assert status == 200, body
        return body["access_token"]

    def ctl(self, method, path, body=None):
        status, _, result = self.request(method, "/_sim" + path, body)
        assert status in (200, 201), (path, status, result)
        return result


class SimTestCase(unittest.TestCase):
    """One simulator for the class, reset before each test."""

    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(*cls.extra_args)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.ctl("POST", "/reset")
        self.tok = self.sim.token()

    def advance(self, seconds):
        """Move the simulator clock; fetch a new token, as a client would
        once the old one has expired."""
        self.sim.ctl("POST", "/clock", {"advance": seconds})
        self.tok = self.sim.token()

    # Graph calls as the app.

    def graph(self, method, path, body=None, token=None):
        return self.sim.request(method, "/v1.0" + path, body,
                                token=token or self.tok)

    def set_presence(self, uid, availability, activity, duration=None,
                     session=CLIENT_ID):
        body = {"sessionId": session, "availability": availability,
                "activity": activity}
        if duration is not None:
            body["expirationDuration"] = duration
        return self.graph("POST", "/users/%s/presence/setPresence" % uid,
                          body)

    def set_preferred(self, uid, availability, activity, duration=None):
        body = {"availability": availability, "activity": activity}
        if duration is not None:
            body["expirationDuration"] = duration
        return self.graph("POST", "/users/%s/presence/"
                          "setUserPreferredPresence" % uid, body)

    def presence(self, uid):
        status, _, body = self.graph("GET", "/users/%s/presence" % uid)
        self.assertEqual(status, 200, body)
        return body

    def shown(self, uid):
        body = self.presence(uid)
        return body["availability"], body["activity"]

    def assertGraphError(self, result, status, code):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertIn("request-id", body["error"]["innerError"])


class TokenTest(SimTestCase):

    def post_token(self, form, tenant=TENANT, headers=None):
        return self.sim.request("POST", "/%s/oauth2/v2.0/token" % tenant,
                                form=form, headers=headers)

    def assertAadError(self, result, status, error, code):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"], error)
        self.assertEqual(body["error_codes"], [code])
        self.assertTrue(body["error_description"]
                        .startswith("AADSTS%d:" % code))
        for key in ("timestamp", "trace_id", "correlation_id"):
            self.assertIn(key, body)

    def test_token_ok(self):
        status, headers, body = self.post_token(self.sim.token_form())
        self.assertEqual(status, 200)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3599)
        self.assertEqual(body["ext_expires_in"], 3599)
        self.assertGreater(len(body["access_token"]), 20)
        self.assertEqual(headers["cache-control"], "no-store")

    def test_token_http_basic(self):
        cred = "%s:%s" % (CLIENT_ID, SECRET)
        auth = "Basic " + base64.b64encode(cred.encode()).decode()
        form = {"grant_type": "client_credentials", "scope": SCOPE}
        status, _, body = self.post_token(form,
                                          headers={"Authorization": auth})
        self.assertEqual(status, 200, body)

    def test_token_errors(self):
        form = self.sim.token_form
        cases = [
            (form(client_secret="wrong"), TENANT,
             401, "invalid_client", 7000215),
            (form(client_secret=None), TENANT,
             401, "invalid_client", 7000218),
            (form(), "other-tenant", 400, "invalid_request", 90002),
            (form(client_id="someone-else"), TENANT,
             400, "unauthorized_client", 700016),
            (form(scope="https://graph.microsoft.com/Presence.Read.All"),
             TENANT, 400, "invalid_scope", 70011),
            (form(grant_type="password"), TENANT,
             400, "unsupported_grant_type", 70003),
            (form(grant_type=None), TENANT, 400, "invalid_request", 900144),
            (form(scope=None), TENANT, 400, "invalid_request", 900144),
        ]
        for data, tenant, status, error, code in cases:
            with self.subTest(error=error, code=code):
                self.assertAadError(self.post_token(data, tenant),
                                    status, error, code)


class AuthTest(SimTestCase):

    def test_no_token(self):
        result = self.sim.request("GET", "/v1.0/users/%s/presence" % ALICE)
        self.assertGraphError(result, 401, "InvalidAuthenticationToken")
        self.assertIn("www-authenticate", result[1])

    def test_unknown_token(self):
        self.assertGraphError(self.graph("GET", "/users/%s/presence" % ALICE,
                                         token="forged"),
                              401, "InvalidAuthenticationToken")

    def test_token_expires_with_clock(self):
        token = self.sim.token()
        self.assertEqual(self.graph("GET", "/users/%s/presence" % ALICE,
                                    token=token)[0], 200)
        self.sim.ctl("POST", "/clock", {"advance": 3600})
        result = self.graph("GET", "/users/%s/presence" % ALICE, token=token)
        self.assertGraphError(result, 401, "InvalidAuthenticationToken")
        self.assertIn("expired", result[2]["error"]["message"])


class DateHeaderTest(SimTestCase):

    def test_date_header_follows_the_clock(self):
        def date():
            headers = self.sim.request("GET", "/_sim/health")[1]
            return email.utils.parsedate_to_datetime(
                headers["date"]).timestamp()

        before = date()
        self.sim.ctl("POST", "/clock", {"advance": 7200})
        after = date()
        self.assertGreaterEqual(after - before, 7200 - 5)
        self.assertLess(after - before, 7200 + 60)


class ValidationTest(SimTestCase):

    SET_VALID = [("Available", "Available"), ("Busy", "InACall"),
                 ("Busy", "InAConferenceCall"), ("Away", "Away"),
                 ("DoNotDisturb", "Presenting")]
    SET_INVALID = [("Busy", "Busy"), ("Available", "InACall"),
                   ("DoNotDisturb", "DoNotDisturb"), ("Offline", "OffWork"),
                   ("BeRightBack", "BeRightBack"), ("busy", "inacall"),
                   ("Busy", "InAMeeting")]
    PREFERRED_VALID = [("Available", "Available"), ("Busy", "Busy"),
                       ("DoNotDisturb", "DoNotDisturb"),
                       ("BeRightBack", "BeRightBack"), ("Away", "Away"),
                       ("Offline", "OffWork")]
    PREFERRED_INVALID = [("Busy", "InACall"), ("DoNotDisturb", "Presenting"),
                         ("Offline", "Offline"), ("Available", "Busy"),
                         ("Away", "BeRightBack")]

    def test_set_presence_pairs(self):
        for pair in self.SET_VALID:
            with self.subTest(pair=pair):
                self.assertEqual(self.set_presence(ALICE, *pair)[0], 200)
        for pair in self.SET_INVALID:
            with self.subTest(pair=pair):
                self.assertGraphError(self.set_presence(ALICE, *pair),
                                      400, "BadRequest")

    def test_preferred_pairs(self):
        for pair in self.PREFERRED_VALID:
            with self.subTest(pair=pair):
                self.assertEqual(self.set_preferred(ALICE, *pair)[0], 200)
        for pair in self.PREFERRED_INVALID:
            with self.subTest(pair=pair):
                self.assertGraphError(self.set_preferred(ALICE, *pair),
                                      400, "BadRequest")

    def test_set_presence_duration_range(self):
        for ok in ("PT5M", "PT4H", "PT1H30M", "PT300S", "PT240M"):
            with self.subTest(duration=ok):
                self.assertEqual(self.set_presence(
                    ALICE, "Busy", "InACall", ok)[0], 200)
        for bad in ("PT4M59S", "PT4H1M", "P1D", "-PT10M", "PT", "P",
                    "5 minutes", "PT1W"):
            with self.subTest(duration=bad):
                self.assertGraphError(self.set_presence(
                    ALICE, "Busy", "InACall", bad), 400, "BadRequest")

    def test_set_presence_default_expiry(self):
        self.set_presence(ALICE, "Busy", "InACall")
        state = self.sim.ctl("GET", "/users/%s" % ALICE)
        left = state["sessions"][CLIENT_ID.lower()]["expires_in"]
        self.assertAlmostEqual(left, 300, delta=5)

    def test_preferred_default_expiry(self):
        cases = [("DoNotDisturb", "DoNotDisturb", None, 86400),
                 ("Busy", "Busy", None, 86400),
                 ("Away", "Away", None, 7 * 86400),
                 ("Offline", "OffWork", None, 7 * 86400),
                 ("DoNotDisturb", "DoNotDisturb", "PT8H", 8 * 3600)]
        for availability, activity, duration, seconds in cases:
            with self.subTest(availability=availability, duration=duration):
                self.assertEqual(self.set_preferred(
                    ALICE, availability, activity, duration)[0], 200)
                state = self.sim.ctl("GET", "/users/%s" % ALICE)
                self.assertAlmostEqual(state["preferred"]["expires_in"],
                                       seconds, delta=5)
        self.assertGraphError(self.set_preferred(ALICE, "Away", "Away",
                                                 "nonsense"),
                              400, "BadRequest")

    def test_session_id_rules(self):
        path = "/users/%s/presence/setPresence" % ALICE
        missing = {"availability": "Busy", "activity": "InACall"}
        self.assertGraphError(self.graph("POST", path, missing),
                              400, "BadRequest")
        self.assertGraphError(self.set_presence(
            ALICE, "Busy", "InACall", session="another-app"),
            400, "BadRequest")
        self.assertEqual(self.set_presence(
            ALICE, "Busy", "InACall", session=CLIENT_ID.upper())[0], 200)

    def test_bad_requests(self):
        path = "/users/%s/presence/setPresence" % ALICE
        self.assertGraphError(self.sim.request(
            "POST", "/v1.0" + path, raw=b"{not json", token=self.tok),
            400, "BadRequest")
        self.assertGraphError(self.graph("POST", path, ["a", "list"]),
                              400, "BadRequest")
        extra = {"sessionId": CLIENT_ID, "availability": "Busy",
                 "activity": "InACall", "colour": "red"}
        self.assertGraphError(self.graph("POST", path, extra),
                              400, "BadRequest")

    def test_unknown_user(self):
        unknown = "00000000-0000-0000-0000-000000000000"
        calls = [("GET", "/users/%s/presence" % unknown, None),
                 ("GET", "/communications/presences/%s" % unknown, None),
                 ("GET", "/users/alice@example.test/presence", None),
                 ("POST", "/users/%s/presence/clearUserPreferredPresence"
                  % unknown, {})]
        for method, path, body in calls:
            with self.subTest(path=path):
                self.assertGraphError(self.graph(method, path, body),
                                      404, "NotFound")
        self.assertGraphError(self.set_presence(unknown, "Busy", "InACall"),
                              404, "NotFound")

    def test_clear_presence(self):
        path = "/users/%s/presence/clearPresence" % ALICE
        body = {"sessionId": CLIENT_ID}
        self.assertGraphError(self.graph("POST", path, body),
                              404, "NotFound")
        self.set_presence(ALICE, "Busy", "InACall")
        status, _, result = self.graph("POST", path, body)
        self.assertEqual((status, result), (200, None))
        self.assertGraphError(self.graph("POST", path, body),
                              404, "NotFound")

    def test_clear_preferred(self):
        path = "/users/%s/presence/clearUserPreferredPresence" % ALICE
        self.assertEqual(self.graph("POST", path, {})[0], 200)
        self.set_preferred(ALICE, "DoNotDisturb", "DoNotDisturb")
        self.assertEqual(self.graph("POST", path, {})[0], 200)
        self.assertIsNone(self.sim.ctl("GET", "/users/%s" % ALICE)
                          ["preferred"])


class AggregationTest(SimTestCase):

    # (Teams client session, app session, preferred, expected aggregate)
    CASES = [
        (None, None, None, ("Offline", "Offline")),
        (None, None, ("DoNotDisturb", "DoNotDisturb"),
         ("Offline", "Offline")),
        (None, ("Away", "Away"), None, ("Away", "Away")),
        (("Available", "Available"), ("Away", "Away"), None,
         ("Available", "Available")),
        (("Available", "Available"), ("Busy", "InACall"), None,
         ("Busy", "InACall")),
        (("Busy", "InAMeeting"), ("Available", "Available"), None,
         ("Busy", "InAMeeting")),
        (("Busy", "InAMeeting"), ("DoNotDisturb", "Presenting"), None,
         ("DoNotDisturb", "Presenting")),
        (("DoNotDisturb", "Presenting"), ("Busy", "InACall"), None,
         ("DoNotDisturb", "Presenting")),
        (("Available", "Available"), ("Busy", "InACall"), ("Away", "Away"),
         ("Away", "Away")),
        (None, ("DoNotDisturb", "Presenting"), ("Available", "Available"),
         ("Available", "Available")),
        (("Available", "Available"), None, ("Offline", "OffWork"),
         ("Offline", "OffWork")),
    ]

    def test_precedence(self):
        for client, app, preferred, expected in self.CASES:
            with self.subTest(client=client, app=app, preferred=preferred):
                self.sim.ctl("POST", "/reset")
                if client:
                    self.sim.ctl("POST", "/users/%s/client" % ALICE,
                                 {"availability": client[0],
                                  "activity": client[1]})
                if app:
                    self.assertEqual(self.set_presence(ALICE, *app)[0], 200)
                if preferred:
                    self.assertEqual(
                        self.set_preferred(ALICE, *preferred)[0], 200)
                self.assertEqual(self.shown(ALICE), expected)
                state = self.sim.ctl("GET", "/users/%s" % ALICE)
                self.assertEqual(tuple(state["aggregate"].values()),
                                 expected)

    def test_clearing_preferred_restores_sessions(self):
        self.set_presence(ALICE, "Busy", "InACall")
        self.set_preferred(ALICE, "Away", "Away")
        self.assertEqual(self.shown(ALICE), ("Away", "Away"))
        self.graph("POST", "/users/%s/presence/clearUserPreferredPresence"
                   % ALICE, {})
        self.assertEqual(self.shown(ALICE), ("Busy", "InACall"))

    def test_user_picks_status_by_hand(self):
        self.sim.ctl("POST", "/users/%s/client" % ALICE, {})
        self.sim.ctl("POST", "/users/%s/preferred" % ALICE,
                     {"availability": "Busy", "activity": "Busy"})
        self.set_presence(ALICE, "Available", "Available", "PT4H")
        self.assertEqual(self.shown(ALICE), ("Busy", "Busy"))
        self.sim.ctl("POST", "/users/%s/preferred" % ALICE, {})
        self.assertEqual(self.shown(ALICE), ("Available", "Available"))
        status, _, body = self.sim.request(
            "POST", "/_sim/users/%s/preferred" % ALICE,
            {"availability": "Busy", "activity": "InACall"})
        self.assertEqual(status, 400, body)

    def test_session_expiry(self):
        self.sim.ctl("POST", "/users/%s/client" % ALICE,
                     {"availability": "Available", "activity": "Available"})
        self.set_presence(ALICE, "Busy", "InACall")          # PT5M
        self.assertEqual(self.shown(ALICE), ("Busy", "InACall"))
        self.advance(299)
        self.assertEqual(self.shown(ALICE), ("Busy", "InACall"))
        self.advance(2)
        self.assertEqual(self.shown(ALICE), ("Available", "Available"))
        state = self.sim.ctl("GET", "/users/%s" % ALICE)
        self.assertEqual(list(state["sessions"]), ["teams-client/desktop"])
        # The signed-in client keeps its session, however far time moves.
        self.advance(30 * 86400)
        self.assertEqual(self.shown(ALICE), ("Available", "Available"))
        self.sim.ctl("POST", "/users/%s/client" % ALICE,
                     {"signed_in": False})
        self.assertEqual(self.shown(ALICE), ("Offline", "Offline"))

    def test_app_session_alone_expires_to_offline(self):
        self.set_presence(ALICE, "Busy", "InACall", "PT1H")
        self.advance(3601)
        self.assertEqual(self.shown(ALICE), ("Offline", "Offline"))

    def test_preferred_expiry(self):
        self.sim.ctl("POST", "/users/%s/client" % ALICE, {})
        self.set_preferred(ALICE, "DoNotDisturb", "DoNotDisturb")
        self.advance(86399)
        self.assertEqual(self.shown(ALICE), ("DoNotDisturb", "DoNotDisturb"))
        self.advance(2)
        self.assertEqual(self.shown(ALICE), ("Available", "Available"))

    def test_sequence_number(self):
        first = self.presence(ALICE)["sequenceNumber"]
        self.assertEqual(self.presence(ALICE)["sequenceNumber"], first)
        self.set_presence(ALICE, "Busy", "InACall")
        second = self.presence(ALICE)["sequenceNumber"]
        self.assertGreater(second, first)
        self.set_presence(ALICE, "Busy", "InACall")          # a refresh
        self.assertEqual(self.presence(ALICE)["sequenceNumber"], second)
        self.set_presence(ALICE, "Available", "Available")
        third = self.presence(ALICE)["sequenceNumber"]
        self.assertGreater(third, second)
        self.advance(301)      # expiry
        self.assertGreater(self.presence(ALICE)["sequenceNumber"], third)

    def test_presence_shape(self):
        body = self.presence(ALICE)
        self.assertTrue(body["@odata.context"].endswith(
            "$metadata#users('%s')/presence/$entity" % ALICE))
        for key in ("id", "availability", "activity", "sequenceNumber",
                    "statusMessage", "outOfOfficeSettings", "workLocation"):
            self.assertIn(key, body)
        self.assertEqual(body["outOfOfficeSettings"],
                         {"message": None, "isOutOfOffice": False})
        status, _, other = self.graph("GET", "/communications/presences/%s"
                                      % ALICE.upper())
        self.assertEqual(status, 200)
        self.assertEqual(other["id"], ALICE)
        self.assertIn("communications/presences", other["@odata.context"])


class BulkTest(SimTestCase):

    def bulk(self, ids):
        return self.graph("POST", "/communications/getPresencesByUserId",
                          {"ids": ids})

    def test_bulk(self):
        self.set_presence(BOB, "Busy", "InACall")
        status, _, body = self.bulk([ALICE, BOB, "unknown-id"])
        self.assertEqual(status, 200, body)
        got = [(p["id"], p["availability"], p["activity"])
               for p in body["value"]]
        self.assertEqual(got, [(ALICE, "Offline", "Offline"),
                               (BOB, "Busy", "InACall")])

    def test_bulk_limit(self):
        self.assertEqual(self.bulk([ALICE] * 650)[0], 200)
        self.assertGraphError(self.bulk([ALICE] * 651), 400, "BadRequest")
        self.assertGraphError(self.bulk("not-a-list"), 400, "BadRequest")


class UnknownIdsTest(SimTestCase):

    extra_args = ("--unknown-ids", "unknown")

    def test_unknown_reported(self):
        status, _, body = self.graph(
            "POST", "/communications/getPresencesByUserId",
            {"ids": ["unknown-id"]})
        self.assertEqual(status, 200)
        self.assertEqual(body["value"][0]["availability"], "PresenceUnknown")


class FaultAndRateTest(SimTestCase):

    def test_injected_429(self):
        self.sim.ctl("POST", "/faults", {"match": "setPresence",
                                         "status": 429, "retry_after": 2,
                                         "count": 2})
        for _ in range(2):
            result = self.set_presence(ALICE, "Busy", "InACall")
            self.assertGraphError(result, 429, "TooManyRequests")
            self.assertEqual(result[1]["retry-after"], "2")
        self.assertEqual(self.set_presence(ALICE, "Busy", "InACall")[0], 200)
        self.assertEqual(self.sim.ctl("GET", "/faults")["faults"], [])

    def test_injected_delay_and_token_fault(self):
        self.sim.ctl("POST", "/faults", {"match": "/presence",
                                         "delay_ms": 200})
        started = time.monotonic()
        self.assertEqual(self.graph("GET", "/users/%s/presence"
                                    % ALICE)[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.sim.ctl("POST", "/faults", {"match": "/oauth2/", "status": 503,
                                         "count": -1})
        for _ in range(2):
            status, _, body = self.sim.request(
                "POST", "/%s/oauth2/v2.0/token" % TENANT,
                form=self.sim.token_form())
            self.assertEqual(status, 503)
            self.assertEqual(body["error"], "temporarily_unavailable")
        self.sim.ctl("DELETE", "/faults")
        self.sim.token()

    def test_rate_limit(self):
        self.sim.ctl("POST", "/rate_limit", {"limit": 3, "window": 30})
        try:
            for _ in range(3):
                self.assertEqual(self.graph("GET", "/users/%s/presence"
                                            % ALICE)[0], 200)
            result = self.set_presence(ALICE, "Busy", "InACall")
            self.assertGraphError(result, 429, "TooManyRequests")
            self.assertGreaterEqual(int(result[1]["retry-after"]), 1)
            self.advance(31)
            self.assertEqual(self.graph("GET", "/users/%s/presence"
                                        % ALICE)[0], 200)
        finally:
            self.sim.ctl("POST", "/rate_limit", {"limit": 1500,
                                                 "window": 30})


class CliRateLimitTest(SimTestCase):

    extra_args = ("--rate-limit", "2")

    def test_rate_limit_option(self):
        bulk = "/communications/getPresencesByUserId"
        for _ in range(2):
            self.assertEqual(self.graph("POST", bulk, {"ids": [ALICE]})[0],
                             200)
        result = self.graph("POST", bulk, {"ids": [ALICE]})
        self.assertGraphError(result, 429, "TooManyRequests")
        self.assertIn("retry-after", result[1])


class RequestLogTest(SimTestCase):

    def test_log_records_and_redacts(self):
        self.sim.ctl("DELETE", "/requests")
        self.sim.request("POST", "/%s/oauth2/v2.0/token" % TENANT,
                         form=self.sim.token_form())
        self.set_presence(ALICE, "Busy", "InACall")
        self.graph("GET", "/users/%s/presence" % ALICE, token="bad")
        log = self.sim.ctl("GET", "/requests")
        self.assertEqual([(e["method"], e["status"]) for e in log],
                         [("POST", 200), ("POST", 200), ("GET", 401)])
        self.assertEqual(log[0]["body"]["client_secret"], "[redacted]")
        self.assertEqual(log[1]["path"],
                         "/v1.0/users/%s/presence/setPresence" % ALICE)
        self.assertEqual(log[1]["body"]["activity"], "InACall")
        self.assertIsNone(log[2]["body"])
        self.assertNotIn(SECRET, json.dumps(log))
        with open(self.sim.log) as f:
            self.assertNotIn(SECRET, f.read())


class ControlTest(SimTestCase):

    def test_health_and_users(self):
        self.assertEqual(self.sim.ctl("GET", "/health"), {"ok": True})
        carol = "3b7e3c1d-2a4f-4c1e-9d55-0f6e8a9b7c21"
        status, _, body = self.sim.request("POST", "/_sim/users",
                                           {"id": carol,
                                            "upn": "carol@example.test"})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.shown(carol), ("Offline", "Offline"))
        ids = [u["id"] for u in self.sim.ctl("GET", "/users")]
        self.assertEqual(ids, [ALICE, BOB, carol])

    def test_out_of_office(self):
        before = self.presence(ALICE)["sequenceNumber"]
        self.sim.ctl("POST", "/users/%s/out_of_office" % ALICE,
                     {"isOutOfOffice": True, "message": "Back Monday"})
        body = self.presence(ALICE)
        self.assertEqual(body["outOfOfficeSettings"],
                         {"message": "Back Monday", "isOutOfOffice": True})
        self.assertGreater(body["sequenceNumber"], before)


class ProcessTest(unittest.TestCase):

    def test_sigterm_exits_cleanly(self):
        sim = Sim()
        self.assertEqual(sim.request("GET", "/_sim/health")[0], 200)
        self.assertEqual(sim.stop(), 0)

    def test_ipv6_loopback(self):
        try:
            sim = Sim("--host", "::1")
        except RuntimeError as err:
            self.skipTest("no IPv6 loopback here: %s" % err)
        try:
            conn = http.client.HTTPConnection("::1", sim.port,
                                              timeout=TIMEOUT)
            conn.request("GET", "/_sim/health")
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
        finally:
            self.assertEqual(sim.stop(), 0)


# --------------------------------------------------------------------------
# Delegated sign-in, subscriptions, notifications, $batch, assertions.

SVC = "5f0c2d7e-9a41-4b8e-8c3a-1d2e3f4a5b6c"
SVC_UPN = "presence-svc@example.test"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DELEGATED_SCOPE = ("https://graph.microsoft.com/Presence.Read.All "
                   "offline_access openid")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
WAIT = 10


def crypto():
    """The cryptography package, or skip the test."""
    try:
        importlib.import_module("cryptography.x509")
        return True
    except ImportError:
        raise unittest.SkipTest("python3-cryptography is not installed")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_cert(bits=2048):
    """(private key, certificate) of a fresh self-signed RSA certificate."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return key, cert


def der(cert):
    from cryptography.hazmat.primitives import serialization
    return cert.public_bytes(serialization.Encoding.DER)


class Receiver:
    """A webhook endpoint on loopback: answers the handshake and records
    every notification.  Knobs change how it answers."""

    def __init__(self):
        self.cond = threading.Condition()
        self.posts = []                  # (path, parsed JSON body)
        self.validations = []            # decoded validation tokens
        self.validation = "echo"         # echo, wrong, error
        self.fail_next = 0               # answer 500 to this many POSTs
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                receiver.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def url(self, path="/notify"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def handle(self, req):
        parts = urllib.parse.urlsplit(req.path)
        query = urllib.parse.parse_qs(parts.query)
        data = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        if "validationToken" in query:
            token = query["validationToken"][0]
            with self.cond:
                self.validations.append(token)
            body = token if self.validation == "echo" else "something else"
            status = 500 if self.validation == "error" else 200
            self.answer(req, status, body.encode(), "text/plain")
            return
        with self.cond:
            self.posts.append((parts.path, json.loads(data)))
            fail = self.fail_next > 0
            self.fail_next -= 1 if fail else 0
            self.cond.notify_all()
        self.answer(req, 500 if fail else 202, b"", "text/plain")

    @staticmethod
    def answer(req, status, body, ctype):
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def wait_posts(self, count):
        with self.cond:
            self.cond.wait_for(lambda: len(self.posts) >= count, WAIT)
            return list(self.posts)

    def clear(self):
        with self.cond:
            self.posts.clear()
            self.validations.clear()
        self.validation, self.fail_next = "echo", 0

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class DelegatedTestCase(SimTestCase):
    """A service account signed in through the device code flow."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim.ctl("POST", "/users", {"id": SVC, "upn": SVC_UPN})

    def post_token(self, form):
        return self.sim.request("POST", "/%s/oauth2/v2.0/token" % TENANT,
                                form=form)

    def device_code(self, scope=DELEGATED_SCOPE):
        status, _, body = self.sim.request(
            "POST", "/%s/oauth2/v2.0/devicecode" % TENANT,
            form={"client_id": CLIENT_ID, "scope": scope})
        self.assertEqual(status, 200, body)
        return body

    def poll(self, code):
        return self.post_token({"grant_type": DEVICE_GRANT,
                                "client_id": CLIENT_ID,
                                "device_code": code["device_code"]})

    def sign_in(self, scope=DELEGATED_SCOPE):
        """Token response of a completed device code sign-in."""
        code = self.device_code(scope)
        self.sim.ctl("POST", "/devicecode/approve",
                     {"user_code": code["user_code"], "upn": SVC_UPN})
        status, _, body = self.poll(code)
        self.assertEqual(status, 200, body)
        return body

    def assertAadError(self, result, status, error, code):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"], error, body)
        self.assertEqual(body["error_codes"], [code], body)
        self.assertTrue(body["error_description"]
                        .startswith("AADSTS%d:" % code))


class DeviceCodeTest(DelegatedTestCase):

    def test_device_code_flow(self):
        code = self.device_code()
        for key in ("device_code", "user_code", "verification_uri",
                    "expires_in", "interval", "message"):
            self.assertIn(key, code)
        self.assertEqual((code["expires_in"], code["interval"]), (900, 5))
        self.assertIn(code["user_code"], code["message"])
        self.assertAadError(self.poll(code), 400, "authorization_pending",
                            70016)
        self.assertAadError(self.poll(code), 400, "slow_down", 70016)
        status, _, _ = self.sim.request(
            "POST", "/_sim/devicecode/approve",
            {"user_code": code["user_code"], "upn": "nobody@example.test"})
        self.assertEqual(status, 404)
        self.sim.ctl("POST", "/devicecode/approve",
                     {"user_code": code["user_code"], "upn": SVC_UPN})
        self.sim.ctl("POST", "/clock", {"advance": 5})
        status, _, body = self.poll(code)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertIn("Presence.Read.All", body["scope"].split())
        self.assertIn("refresh_token", body)
        # The token is delegated: /me is the service account.
        status, _, me = self.graph("GET", "/me/presence",
                                   token=body["access_token"])
        self.assertEqual((status, me["id"]), (200, SVC), me)
        self.sim.ctl("POST", "/clock", {"advance": 5})
        self.assertAadError(self.poll(code), 400, "invalid_grant", 54005)

    def test_device_code_declined_and_expired(self):
        code = self.device_code()
        self.sim.ctl("POST", "/devicecode/deny",
                     {"user_code": code["user_code"]})
        self.assertAadError(self.poll(code), 400, "authorization_declined",
                            70000)
        code = self.device_code()
        self.sim.ctl("POST", "/clock", {"advance": 901})
        self.assertAadError(self.poll(code), 400, "expired_token", 70019)
        self.assertAadError(self.poll({"device_code": "made-up"}), 400,
                            "bad_verification_code", 70000)

    def id_claims(self, body):
        self.assertIn("id_token", body)
        parts = body["id_token"].split(".")
        self.assertEqual(len(parts), 3)
        return json.loads(b64url_decode(parts[1]))

    def test_id_token_names_who_signed_in(self):
        body = self.sign_in(DELEGATED_SCOPE + " profile")
        claims = self.id_claims(body)
        self.assertEqual(claims["preferred_username"], SVC_UPN)
        self.assertEqual(claims["oid"], SVC)
        self.assertEqual(claims["tid"], TENANT)
        self.assertEqual(claims["aud"], CLIENT_ID)
        status, _, again = self.post_token({
            "grant_type": "refresh_token", "client_id": CLIENT_ID,
            "refresh_token": body["refresh_token"]})
        self.assertEqual(status, 200, again)
        self.assertEqual(self.id_claims(again)["oid"], SVC)
        self.assertNotIn("id_token", self.sign_in(
            "https://graph.microsoft.com/Presence.Read.All offline_access"))

    def test_refresh_only_with_offline_access(self):
        body = self.sign_in("https://graph.microsoft.com/Presence.Read.All")
        self.assertNotIn("refresh_token", body)

    def test_refresh_token_rotates(self):
        first = self.sign_in()["refresh_token"]
        status, _, body = self.post_token({
            "grant_type": "refresh_token", "client_id": CLIENT_ID,
            "refresh_token": first})
        self.assertEqual(status, 200, body)
        self.assertNotEqual(body["refresh_token"], first)
        self.assertEqual(self.graph("GET", "/me/presence",
                                    token=body["access_token"])[0], 200)
        # As on the platform, the redeemed token still works.
        self.assertEqual(self.post_token({
            "grant_type": "refresh_token", "client_id": CLIENT_ID,
            "refresh_token": first})[0], 200)

    def test_revoke_fails_refresh(self):
        token = self.sign_in()["refresh_token"]
        result = self.sim.ctl("POST", "/accounts/%s/revoke" % SVC_UPN)
        self.assertGreaterEqual(result["revoked"], 1)
        self.assertAadError(self.post_token({
            "grant_type": "refresh_token", "client_id": CLIENT_ID,
            "refresh_token": token}), 400, "invalid_grant", 50173)
        self.assertAadError(self.post_token({
            "grant_type": "refresh_token", "client_id": CLIENT_ID,
            "refresh_token": "made-up"}), 400, "invalid_grant", 9002313)

    def test_secrets_redacted_in_log(self):
        self.sim.ctl("DELETE", "/requests")
        token = self.sign_in()["refresh_token"]
        self.post_token({"grant_type": "refresh_token",
                         "client_id": CLIENT_ID, "refresh_token": token})
        log = json.dumps(self.sim.ctl("GET", "/requests"))
        self.assertNotIn(token, log)
        self.assertIn("[redacted]", log)
        codes = [e["body"].get("device_code") for e in
                 self.sim.ctl("GET", "/requests") if e["body"]]
        self.assertIn("[redacted]", codes)


class RefreshLifetimeTest(DelegatedTestCase):

    extra_args = ("--refresh-lifetime", "1000", "--refresh-reuse", "reject")

    def refresh(self, token):
        return self.post_token({"grant_type": "refresh_token",
                                "client_id": CLIENT_ID,
                                "refresh_token": token})

    def test_refresh_token_expires(self):
        token = self.sign_in()["refresh_token"]
        self.sim.ctl("POST", "/clock", {"advance": 1001})
        self.assertAadError(self.refresh(token), 400, "invalid_grant",
                            700082)

    def test_reuse_rejected(self):
        token = self.sign_in()["refresh_token"]
        self.assertEqual(self.refresh(token)[0], 200)
        self.assertAadError(self.refresh(token), 400, "invalid_grant", 70008)


class SubscriptionTestCase(DelegatedTestCase):
    """A webhook receiver and a delegated token for the service account."""

    extra_args = ("--delivery-backoff", "0.2")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.receiver.clear()
        self.delegated = self.sign_in()["access_token"]

    def expiry(self, minutes=59):
        clock = self.sim.ctl("GET", "/clock")
        now = time.time() + clock["offset"]
        return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z",
                             time.gmtime(now + minutes * 60))

    def sub_body(self, ids=(ALICE,), **override):
        if len(ids) == 1:
            resource = "/communications/presences/%s" % ids[0]
        else:
            resource = ("/communications/presences?$filter=id in (%s)"
                        % ", ".join("'%s'" % i for i in ids))
        body = {"changeType": "updated",
                "notificationUrl": self.receiver.url(),
                "resource": resource,
                "expirationDateTime": self.expiry(),
                "clientState": "secret-state"}
        body.update(override)
        return {k: v for k, v in body.items() if v is not None}

    def subscribe(self, body=None, token=None):
        return self.graph("POST", "/subscriptions",
                          body if body is not None else self.sub_body(),
                          token=token or self.delegated)

    def created(self, body=None):
        status, _, sub = self.subscribe(body)
        self.assertEqual(status, 201, sub)
        return sub

    def advance_signed_in(self, seconds):
        """Move the clock; sign in again as a client would."""
        self.advance(seconds)
        self.delegated = self.sign_in()["access_token"]

    def deliveries(self, kind="notification", count=1):
        """Recorded deliveries of a kind, once there are count of them."""
        deadline = time.monotonic() + WAIT
        while True:
            done = [d for d in self.sim.ctl("GET", "/deliveries")
                    if d["kind"] == kind]
            if len(done) >= count or time.monotonic() > deadline:
                return done
            time.sleep(0.05)


class SubscriptionTest(SubscriptionTestCase):

    def test_create_runs_handshake(self):
        sub = self.created()
        self.assertEqual(sub["changeType"], "updated")
        self.assertEqual(sub["clientState"], "secret-state")
        self.assertEqual(sub["applicationId"], CLIENT_ID)
        self.assertEqual(sub["creatorId"], SVC)
        self.assertTrue(sub["expirationDateTime"].endswith("Z"))
        # The token came URL-encoded and went back decoded.
        self.assertEqual(len(self.receiver.validations), 1)
        self.assertTrue(self.receiver.validations[0].startswith(
            "Validation: "))
        kinds = [d["kind"] for d in self.sim.ctl("GET", "/deliveries")]
        self.assertEqual(kinds, ["validation"])

    def test_lifecycle_url_validated_too(self):
        self.created(self.sub_body(
            lifecycleNotificationUrl=self.receiver.url("/lifecycle")))
        self.assertEqual(len(self.receiver.validations), 2)

    def test_handshake_failure_is_400(self):
        for mode in ("wrong", "error"):
            with self.subTest(mode=mode):
                self.receiver.validation = mode
                self.assertGraphError(self.subscribe(), 400,
                                      "ValidationError")
        self.receiver.validation = "echo"
        self.assertEqual(self.sim.ctl("GET", "/subscriptions"), [])

    def test_app_only_token_forbidden(self):
        self.assertGraphError(self.subscribe(token=self.tok), 403,
                              "ExtensionError")

    def test_bulk_resource_and_limit(self):
        sub = self.created(self.sub_body(ids=(ALICE, BOB)))
        listed = self.sim.ctl("GET", "/subscriptions")
        self.assertEqual(listed[0]["id"], sub["id"])
        self.assertEqual(listed[0]["userIds"], sorted([ALICE, BOB]))
        self.graph("DELETE", "/subscriptions/" + sub["id"],
                   token=self.delegated)
        ids = ["00000000-0000-0000-0000-%012d" % i for i in range(651)]
        self.assertGraphError(self.subscribe(self.sub_body(ids=ids)),
                              400, "BadRequest")
        self.assertEqual(self.subscribe(self.sub_body(ids=ids[:650]))[0],
                         201)

    def test_request_rules(self):
        cases = [
            ("expiry beyond 60 minutes", {"expirationDateTime":
                                          self.expiry(61)}),
            ("expiry in the past", {"expirationDateTime": self.expiry(-1)}),
            ("expiry not a date", {"expirationDateTime": "tomorrow"}),
            ("changeType", {"changeType": "created"}),
            ("clientState too long", {"clientState": "x" * 129}),
            ("remote notificationUrl",
             {"notificationUrl": "https://webhook.example.com/api"}),
            ("ftp notificationUrl", {"notificationUrl": "ftp://127.0.0.1/"}),
            ("rich without certificate", {"includeResourceData": True}),
            ("other resource", {"resource": "/me/messages"}),
            ("unknown property", {"colour": "red"}),
        ]
        for name, override in cases:
            with self.subTest(case=name):
                self.assertGraphError(self.subscribe(self.sub_body(
                    **override)), 400, "BadRequest")
        self.assertEqual(self.receiver.validations, [])

    def test_short_expiry_raised_to_45_minutes(self):
        sub = self.created(self.sub_body(
            expirationDateTime=self.expiry(10)))
        listed = self.sim.ctl("GET", "/subscriptions")[0]
        self.assertEqual(listed["id"], sub["id"])
        self.assertAlmostEqual(listed["expires_in"], 45 * 60, delta=10)

    def test_one_subscription_per_app_and_user(self):
        sub = self.created()
        result = self.subscribe()
        self.assertGraphError(result, 409, "ExtensionError")
        self.assertIn(sub["id"], result[2]["error"]["message"])
        self.assertGraphError(self.subscribe(self.sub_body(ids=(BOB,))),
                              409, "ExtensionError")

    def test_get_patch_delete(self):
        sub = self.created()
        path = "/subscriptions/" + sub["id"]
        status, _, got = self.graph("GET", path, token=self.delegated)
        self.assertEqual((status, got["id"]), (200, sub["id"]))
        status, _, listed = self.graph("GET", "/subscriptions",
                                       token=self.delegated)
        self.assertEqual([s["id"] for s in listed["value"]], [sub["id"]])
        self.sim.ctl("POST", "/clock", {"advance": 600})
        status, _, renewed = self.graph(
            "PATCH", path, {"expirationDateTime": self.expiry(60)},
            token=self.delegated)
        self.assertEqual(status, 200, renewed)
        self.assertGreater(renewed["expirationDateTime"],
                           sub["expirationDateTime"])
        self.assertGraphError(self.graph(
            "PATCH", path, {"expirationDateTime": self.expiry(61)},
            token=self.delegated), 400, "BadRequest")
        self.assertGraphError(self.graph(
            "PATCH", path, {"expirationDateTime": self.expiry(50)},
            token=self.tok), 403, "ExtensionError")
        self.assertEqual(self.graph("DELETE", path,
                                    token=self.delegated)[0], 204)
        self.assertGraphError(self.graph("GET", path, token=self.delegated),
                              404, "ResourceNotFound")
        self.assertGraphError(self.graph("DELETE", path,
                                         token=self.delegated),
                              404, "ResourceNotFound")

    def test_expired_subscription_vanishes(self):
        sub = self.created()
        self.advance_signed_in(60 * 60)
        self.assertGraphError(self.graph("GET", "/subscriptions/"
                                         + sub["id"], token=self.delegated),
                              404, "ResourceNotFound")
        self.assertEqual(self.sim.ctl("GET", "/subscriptions"), [])
        # A new one may be made, and an expired one delivers nothing.
        self.created()


class DeliveryTest(SubscriptionTestCase):

    def items(self, posts):
        return [item for _, body in posts for item in body["value"]]

    def test_notification_on_change(self):
        sub = self.created()
        self.sim.ctl("POST", "/users/%s/client" % BOB,
                     {"availability": "Busy", "activity": "InACall"})
        self.sim.ctl("POST", "/users/%s/client" % ALICE,
                     {"availability": "Busy", "activity": "InACall"})
        posts = self.receiver.wait_posts(1)
        self.assertEqual(len(posts), 1)
        path, body = posts[0]
        self.assertEqual(path, "/notify")
        item = body["value"][0]
        self.assertEqual(item["subscriptionId"], sub["id"])
        self.assertEqual(item["clientState"], "secret-state")
        self.assertEqual(item["changeType"], "updated")
        self.assertEqual(item["tenantId"], TENANT)
        self.assertEqual(item["resource"],
                         "communications/presences/%s" % ALICE)
        self.assertEqual(item["resourceData"]["id"], ALICE)
        self.assertEqual(item["resourceData"]["@odata.type"],
                         "#microsoft.graph.presence")
        self.assertEqual(item["subscriptionExpirationDateTime"],
                         sub["expirationDateTime"])
        self.assertNotIn("encryptedContent", item)
        self.assertNotIn("validationTokens", body)
        done = [d for d in self.sim.ctl("GET", "/deliveries")
                if d["kind"] == "notification"]
        self.assertEqual([(d["status"], d["ok"]) for d in done],
                         [(202, True)])
        self.assertIsNotNone(done[0]["latency_ms"])

    def test_every_source_of_change_notifies(self):
        self.created()
        self.sim.ctl("POST", "/users/%s/client" % ALICE, {})
        self.receiver.wait_posts(1)
        self.assertEqual(self.set_presence(ALICE, "DoNotDisturb",
                                           "Presenting")[0], 200)
        self.receiver.wait_posts(2)
        self.set_preferred(ALICE, "Away", "Away", "PT10M")
        self.receiver.wait_posts(3)
        self.advance(601)            # the preferred presence expires
        self.receiver.wait_posts(4)
        self.set_presence(ALICE, "DoNotDisturb", "Presenting")  # no change
        self.sim.ctl("POST", "/users/%s/out_of_office" % ALICE,
                     {"isOutOfOffice": True, "message": "away"})
        self.sim.ctl("POST", "/users/%s/client" % ALICE,
                     {"signed_in": False})
        items = self.items(self.receiver.wait_posts(5))
        self.assertEqual(len(items), 5)

    def test_changes_together_share_one_post(self):
        self.created(self.sub_body(ids=(ALICE, BOB)))
        self.set_presence(ALICE, "Busy", "InACall", "PT10M")
        self.set_presence(BOB, "Busy", "InACall", "PT10M")
        self.receiver.wait_posts(1)
        self.receiver.wait_posts(2)
        self.receiver.clear()
        self.sim.ctl("POST", "/clock", {"advance": 601})  # both expire
        posts = self.receiver.wait_posts(1)
        self.assertEqual(len(posts), 1)
        ids = sorted(i["resourceData"]["id"] for i in posts[0][1]["value"])
        self.assertEqual(ids, sorted([ALICE, BOB]))

    def test_failed_delivery_retried(self):
        self.created()
        self.receiver.fail_next = 1
        self.sim.ctl("POST", "/users/%s/client" % ALICE, {})
        done = self.deliveries(count=2)
        self.assertEqual([(d["attempt"], d["status"], d["ok"])
                          for d in done], [(1, 500, False), (2, 202, True)])

    def test_delivery_fault_drop(self):
        self.created()
        self.sim.ctl("POST", "/delivery_faults", {"drop": True})
        self.sim.ctl("POST", "/users/%s/client" % ALICE, {})
        self.assertTrue(self.deliveries()[0]["dropped"])
        self.sim.ctl("POST", "/users/%s/client" % ALICE,
                     {"availability": "Busy", "activity": "InACall"})
        posts = self.receiver.wait_posts(1)
        item = posts[0][1]["value"][0]
        self.assertEqual(len(posts), 1)
        self.assertEqual(item["resourceData"]["id"], ALICE)
        self.assertEqual(self.sim.ctl("GET", "/delivery_faults"),
                         {"faults": []})

    def test_expired_subscription_stops_delivering(self):
        self.created(self.sub_body(ids=(ALICE, BOB)))
        self.advance_signed_in(3600)
        self.sim.ctl("POST", "/users/%s/client" % ALICE, {})
        # A fresh subscription for Bob shows deliveries still flow.
        self.created(self.sub_body(ids=(BOB,)))
        self.sim.ctl("POST", "/users/%s/client" % BOB, {})
        posts = self.receiver.wait_posts(1)
        self.assertEqual([i["resourceData"]["id"]
                          for i in self.items(posts)], [BOB])

    def test_lifecycle_notifications(self):
        sub = self.created(self.sub_body(
            lifecycleNotificationUrl=self.receiver.url("/lifecycle")))
        self.sim.ctl("POST", "/subscriptions/%s/lifecycle" % sub["id"],
                     {"event": "reauthorizationRequired"})
        path, body = self.receiver.wait_posts(1)[0]
        self.assertEqual(path, "/lifecycle")
        self.assertEqual(body["value"][0]["lifecycleEvent"],
                         "reauthorizationRequired")
        self.assertEqual(body["value"][0]["subscriptionId"], sub["id"])
        self.assertEqual(body["value"][0]["clientState"], "secret-state")
        self.assertEqual(self.graph("POST", "/subscriptions/%s/reauthorize"
                                    % sub["id"], token=self.delegated)[0],
                         204)
        self.sim.ctl("POST", "/subscriptions/%s/lifecycle" % sub["id"],
                     {"event": "subscriptionRemoved"})
        self.receiver.wait_posts(2)
        self.assertGraphError(self.graph("GET", "/subscriptions/"
                                         + sub["id"], token=self.delegated),
                              404, "ResourceNotFound")
        status, _, _ = self.sim.request(
            "POST", "/_sim/subscriptions/%s/lifecycle" % sub["id"],
            {"event": "missed"})
        self.assertEqual(status, 404)


class RichNotificationTest(SubscriptionTestCase):

    @classmethod
    def setUpClass(cls):
        crypto()
        super().setUpClass()
        cls.key, cls.cert = make_cert()

    def rich_body(self):
        return self.sub_body(
            includeResourceData=True,
            encryptionCertificate=base64.b64encode(der(self.cert)).decode(),
            encryptionCertificateId="cert-1")

    def decrypt(self, content):
        import hashlib
        import hmac
        from cryptography.hazmat.primitives import hashes, padding as sp
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.hazmat.primitives.ciphers import (
            Cipher, algorithms, modes)
        key = self.key.decrypt(base64.b64decode(content["dataKey"]),
                               padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                            algorithm=hashes.SHA1(),
                                            label=None))
        data = base64.b64decode(content["data"])
        mac = hmac.new(key, data, hashlib.sha256).digest()
        self.assertEqual(base64.b64encode(mac).decode(),
                         content["dataSignature"])
        dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        unpad = sp.PKCS7(128).unpadder()
        plain = unpad.update(dec.update(data) + dec.finalize()) \
            + unpad.finalize()
        return json.loads(plain)

    def test_encrypted_content(self):
        import hashlib
        self.created(self.rich_body())
        self.sim.ctl("POST", "/users/%s/client" % ALICE,
                     {"availability": "DoNotDisturb",
                      "activity": "Presenting"})
        body = self.receiver.wait_posts(1)[0][1]
        content = body["value"][0]["encryptedContent"]
        self.assertEqual(content["encryptionCertificateId"], "cert-1")
        self.assertEqual(content["encryptionCertificateThumbprint"],
                         hashlib.sha1(der(self.cert)).hexdigest().upper())
        data = self.decrypt(content)
        self.assertEqual((data["id"], data["availability"],
                          data["activity"]),
                         (ALICE, "DoNotDisturb", "Presenting"))
        self.assertEqual(data["@odata.type"], "#microsoft.graph.presence")

    def test_validation_tokens(self):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        self.created(self.rich_body())
        self.sim.ctl("POST", "/users/%s/client" % ALICE, {})
        body = self.receiver.wait_posts(1)[0][1]
        self.assertEqual(len(body["validationTokens"]), 1)
        head, claims, sig = body["validationTokens"][0].split(".")
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(claims))
        for path in ("/common/discovery/v2.0/keys",
                     "/%s/discovery/v2.0/keys" % TENANT):
            status, _, jwks = self.sim.request("GET", path)
            self.assertEqual(status, 200)
        jwk = [k for k in jwks["keys"] if k["kid"] == header["kid"]][0]
        public = rsa.RSAPublicNumbers(
            int.from_bytes(b64url_decode(jwk["e"]), "big"),
            int.from_bytes(b64url_decode(jwk["n"]), "big")).public_key()
        public.verify(b64url_decode(sig), (head + "." + body[
            "validationTokens"][0].split(".")[1]).encode(),
            padding.PKCS1v15(), hashes.SHA256())
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual(claims["aud"], CLIENT_ID)
        self.assertEqual(claims["tid"], TENANT)
        self.assertEqual(claims["azp"],
                         "0bf30f3b-4a52-48df-9a82-234910c4a086")
        self.assertTrue(claims["iss"].endswith("/%s/v2.0" % TENANT))
        now = time.time()
        self.assertLess(claims["nbf"], now + 5)
        self.assertGreater(claims["exp"], now)
        status, _, config = self.sim.request(
            "GET", "/%s/v2.0/.well-known/openid-configuration" % TENANT)
        self.assertEqual(config["issuer"], claims["iss"])

    def test_bad_certificate(self):
        body = self.rich_body()
        body["encryptionCertificate"] = "bm90IGEgY2VydGlmaWNhdGU="
        self.assertGraphError(self.subscribe(body), 400, "BadRequest")
        small_key, small = make_cert(1024)
        body["encryptionCertificate"] = base64.b64encode(der(small)).decode()
        self.assertGraphError(self.subscribe(body), 400, "BadRequest")
        body = self.rich_body()
        del body["encryptionCertificateId"]
        self.assertGraphError(self.subscribe(body), 400, "BadRequest")


class BatchTest(SimTestCase):

    def batch(self, requests, token=None):
        return self.graph("POST", "/$batch", {"requests": requests},
                          token=token)

    def get(self, rid, uid=ALICE, **extra):
        return dict({"id": rid, "method": "GET",
                     "url": "/users/%s/presence" % uid}, **extra)

    def test_batch_runs_each_request(self):
        set_busy = {"id": "1", "method": "POST",
                    "url": "users/%s/presence/setPresence" % BOB,
                    "headers": {"Content-Type": "application/json"},
                    "body": {"sessionId": CLIENT_ID, "availability": "Busy",
                             "activity": "InACall"}}
        status, _, body = self.batch([
            set_busy, self.get("2", BOB, dependsOn=["1"]),
            self.get("3", "00000000-0000-0000-0000-000000000000")])
        self.assertEqual(status, 200, body)
        got = {r["id"]: r for r in body["responses"]}
        self.assertEqual(got["1"]["status"], 200)
        self.assertEqual(got["2"]["body"]["activity"], "InACall")
        self.assertEqual(got["3"]["status"], 404)
        self.assertEqual(got["3"]["body"]["error"]["code"], "NotFound")

    def test_batch_limits(self):
        self.assertGraphError(self.batch([self.get(str(i))
                                          for i in range(21)]),
                              400, "BadRequest")
        self.assertEqual(self.batch([self.get(str(i))
                                     for i in range(20)])[0], 200)
        self.assertGraphError(self.batch([self.get("1"), self.get("1")]),
                              400, "BadRequest")
        self.assertGraphError(self.batch([self.get("1", dependsOn=["9"])]),
                              400, "BadRequest")
        self.assertGraphError(self.batch([self.get("1")], token="forged"),
                              401, "InvalidAuthenticationToken")
        body = {"id": "1", "method": "POST",
                "url": "/communications/getPresencesByUserId",
                "body": {"ids": [ALICE]}}
        status, _, result = self.batch([body])
        self.assertEqual(result["responses"][0]["status"], 400)

    def test_inner_throttling_and_dependency(self):
        self.sim.ctl("POST", "/rate_limit", {"limit": 2, "window": 30})
        try:
            status, _, body = self.batch([
                self.get("a"), self.get("b"), self.get("c"),
                self.get("d", dependsOn=["c"])])
        finally:
            self.sim.ctl("POST", "/rate_limit", {"limit": 1500,
                                                 "window": 30})
        self.assertEqual(status, 200, body)
        got = {r["id"]: r for r in body["responses"]}
        self.assertEqual([got[i]["status"] for i in "abcd"],
                         [200, 200, 429, 424])
        self.assertGreaterEqual(int(got["c"]["headers"]["Retry-After"]), 1)
        self.assertEqual(got["c"]["body"]["error"]["code"],
                         "TooManyRequests")

    def test_inner_fault_and_log(self):
        self.sim.ctl("DELETE", "/requests")
        self.sim.ctl("POST", "/faults", {"match": BOB, "status": 503,
                                         "retry_after": 7})
        status, _, body = self.batch([self.get("1"), self.get("2", BOB)])
        got = {r["id"]: r for r in body["responses"]}
        self.assertEqual((got["1"]["status"], got["2"]["status"]),
                         (200, 503))
        self.assertEqual(got["2"]["headers"]["Retry-After"], "7")
        log = self.sim.ctl("GET", "/requests")
        self.assertEqual([e["path"] for e in log],
                         ["/v1.0/$batch", "/v1.0/users/%s/presence" % ALICE,
                          "/v1.0/users/%s/presence" % BOB])
        self.assertEqual(log[1]["batch"], log[0]["seq"])


class DropFaultTest(SimTestCase):

    def test_drop_gives_transport_error(self):
        self.sim.ctl("POST", "/faults", {"match": "/presence", "drop": True})
        with self.assertRaises((http.client.HTTPException, OSError)):
            self.graph("GET", "/users/%s/presence" % ALICE)
        self.assertEqual(self.graph("GET", "/users/%s/presence"
                                    % ALICE)[0], 200)
        self.sim.ctl("POST", "/faults", {"match": "/oauth2/", "drop": True})
        with self.assertRaises((http.client.HTTPException, OSError)):
            self.sim.token()


class AssertionTest(SimTestCase):
    """Client credentials with a certificate instead of a secret."""

    @classmethod
    def setUpClass(cls):
        crypto()
        from cryptography.hazmat.primitives import serialization
        cls.key, cls.cert = make_cert()
        cls.certdir = tempfile.mkdtemp(prefix="graphsim-cert-")
        path = os.path.join(cls.certdir, "app.pem")
        with open(path, "wb") as f:
            f.write(cls.cert.public_bytes(serialization.Encoding.PEM))
        cls.extra_args = ("--client-cert", path)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def assertion(self, key=None, alg="RS256", thumb="x5t#S256",
                  **claims):
        import hashlib
        import uuid
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        digest = hashlib.sha256 if thumb == "x5t#S256" else hashlib.sha1
        header = {"alg": alg, "typ": "JWT",
                  thumb: b64url(digest(der(self.cert)).digest())}
        now = int(time.time())
        body = {"aud": "http://127.0.0.1:%d/%s/oauth2/v2.0/token"
                % (self.sim.port, TENANT),
                "iss": CLIENT_ID, "sub": CLIENT_ID, "jti": str(uuid.uuid4()),
                "nbf": now, "iat": now, "exp": now + 600}
        body.update(claims)
        signing = (b64url(json.dumps(header).encode()) + "."
                   + b64url(json.dumps(body).encode()))
        pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        sig = (key or self.key).sign(signing.encode(), pad, hashes.SHA256())
        return signing + "." + b64url(sig)

    def post(self, assertion, atype=ASSERTION_TYPE):
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                "scope": SCOPE, "client_assertion_type": atype,
                "client_assertion": assertion}
        return self.sim.request("POST", "/%s/oauth2/v2.0/token" % TENANT,
                                form=form)

    def test_assertion_accepted(self):
        for alg, thumb in (("RS256", "x5t#S256"), ("RS256", "x5t"),
                           ("PS256", "x5t#S256")):
            with self.subTest(alg=alg, thumb=thumb):
                status, _, body = self.post(self.assertion(alg=alg,
                                                           thumb=thumb))
                self.assertEqual(status, 200, body)
                self.assertEqual(self.graph(
                    "GET", "/users/%s/presence" % ALICE,
                    token=body["access_token"])[0], 200)

    def test_assertion_errors(self):
        other_key, _ = make_cert()
        now = int(time.time())
        cases = [
            ("signature", self.assertion(key=other_key), 401,
             "invalid_client", 700027),
            ("audience", self.assertion(aud="https://login.microsoftonline"
                                        ".com/%s/oauth2/v2.0/token" % TENANT),
             401, "invalid_client", 700023),
            ("issuer", self.assertion(iss="someone", sub="someone"), 401,
             "invalid_client", 700021),
            ("expired", self.assertion(nbf=now - 4000, exp=now - 3000), 401,
             "invalid_client", 700024),
            ("malformed", "not.a.jwt", 400, "invalid_request", 50027),
            ("no jti", self.assertion(jti=None), 400, "invalid_request",
             50027),
        ]
        for name, assertion, status, error, code in cases:
            with self.subTest(case=name):
                got_status, _, body = self.post(assertion)
                self.assertEqual(got_status, status, body)
                self.assertEqual((body["error"], body["error_codes"]),
                                 (error, [code]))
        status, _, body = self.post(self.assertion(), atype="bearer")
        self.assertEqual((status, body["error"]), (400, "invalid_request"))

    def test_assertion_redacted(self):
        self.sim.ctl("DELETE", "/requests")
        assertion = self.assertion()
        self.post(assertion)
        log = self.sim.ctl("GET", "/requests")
        self.assertEqual(log[0]["body"]["client_assertion"], "[redacted]")
        self.assertNotIn(assertion, json.dumps(log))


if __name__ == "__main__":
    unittest.main()
