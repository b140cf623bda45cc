/*
 * ctl_login.c: the OAuth 2.0 device authorization grant (RFC 8628) for a
 * service account, on the Microsoft identity platform's
 * /oauth2/v2.0/devicecode and /oauth2/v2.0/token endpoints.
 *
 * The scope asks for delegated Presence.Read.All (what presence
 * subscriptions need, graph-api.md 3.1), offline_access (a refresh
 * token) and openid profile (an id token that names who signed in).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "core.h"
#include "config/conf.h"
#include "ctl/ctl.h"
#include "graph/graph_acct.h"

/* RFC 8628 section 3.2: 5 s when the answer names no interval; 3.5:
 * slow_down adds 5 s. */
#define CTL_INTERVAL_DEFAULT    5
#define CTL_SLOW_DOWN           5
#define CTL_EXPIRES_DEFAULT     900

struct ctl_device {
    char   *d_device_code;
    char   *d_user_code;
    char   *d_uri;
    long    d_interval;
    long    d_expires;
};

static char *
ctl_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0), *out;

    if (e == NULL) {
        fprintf(stderr, "presgwctl: out of memory\n");
        exit(1);
    }
    out = xstrdup(e);
    curl_free(e);
    return out;
}

static char *
ctl_url(const struct conf *c, const char *what)
{
    char *tenant = ctl_escape(c->c_graph_tenant_id);
    char *url = xasprintf("%s/%s/oauth2/v2.0/%s", c->c_graph_login_url,
        tenant, what);

    free(tenant);
    return url;
}

static const char *
ctl_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long
ctl_num(const cJSON *o, const char *name, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    long n;

    if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 86400)
        return (long)v->valuedouble;
    if (cJSON_IsString(v) && parse_long(v->valuestring, 1, 86399, &n) == 0)
        return n;
    return dflt;
}

/* Says why the identity platform refused, from its error JSON. */
static void
ctl_refused(const char *what, long status, const char *body)
{
    cJSON *o = cJSON_Parse(body);
    const char *e = ctl_str(o, "error"), *d = ctl_str(o, "error_description");

    fprintf(stderr, "presgwctl: %s refused (HTTP %ld): %s%s%s\n", what,
        status, e ? e : "no error given", d ? ": " : "", d ? d : "");
    cJSON_Delete(o);
}

/* Asks for a device code; 0 with d filled. */
static int
ctl_device_start(const struct conf *c, const char *scope,
    struct ctl_device *d)
{
    char *url = ctl_url(c, "devicecode");
    char *id = ctl_escape(c->c_graph_client_id);
    char *sc = ctl_escape(scope), *form, *body = NULL;
    cJSON *o = NULL;
    long status;
    int rc = -1;

    form = xasprintf("client_id=%s&scope=%s", id, sc);
    status = ctl_post_form(url, form, c->c_graph_timeout, &body);
    if (status == 0) {
        fprintf(stderr, "presgwctl: %s: %s\n", url, body);
    } else if (status != 200) {
        ctl_refused("device code request", status, body);
    } else {
        o = cJSON_Parse(body);
        if (ctl_str(o, "device_code") != NULL &&
            ctl_str(o, "user_code") != NULL &&
            ctl_str(o, "verification_uri") != NULL) {
            d->d_device_code = xstrdup(ctl_str(o, "device_code"));
            d->d_user_code = xstrdup(ctl_str(o, "user_code"));
            d->d_uri = xstrdup(ctl_str(o, "verification_uri"));
            d->d_interval = ctl_num(o, "interval", CTL_INTERVAL_DEFAULT);
            d->d_expires = ctl_num(o, "expires_in", CTL_EXPIRES_DEFAULT);
            rc = 0;
        } else {
            fprintf(stderr, "presgwctl: the device code answer lacks"
                " device_code, user_code or verification_uri\n");
        }
    }
    cJSON_Delete(o);
    free(body);
    free(form);
    free(sc);
    free(id);
    free(url);
    return rc;
}

/* The claims of a JWT, decoded but not verified: the id token comes
 * straight from the token endpoint (OpenID Connect Core 3.1.3.7). */
static cJSON *
ctl_jwt_claims(const char *jwt)
{
    const char *p = jwt != NULL ? strchr(jwt, '.') : NULL, *end;
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct buf out;
    unsigned acc = 0, bits = 0;
    const char *k;
    char ch;
    cJSON *o;

    if (p == NULL)
        return NULL;
    end = strchr(p + 1, '.');
    if (end == NULL)
        return NULL;
    buf_init(&out, 65536);
    for (p++; p < end; p++) {
        k = strchr(b64, *p);
        if (k == NULL || *p == '\0')
            break;
        acc = (acc << 6) | (unsigned)(k - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ch = (char)((acc >> bits) & 0xff);
            buf_append(&out, &ch, 1);
        }
    }
    o = out.b_data != NULL ? cJSON_Parse(out.b_data) : NULL;
    buf_free(&out);
    return o;
}

/* Who signed in: oid and preferred_username (or upn) of the id token. */
static void
ctl_who(const cJSON *tok, struct graph_acct_rec *r)
{
    cJSON *claims = ctl_jwt_claims(ctl_str(tok, "id_token"));
    const char *oid = ctl_str(claims, "oid");
    const char *upn = ctl_str(claims, "preferred_username");

    if (upn == NULL)
        upn = ctl_str(claims, "upn");
    r->ar_oid = xstrdup(oid != NULL ? oid : "");
    r->ar_upn = xstrdup(upn != NULL ? upn : "");
    cJSON_Delete(claims);
}

enum ctl_poll {
    CTL_POLL_DONE,
    CTL_POLL_PENDING,
    CTL_POLL_SLOW_DOWN,
    CTL_POLL_FAILED
};

/* One poll of the token endpoint (RFC 8628 section 3.4). */
static enum ctl_poll
ctl_device_poll(const struct conf *c, const struct ctl_device *d,
    struct graph_acct_rec *r)
{
    char *url = ctl_url(c, "token"), *id = ctl_escape(c->c_graph_client_id);
    char *dc = ctl_escape(d->d_device_code), *form, *body = NULL;
    enum ctl_poll res = CTL_POLL_FAILED;
    const char *e;
    cJSON *o;
    long status;

    form = xasprintf("grant_type=%s&client_id=%s&device_code=%s",
        "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code", id, dc);
    status = ctl_post_form(url, form, c->c_graph_timeout, &body);
    o = cJSON_Parse(body);
    e = ctl_str(o, "error");
    if (status == 0) {
        /* The network: keep polling until the code expires. */
        fprintf(stderr, "presgwctl: %s: %s (still trying)\n", url, body);
        res = CTL_POLL_PENDING;
    } else if (status == 200 && ctl_str(o, "refresh_token") != NULL) {
        r->ar_refresh = xstrdup(ctl_str(o, "refresh_token"));
        log_add_secret(r->ar_refresh);
        ctl_who(o, r);
        res = CTL_POLL_DONE;
    } else if (status == 200) {
        fprintf(stderr, "presgwctl: the token answer has no refresh token;"
            " is offline_access allowed for the application?\n");
    } else if (e != NULL && strcmp(e, "authorization_pending") == 0) {
        res = CTL_POLL_PENDING;
    } else if (e != NULL && strcmp(e, "slow_down") == 0) {
        res = CTL_POLL_SLOW_DOWN;
    } else {
        ctl_refused("sign-in", status, body);
    }
    cJSON_Delete(o);
    if (body != NULL)
        explicit_bzero(body, strlen(body));
    free(body);
    free(form);
    free(dc);
    free(id);
    free(url);
    return res;
}

static void
ctl_device_free(struct ctl_device *d)
{
    free(d->d_device_code);
    free(d->d_user_code);
    free(d->d_uri);
}

int
ctl_login(const struct conf *c, struct graph_acct_rec *r)
{
    struct ctl_device d;
    char *app_scope = graph_acct_scope(c->c_graph_scope), *scope;
    time_t deadline;
    enum ctl_poll res = CTL_POLL_PENDING;

    memset(&d, 0, sizeof(d));
    scope = xasprintf("%s openid profile", app_scope);
    free(app_scope);
    if (ctl_device_start(c, scope, &d) != 0) {
        free(scope);
        return -1;
    }
    free(scope);
    printf("To sign in the service account, open %s and enter the code"
        " %s\n", d.d_uri, d.d_user_code);
    printf("presgwctl: waiting for the sign-in (code expires in %lds)\n",
        d.d_expires);
    fflush(stdout);

    deadline = time(NULL) + d.d_expires;
    while (res == CTL_POLL_PENDING || res == CTL_POLL_SLOW_DOWN) {
        if (time(NULL) + d.d_interval > deadline) {
            fprintf(stderr, "presgwctl: the code expired before the"
                " sign-in was done\n");
            res = CTL_POLL_FAILED;
            break;
        }
        sleep((unsigned)d.d_interval);
        res = ctl_device_poll(c, &d, r);
        if (res == CTL_POLL_SLOW_DOWN)
            d.d_interval += CTL_SLOW_DOWN;
    }
    ctl_device_free(&d);
    return res == CTL_POLL_DONE ? 0 : -1;
}
