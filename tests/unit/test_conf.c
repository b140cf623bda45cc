/*
 * test_conf.c: the configuration file and the user map reader.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"
#include "config/conf.h"
#include "store/store.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/presgw-test-conf-XXXXXX";

#define ID_A "4a5d2c1e-0b7f-4c1a-9e3d-a11ce0000001"
#define ID_B "4a5d2c1e-0b7f-4c1a-9e3d-b0b000000002"

static char *
write_file(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");

    fputs(text, fp);
    fclose(fp);
    return path;
}

static const char good_conf[] =
    "# a comment\n"
    "[sip]\n"
    "domain = example.com\n"
    "min_expires = 30\n"
    "[graph]\n"
    "tenant_id = t1\n"
    "client_id = c1\n"
    "client_secret_file = secret\n"
    "call_end = clear\n"
    "[users]\n"
    "map = users.csv\n";

static void
conf_good_file_loads_with_defaults_and_secret(void)
{
    char *path = write_file("good.conf", good_conf), *err = NULL;
    struct conf *c;

    free(write_file("secret", "s3cret-value\n"));
    c = conf_load(path, &err);
    CHECK(c != NULL);
    CHECK(err == NULL);
    if (c != NULL) {
        CHECK_STR(c->c_sip_domain, "example.com");
        CHECK(c->c_sip_min_expires == 30);
        CHECK(c->c_sip_max_expires == 3600);
        CHECK_STR(c->c_graph_call_end, "clear");
        CHECK_STR(c->c_graph_secret, "s3cret-value");
        CHECK(c->c_users_map[0] == '/');
        CHECK(strstr(c->c_users_map, "/users.csv") != NULL);
    }
    conf_free(c);
    free(err);
    free(path);
}

static void
conf_reports_every_error_with_its_line(void)
{
    char *path = write_file("bad.conf",
        "[sip]\n"
        "domian = example.com\n"
        "min_expires = ten\n"
        "[graph]\n"
        "call_end = maybe\n"
        "no equals sign\n");
    char *err = NULL;
    struct conf *c;

    unsetenv("PRESGW_CLIENT_SECRET");
    c = conf_load(path, &err);
    CHECK(c == NULL);
    CHECK(err != NULL);
    if (err != NULL) {
        CHECK(strstr(err, "bad.conf:2: unknown key 'domian' in [sip]"));
        CHECK(strstr(err, "bad.conf:3: sip.min_expires must be a number"));
        CHECK(strstr(err, "bad.conf:5: graph.call_end must be one of"));
        CHECK(strstr(err, "bad.conf:6: expected 'key = value'"));
        CHECK(strstr(err, "sip.domain is required"));
        CHECK(strstr(err, "graph.tenant_id is required"));
        CHECK(strstr(err, "PRESGW_CLIENT_SECRET is not set"));
    }
    free(err);
    free(path);
}

static void
conf_http_section_checked(void)
{
    char *path = write_file("http.conf",
        "[sip]\ndomain = example.com\n[graph]\ntenant_id = t\n"
        "client_id = c\n[users]\nmap = u.csv\n[http]\n"
        "listen = localhost:8080\ncert_file = no-such-cert.pem\n");
    char *err = NULL;
    struct conf *c;

    setenv("PRESGW_CLIENT_SECRET", "from-the-environment", 1);
    c = conf_load(path, &err);
    CHECK(c == NULL);
    CHECK(err != NULL);
    if (err != NULL) {
        CHECK(strstr(err, "http.listen must be ADDRESS:PORT"));
        CHECK(strstr(err, "http.cert_file and http.key_file go together"));
        CHECK(strstr(err, "/no-such-cert.pem: cannot read http.cert_file"));
    }
    unsetenv("PRESGW_CLIENT_SECRET");
    free(err);
    free(path);
}

/* Graph posts only to HTTPS; plain HTTP only to this machine. */
static void
conf_notify_url_https_or_loopback(void)
{
    static const struct {
        const char *url;
        int         ok;
    } urls[] = {
        { "https://gw.example.com/graph/notify", 1 },
        { "http://127.0.0.1:8080/graph/notify", 1 },
        { "http://127.1.2.3/graph/notify", 1 },
        { "http://localhost:8080/graph/notify", 1 },
        { "http://[::1]:8080/graph/notify", 1 },
        { "http://gw.example.com/graph/notify", 0 },
        { "http://192.0.2.10:8080/graph/notify", 0 },
        { "http://127.0.0.1.example.com/graph/notify", 0 },
        { "http://[::2]:8080/graph/notify", 0 },
        { "ftp://127.0.0.1/graph/notify", 0 },
    };
    char *text, *path, *err;
    struct conf *c;
    size_t i;

    setenv("PRESGW_CLIENT_SECRET", "from-the-environment", 1);
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        text = xasprintf("[sip]\ndomain = example.com\n[graph]\n"
            "tenant_id = t\nclient_id = c\nnotify_url = %s\n[users]\n"
            "map = u.csv\n", urls[i].url);
        path = write_file("notify.conf", text);
        err = NULL;
        c = conf_load(path, &err);
        CHECK((c != NULL) == urls[i].ok);
        if ((c != NULL) != urls[i].ok)
            fprintf(stderr, "  %s: %s\n", urls[i].url, err ? err : "taken");
        if (!urls[i].ok)
            CHECK(err != NULL &&
                strstr(err, "graph.notify_url must be an https:// URL"));
        conf_free(c);
        free(err);
        free(path);
        free(text);
    }
    unsetenv("PRESGW_CLIENT_SECRET");
}

static void
conf_secret_from_environment(void)
{
    char *path = write_file("env.conf",
        "[sip]\ndomain = example.com\n[graph]\ntenant_id = t\n"
        "client_id = c\n[users]\nmap = u.csv\n");
    char *err = NULL;
    struct conf *c;

    setenv("PRESGW_CLIENT_SECRET", "from-env-1234", 1);
    c = conf_load(path, &err);
    CHECK(c != NULL);
    if (c != NULL)
        CHECK_STR(c->c_graph_secret, "from-env-1234");
    unsetenv("PRESGW_CLIENT_SECRET");
    conf_free(c);
    free(err);
    free(path);
}

static void
usermap_reads_rows_in_every_address_form(void)
{
    char *path = write_file("users.csv",
        "# aor, id, upn\n"
        "sip:Alice@Example.COM, 0A5D2C1E-0B7F-4C1A-9E3D-A11CE0000001,"
        " alice@x\n"
        "bob@example.com,0b5d2c1e-0b7f-4c1a-9e3d-b0b000000002\n"
        "carol;x=y, 0c5d2c1e-0b7f-4c1a-9e3d-ca4010000003, c@x\n"
        "\n");
    struct store_user *u = NULL;
    char *err = NULL;
    size_t n = 0;

    CHECK(usermap_read(path, "example.com", &u, &n, &err) == 0);
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STR(u[0].su_aor, "Alice@example.com");
        /* Graph's ids are lower case; so are the map's once read. */
        CHECK_STR(u[0].su_id, "0a5d2c1e-0b7f-4c1a-9e3d-a11ce0000001");
        CHECK_STR(u[0].su_upn, "alice@x");
        CHECK_STR(u[1].su_aor, "bob@example.com");
        CHECK_STR(u[1].su_upn, "");
        CHECK_STR(u[2].su_aor, "carol@example.com");
    }
    usermap_free(u, n);
    free(path);
}

static void
usermap_with_any_error_is_refused_whole(void)
{
    char *path = write_file("bad.csv",
        "sip:alice@example.com, " ID_A "\n"
        "sip:alice@example.com, " ID_B "\n"
        "sip:@example.com, " ID_B "\n"
        "sip:dave@example.com, not/an/id\n"
        "sip:erin@example.com, " ID_B ", upn, extra\n");
    struct store_user *u = NULL;
    char *err = NULL;
    size_t n = 9;

    CHECK(usermap_read(path, "example.com", &u, &n, &err) == -1);
    CHECK(u == NULL && n == 0);
    CHECK(err != NULL && strstr(err, "bad.csv:2: alice@example.com is"
        " mapped twice (first at "));
    CHECK(err != NULL && strstr(err, "bad.csv:3: 'sip:@example.com' is"
        " not a SIP address"));
    CHECK(err != NULL && strstr(err, "bad.csv:4: 'not/an/id' is not an"
        " Entra object id: it has 'n' at 1 where a hex digit belongs"));
    CHECK(err != NULL && strstr(err, "bad.csv:5: too many fields"));
    free(err);
    free(path);
}

/* Each way an id can fail to be a GUID, with the line and the reason. */
static void
usermap_ids_must_be_guids(void)
{
    static const struct {
        const char *id;
        const char *why;
    } bad[] = {
        { "0a-1", "has '-' at 3 where a hex digit belongs" },
        { "4a5d2c1e-0b7f-4c1a-9e3d", "is too short" },
        { "4a5d2c1e-0b7f-4c1a-9e3d-a11ce00000011", "is too long" },
        { "4a5d2c1e_0b7f-4c1a-9e3d-a11ce0000001",
          "has '_' at 9 where a dash belongs" },
        { "4a5d2c1g-0b7f-4c1a-9e3d-a11ce0000001",
          "has 'g' at 8 where a hex digit belongs" },
        { "", "is too short" },
    };
    struct store_user *u = NULL;
    char *path, *text, *err = NULL, *want;
    size_t i, n = 0;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        text = xasprintf("# users\nsip:alice@example.com, %s\n", bad[i].id);
        path = write_file("ids.csv", text);
        want = xasprintf("ids.csv:2: '%s' is not an Entra object id: it %s"
            " (want a GUID, 8-4-4-4-12 hex digits)", bad[i].id, bad[i].why);
        CHECK(usermap_read(path, "example.com", &u, &n, &err) == -1);
        CHECK(err != NULL && strstr(err, want) != NULL);
        if (err == NULL || strstr(err, want) == NULL)
            fprintf(stderr, "  want: %s\n  got:  %s", want, err);
        free(err);
        err = NULL;
        free(want);
        free(path);
        free(text);
    }
}

/* The same Teams user on two addresses, written in two cases. */
static void
usermap_id_twice_in_any_case_is_refused(void)
{
    char *path = write_file("case.csv",
        "sip:alice@example.com, " ID_A "\n"
        "sip:Alice@example.com, 4A5D2C1E-0B7F-4C1A-9E3D-A11CE0000001\n");
    struct store_user *u = NULL;
    char *err = NULL;
    size_t n = 0;

    CHECK(usermap_read(path, "example.com", &u, &n, &err) == -1);
    CHECK(err != NULL && strstr(err, "case.csv:2: id " ID_A " is already"
        " mapped to alice@example.com (at "));
    CHECK(err != NULL && strstr(err, "case.csv:1)"));
    free(err);
    free(path);
}

static void
usermap_canon_drops_scheme_port_and_params(void)
{
    char out[64];

    CHECK(usermap_canon("sip:bob@Host.Example:5060;transport=tcp", NULL,
        out, sizeof(out)) == 0);
    CHECK_STR(out, "bob@host.example");
    CHECK(usermap_canon("sips:ann@h", NULL, out, sizeof(out)) == 0);
    CHECK_STR(out, "ann@h");
    CHECK(usermap_canon("nobody", NULL, out, sizeof(out)) == -1);
    CHECK(usermap_canon("@h", "d", out, sizeof(out)) == -1);
}

int
main(void)
{
    char cmd[128];

    if (mkdtemp(tmpdir) == NULL)
        return 99;
    log_init("test", 0, LOG_LVL_ERROR);
    TEST_RUN(conf_good_file_loads_with_defaults_and_secret);
    TEST_RUN(conf_reports_every_error_with_its_line);
    TEST_RUN(conf_secret_from_environment);
    TEST_RUN(conf_http_section_checked);
    TEST_RUN(conf_notify_url_https_or_loopback);
    TEST_RUN(usermap_reads_rows_in_every_address_form);
    TEST_RUN(usermap_with_any_error_is_refused_whole);
    TEST_RUN(usermap_ids_must_be_guids);
    TEST_RUN(usermap_id_twice_in_any_case_is_refused);
    TEST_RUN(usermap_canon_drops_scheme_port_and_params);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 99;
    return test_done();
}
