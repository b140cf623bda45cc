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
        "sip:Alice@Example.COM, 0a-1, alice@x\n"
        "bob@example.com,0b-2\n"
        "carol;x=y, 0c-3, c@x\n"
        "\n");
    struct store_user *u = NULL;
    char *err = NULL;
    size_t n = 0;

    CHECK(usermap_read(path, "example.com", &u, &n, &err) == 0);
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STR(u[0].su_aor, "Alice@example.com");
        CHECK_STR(u[0].su_id, "0a-1");
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
        "sip:alice@example.com, 0a-1\n"
        "sip:alice@example.com, 0a-2\n"
        "sip:@example.com, 0d\n"
        "sip:dave@example.com, not/an/id\n"
        "sip:erin@example.com, 0e, upn, extra\n");
    struct store_user *u = NULL;
    char *err = NULL;
    size_t n = 9;

    CHECK(usermap_read(path, "example.com", &u, &n, &err) == -1);
    CHECK(u == NULL && n == 0);
    CHECK(err != NULL && strstr(err, "bad.csv:2: alice@example.com is"
        " mapped twice"));
    CHECK(err != NULL && strstr(err, "bad.csv:3: 'sip:@example.com' is"
        " not a SIP address"));
    CHECK(err != NULL && strstr(err, "bad.csv:4: 'not/an/id' is not an"
        " Entra object id"));
    CHECK(err != NULL && strstr(err, "bad.csv:5: too many fields"));
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
    TEST_RUN(usermap_reads_rows_in_every_address_form);
    TEST_RUN(usermap_with_any_error_is_refused_whole);
    TEST_RUN(usermap_canon_drops_scheme_port_and_params);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 99;
    return test_done();
}
