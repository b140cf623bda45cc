"""Self-test of the Graph simulator.

Run from the repository root:
    python3 -m unittest tests/graphsim/test_graphsim.py

Each test class starts graphsim.py on a free loopback port and talks to it
with http.client (not urllib, so no proxy from the environment applies).
"""

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

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


if __name__ == "__main__":
    unittest.main()
