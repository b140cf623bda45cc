/*
 * test_graph_cred.c: the certificate credential, from the configuration
 * file to the token request body: the client assertion it carries is
 * signed by the certificate's key, for the token endpoint, and the secret
 * goes nowhere.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"
#include "graph/graph_cred.h"
#include "config/conf.h"
#include "crypto/crypto_int.h"

#include "testlib.h"
#include "testkeys.h"

#define TOKEN_URL "http://127.0.0.1:9/t1/oauth2/v2.0/token"

static char tmpdir[] = "/tmp/presgw-cred-XXXXXX";
static struct testkey app, other;

static char *
write_conf(const char *name, const char *graph_lines)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");

    fprintf(fp, "[sip]\ndomain = example.com\n[graph]\ntenant_id = t1\n"
        "client_id = c1\n%s[users]\nmap = users.csv\n", graph_lines);
    fclose(fp);
    return path;
}

/* Loads a file whose [graph] has these lines; want: NULL for success,
 * else a text the errors must hold. */
static void
conf_case(const char *lines, const char *want)
{
    char *path = write_conf("cred.conf", lines), *err = NULL;
    struct conf *c = conf_load(path, &err);

    if (want == NULL) {
        CHECK(c != NULL);
        CHECK(c == NULL || c->c_graph_secret == NULL);
        if (err != NULL)
            fprintf(stderr, "  got: %s\n", err);
    } else {
        CHECK(c == NULL);
        CHECK(err != NULL && strstr(err, want) != NULL);
        if (err != NULL && strstr(err, want) == NULL)
            fprintf(stderr, "  got: %s\n", err);
    }
    conf_free(c);
    free(err);
    free(path);
}

static void
conf_certificate_replaces_the_secret(void)
{
    char *lines = xasprintf("client_cert_file = %s\nclient_key_file = %s\n",
        app.tk_cert_file, app.tk_key_file);

    /* No secret file and no PRESGW_CLIENT_SECRET: none is needed. */
    unsetenv("PRESGW_CLIENT_SECRET");
    conf_case(lines, NULL);
    free(lines);
}

static void
conf_reports_bad_certificate_settings(void)
{
    char *l;

    l = xasprintf("client_cert_file = %s\n", app.tk_cert_file);
    conf_case(l, "go together");
    free(l);
    l = xasprintf("client_cert_file = %s/nope.pem\nclient_key_file = %s\n",
        tmpdir, app.tk_key_file);
    conf_case(l, "nope.pem: cannot read certificate");
    free(l);
    l = xasprintf("client_cert_file = %s\nclient_key_file = %s\n",
        app.tk_cert_file, other.tk_key_file);
    conf_case(l, "does not match");
    free(l);
    l = xasprintf("client_cert_file = %s\nclient_key_file = %s\n",
        app.tk_key_file, app.tk_key_file);
    conf_case(l, "no PEM certificate");
    free(l);
    l = xasprintf("client_secret_file = secret\nclient_cert_file = %s\n"
        "client_key_file = %s\n", app.tk_cert_file, app.tk_key_file);
    conf_case(l, "exclude each other");
    free(l);
}

static struct graph_conf
cert_conf(const char *cert, const char *key)
{
    struct graph_conf gc;

    memset(&gc, 0, sizeof(gc));
    gc.gc_client_id = "c1";
    gc.gc_client_secret = "";
    gc.gc_client_cert_file = cert;
    gc.gc_client_key_file = key;
    return gc;
}

/* The value of name in an x-www-form-urlencoded body, decoded. */
static char *
form_value(const char *body, const char *name)
{
    size_t n = strlen(name), i, o = 0;
    const char *p = body, *v;
    char *out;

    while (p != NULL && !(strncmp(p, name, n) == 0 && p[n] == '=')) {
        p = strchr(p, '&');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p == NULL)
        return NULL;
    v = p + n + 1;
    out = xmalloc(strlen(v) + 1);
    for (i = 0; v[i] != '\0' && v[i] != '&'; i++) {
        unsigned hex;

        if (v[i] == '%' && sscanf(v + i + 1, "%2x", &hex) == 1) {
            out[o++] = (char)hex;
            i += 2;
        } else {
            out[o++] = v[i];
        }
    }
    out[o] = '\0';
    return out;
}

static void
token_body_carries_an_assertion_for_the_endpoint(void)
{
    struct graph_conf gc = cert_conf(app.tk_cert_file, app.tk_key_file);
    struct crypto_jwt_parts p;
    struct buf body;
    char *err = NULL, *type, *jwt;
    cJSON *claims = NULL;

    buf_init(&body, 8192);
    buf_puts(&body, "grant_type=client_credentials&client_id=c1");
    CHECK(graph_cred_append(&gc, TOKEN_URL, 1700000000, &body, &err) == 0);
    CHECK(err == NULL);
    CHECK(strstr(body.b_data, "client_secret") == NULL);
    type = form_value(body.b_data, "client_assertion_type");
    jwt = form_value(body.b_data, "client_assertion");
    CHECK_STR(type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    CHECK(jwt != NULL && crypto_jwt_split(jwt, &p, NULL) == 0);
    if (jwt != NULL && p.jp_claims != NULL) {
        CHECK(crypto_jwt_rs256_verify(X509_get0_pubkey(app.tk_cert), jwt,
            p.jp_signed_len, p.jp_sig, p.jp_sig_len) == 0);
        claims = cJSON_Parse(p.jp_claims);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(claims, "aud")),
            TOKEN_URL);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(claims, "iss")),
            "c1");
        crypto_jwt_parts_free(&p);
    }
    cJSON_Delete(claims);
    free(type);
    free(jwt);
    buf_free(&body);
}

static void
token_body_with_a_secret_is_unchanged(void)
{
    struct graph_conf gc = cert_conf("", "");
    struct buf body;
    char *err = NULL;

    gc.gc_client_secret = "s3cret&=";
    buf_init(&body, 8192);
    CHECK(graph_cred_append(&gc, TOKEN_URL, 1700000000, &body, &err) == 0);
    CHECK_STR(body.b_data, "&client_secret=s3cret%26%3D");
    buf_free(&body);
}

static void
token_body_with_an_unreadable_key_is_an_error(void)
{
    char *gone = xasprintf("%s/gone-key.pem", tmpdir);
    struct graph_conf gc = cert_conf(app.tk_cert_file, gone);
    struct buf body;
    char *err = NULL;

    buf_init(&body, 8192);
    CHECK(graph_cred_append(&gc, TOKEN_URL, 1700000000, &body, &err) == -1);
    CHECK(err != NULL && strstr(err, "gone-key.pem") != NULL);
    CHECK(body.b_data == NULL || strstr(body.b_data, "assertion") == NULL);
    free(err);
    free(gone);
    buf_free(&body);
}

int
main(void)
{
    char cmd[128];
    int rc;

    if (mkdtemp(tmpdir) == NULL)
        return 99;
    log_init("test", 0, LOG_LVL_ERROR);
    if (testkeys_make(&app, tmpdir, "app", 2048) < 0 ||
        testkeys_make(&other, tmpdir, "other", 2048) < 0)
        return 99;
    TEST_RUN(conf_certificate_replaces_the_secret);
    TEST_RUN(conf_reports_bad_certificate_settings);
    TEST_RUN(token_body_carries_an_assertion_for_the_endpoint);
    TEST_RUN(token_body_with_a_secret_is_unchanged);
    TEST_RUN(token_body_with_an_unreadable_key_is_an_error);
    testkeys_free(&app);
    testkeys_free(&other);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    rc = system(cmd);
    (void)rc;
    return test_done();
}
