/*
 * graph_subs_ops.c: the Graph requests of a subscription (graph-api.md
 * 3.2): POST /subscriptions to create, PATCH to renew, GET to find the
 * one a 409 speaks of, DELETE.  Each runs with its account's delegated
 * token; each answer moves the subscription on and asks for a new step.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "graph/graph_subs_int.h"
#include "crypto/crypto.h"
#include "store/store.h"

static void graph_sub_done(void *arg, const struct graph_resp *rs);

/* ISO 8601 UTC, as Graph writes it. */
static void
graph_sub_time(char *out, size_t len, time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%S.0000000Z", &tm);
}

/* "2023-09-14T10:00:00.0000000Z" to seconds; 0 when it is not that. */
static time_t
graph_sub_parse_time(const char *s)
{
    struct tm tm;
    const char *end;

    if (s == NULL)
        return 0;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return 0;
    return timegm(&tm);
}

void
graph_subs_renew_plan(struct graph_sub *sb, time_t life)
{
    sb->sb_renew_at = sb->sb_expires - (life > 0 ? life / 3 : 0);
}

/* The resource: graph-api.md 3.1, the quoted "id in (...)" form. */
static char *
graph_sub_resource(const struct graph_sub *sb)
{
    struct buf b;
    size_t i;

    buf_init(&b, 64 * 1024);
    buf_puts(&b, "/communications/presences?$filter=id in (");
    for (i = 0; i < sb->sb_n; i++)
        buf_printf(&b, "%s'%s'", i > 0 ? "," : "", sb->sb_users[i]);
    buf_puts(&b, ")");
    return buf_steal(&b);
}

/* The lifecycle URL: set, or notify_url with our paths swapped. */
static char *
graph_sub_lifecycle_url(const struct graph_conf *c)
{
    return xstrdup(c->gc_lifecycle_url[0] != '\0' ? c->gc_lifecycle_url :
        c->gc_notify_url);
}

/* graph-api.md 3.1 and 3.6: rich notifications, encrypted to our
 * certificate, named by its thumbprint. */
static void
graph_sub_rich(cJSON *o, const struct crypto_key *k)
{
    cJSON_AddBoolToObject(o, "includeResourceData", k != NULL);
    if (k == NULL)
        return;
    cJSON_AddStringToObject(o, "encryptionCertificate",
        crypto_key_cert_b64(k));
    cJSON_AddStringToObject(o, "encryptionCertificateId",
        crypto_key_thumbprint(k));
}

static char *
graph_sub_create_body(struct graph_sub *sb, const struct graph_conf *c)
{
    char when[40], *res = graph_sub_resource(sb), *text, *out;
    char *life = graph_sub_lifecycle_url(c);
    cJSON *o = cJSON_CreateObject();

    graph_sub_time(when, sizeof(when), graph_subs_graph_now(sb->sb_subs) +
        c->gc_sub_lifetime);
    cJSON_AddStringToObject(o, "changeType", "updated");
    cJSON_AddStringToObject(o, "notificationUrl", c->gc_notify_url);
    cJSON_AddStringToObject(o, "lifecycleNotificationUrl", life);
    cJSON_AddStringToObject(o, "resource", res);
    cJSON_AddStringToObject(o, "expirationDateTime", when);
    cJSON_AddStringToObject(o, "clientState", sb->sb_secret);
    graph_sub_rich(o, sb->sb_subs->s_key);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(res);
    free(life);
    out = xstrdup(text != NULL ? text : "{}");
    if (text != NULL) {
        explicit_bzero(text, strlen(text));
        cJSON_free(text);
    }
    return out;
}

/* Sends method to url with the account's token; 0 when it went out. */
static int
graph_sub_send(struct graph_sub *sb, const char *method, const char *url,
    const char *body, enum graph_sub_state st)
{
    struct graph *g = sb->sb_subs->s_g;
    const char *tok = graph_accts_token(g, sb->sb_account, &sb->sb_gen);

    if (tok == NULL)
        return -1;      /* the token's arrival kicks us */
    sb->sb_req = graph_http_request(g->g_http, method, url,
        body != NULL ? "application/json" : NULL, body, tok,
        g->g_conf.gc_timeout, graph_sub_done, sb);
    if (sb->sb_req == NULL)
        return -1;
    graph_sub_set_state(sb, st);
    return 0;
}

static char *
graph_sub_url(const struct graph_sub *sb, const char *id)
{
    const char *base = sb->sb_subs->s_g->g_conf.gc_graph_url;

    if (id == NULL)
        return xasprintf("%s/subscriptions", base);
    return xasprintf("%s/subscriptions/%s", base, id);
}

static void
graph_sub_create(struct graph_sub *sb)
{
    const struct graph_conf *c = &sb->sb_subs->s_g->g_conf;
    char *url = graph_sub_url(sb, NULL), *body;

    if (sb->sb_secret[0] == '\0' && graph_sub_new_secret(sb) != 0) {
        free(url);
        return;
    }
    body = graph_sub_create_body(sb, c);
    if (graph_sub_send(sb, "POST", url, body, GRAPH_SUB_CREATING) == 0)
        log_info("graph sub-create account=%s users=%zu rich=%s",
            sb->sb_account, sb->sb_n,
            sb->sb_subs->s_key != NULL ? "yes" : "no");
    explicit_bzero(body, strlen(body));
    free(body);
    free(url);
}

static void
graph_sub_renew(struct graph_sub *sb)
{
    const struct graph_conf *c = &sb->sb_subs->s_g->g_conf;
    char when[40], *url = graph_sub_url(sb, sb->sb_id), *body;

    graph_sub_time(when, sizeof(when), graph_subs_graph_now(sb->sb_subs) +
        c->gc_sub_lifetime);
    body = xasprintf("{\"expirationDateTime\":\"%s\"}", when);
    if (graph_sub_send(sb, "PATCH", url, body, GRAPH_SUB_RENEWING) == 0)
        log_info("graph sub-renew account=%s sub=%s", sb->sb_account,
            sb->sb_id);
    free(body);
    free(url);
}

static void
graph_sub_delete(struct graph_sub *sb, const char *id)
{
    char *url = graph_sub_url(sb, id);

    if (graph_sub_send(sb, "DELETE", url, NULL, GRAPH_SUB_DELETING) == 0)
        log_info("graph sub-delete account=%s sub=%s", sb->sb_account, id);
    free(url);
}

static void
graph_sub_list(struct graph_sub *sb)
{
    char *url = graph_sub_url(sb, NULL);

    if (graph_sub_send(sb, "GET", url, NULL, GRAPH_SUB_LISTING) == 0)
        log_info("graph sub-list account=%s reason=conflict",
            sb->sb_account);
    free(url);
}

/* Graph ends a subscription at its expiry: a new one, new secret. */
static void
graph_sub_expired(struct graph_sub *sb, time_t gnow)
{
    log_info("graph sub-expired account=%s sub=%s ago=%lld action=recreate",
        sb->sb_account, sb->sb_id, (long long)(gnow - sb->sb_expires));
    sb->sb_id[0] = '\0';
    sb->sb_secret[0] = '\0';
    graph_subs_forget(sb);
    graph_sub_set_state(sb, GRAPH_SUB_NEW);
}

int64_t
graph_sub_act(struct graph_sub *sb, int64_t now)
{
    struct graph *g = sb->sb_subs->s_g;
    time_t gnow = graph_subs_graph_now(sb->sb_subs);

    if (now < sb->sb_not_before)
        return sb->sb_not_before;
    if (!sb->sb_wanted) {
        if (!graph_accts_usable(g, sb->sb_account)) {
            /* No token to delete it with; Graph ends it at expiry. */
            log_info("graph sub-dropped account=%s sub=%s reason=account",
                sb->sb_account, sb->sb_id);
            sb->sb_id[0] = '\0';
            return now;
        }
        graph_sub_delete(sb, sb->sb_id);
        return -1;
    }
    if (sb->sb_id[0] != '\0' && gnow >= sb->sb_expires)
        graph_sub_expired(sb, gnow);
    if (sb->sb_id[0] == '\0') {
        graph_sub_create(sb);
        return -1;
    }
    if (sb->sb_renew_now || gnow >= sb->sb_renew_at ||
        sb->sb_state != GRAPH_SUB_LIVE) {
        graph_sub_renew(sb);
        return -1;
    }
    return now + (int64_t)(sb->sb_renew_at - gnow) * 1000;
}

static const char *
graph_sub_op_name(enum graph_sub_state st)
{
    switch (st) {
    case GRAPH_SUB_CREATING: return "create";
    case GRAPH_SUB_RENEWING: return "renew";
    case GRAPH_SUB_LISTING:  return "list";
    case GRAPH_SUB_DELETING: return "delete";
    default:                 return "-";
    }
}

/* A failed request: try again after Retry-After or a backoff. */
static void
graph_sub_failed(struct graph_sub *sb, const struct graph_resp *rs)
{
    struct graph *g = sb->sb_subs->s_g;
    char code[64], after[32];
    int64_t delay;

    graph_http_error_code(rs->rs_body, rs->rs_len, code, sizeof(code));
    sb->sb_failures++;
    delay = graph_rate_delay_ms(rs->rs_retry_after, sb->sb_failures,
        clock_now(), graph_random(g));
    graph_fmt_delay(after, sizeof(after), delay);
    log_warn("graph sub-failed op=%s account=%s status=%ld code=%s "
        "reason=\"%s\" after=%s", graph_sub_op_name(sb->sb_state),
        sb->sb_account, rs->rs_status, code, rs->rs_error, after);
    sb->sb_not_before = clock_now_ms() + delay;
    graph_sub_set_state(sb, GRAPH_SUB_IDLE);
}

/* 201 to a POST, 200 to a PATCH: Graph's subscription. */
static void
graph_sub_granted(struct graph_sub *sb, const struct graph_resp *rs)
{
    cJSON *o = cJSON_ParseWithLength(rs->rs_body, rs->rs_len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o,
        "expirationDateTime");
    int created = sb->sb_state == GRAPH_SUB_CREATING;
    time_t t = cJSON_IsString(exp) ? graph_sub_parse_time(exp->valuestring) :
        0;
    time_t gnow = graph_subs_graph_now(sb->sb_subs);
    time_t life = sb->sb_subs->s_g->g_conf.gc_sub_lifetime;

    if (created && (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
        strlen(id->valuestring) >= sizeof(sb->sb_id))) {
        cJSON_Delete(o);
        graph_sub_failed(sb, rs);
        return;
    }
    if (created)
        xstrlcpy(sb->sb_id, id->valuestring, sizeof(sb->sb_id));
    cJSON_Delete(o);
    /* Graph may grant less than asked; more than asked counts as what
     * was asked. */
    if (t <= gnow || t > gnow + life)
        t = gnow + life;
    sb->sb_expires = t;
    sb->sb_failures = 0;
    sb->sb_renew_now = 0;
    graph_subs_renew_plan(sb, t - gnow);
    graph_sub_set_state(sb, GRAPH_SUB_LIVE);
    graph_subs_save(sb);
    log_info("graph sub-%s account=%s sub=%s users=%zu expires_in=%lld",
        created ? "created" : "renewed", sb->sb_account, sb->sb_id, sb->sb_n,
        (long long)(sb->sb_expires - gnow));
}

/* After a 409: the subscription Graph already has for this account and
 * our URL is deleted, then ours created. */
static void
graph_sub_listed(struct graph_sub *sb, const struct graph_resp *rs)
{
    const struct graph_conf *c = &sb->sb_subs->s_g->g_conf;
    cJSON *o = cJSON_ParseWithLength(rs->rs_body, rs->rs_len), *it;
    const cJSON *id, *url;
    char found[GRAPH_SUB_ID_LEN] = "";

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "value")) {
        id = cJSON_GetObjectItemCaseSensitive(it, "id");
        url = cJSON_GetObjectItemCaseSensitive(it, "notificationUrl");
        if (cJSON_IsString(id) && cJSON_IsString(url) &&
            strcmp(url->valuestring, c->gc_notify_url) == 0 &&
            strlen(id->valuestring) < sizeof(found)) {
            xstrlcpy(found, id->valuestring, sizeof(found));
            break;
        }
    }
    cJSON_Delete(o);
    graph_sub_set_state(sb, GRAPH_SUB_IDLE);
    if (found[0] == '\0') {
        log_warn("graph sub-conflict-unknown account=%s", sb->sb_account);
        graph_sub_failed(sb, rs);
        return;
    }
    log_info("graph sub-conflict account=%s existing=%s action=replace",
        sb->sb_account, found);
    sb->sb_recreate = 1;
    graph_sub_delete(sb, found);
}

static void
graph_sub_deleted(struct graph_sub *sb)
{
    log_info("graph sub-deleted account=%s sub=%s", sb->sb_account,
        sb->sb_id[0] != '\0' && !sb->sb_recreate ? sb->sb_id : "-");
    graph_sub_set_state(sb, GRAPH_SUB_NEW);
    if (sb->sb_recreate) {
        sb->sb_recreate = 0;
        return;
    }
    sb->sb_id[0] = '\0';
    graph_subs_forget(sb);
}

/* Graph no longer has it (404 to a PATCH): a new one, new secret. */
static void
graph_sub_lost(struct graph_sub *sb)
{
    log_info("graph sub-gone account=%s sub=%s action=recreate",
        sb->sb_account, sb->sb_id);
    sb->sb_id[0] = '\0';
    sb->sb_secret[0] = '\0';
    graph_subs_forget(sb);
    graph_sub_set_state(sb, GRAPH_SUB_NEW);
}

static void
graph_sub_done(void *arg, const struct graph_resp *rs)
{
    struct graph_sub *sb = arg;
    struct graph *g = sb->sb_subs->s_g;
    long st = rs->rs_status;

    sb->sb_req = NULL;
    graph_subs_clock(g, rs->rs_date);
    if (st == 401) {
        graph_accts_drop(g, sb->sb_account, sb->sb_gen);
        graph_sub_failed(sb, rs);
    } else if (sb->sb_state == GRAPH_SUB_CREATING && st == 201) {
        graph_sub_granted(sb, rs);
    } else if (sb->sb_state == GRAPH_SUB_CREATING && st == 409) {
        graph_sub_set_state(sb, GRAPH_SUB_IDLE);
        graph_sub_list(sb);
    } else if (sb->sb_state == GRAPH_SUB_RENEWING && st == 200) {
        graph_sub_granted(sb, rs);
    } else if (sb->sb_state == GRAPH_SUB_RENEWING && st == 404) {
        graph_sub_lost(sb);
    } else if (sb->sb_state == GRAPH_SUB_LISTING && st == 200) {
        graph_sub_listed(sb, rs);
    } else if (sb->sb_state == GRAPH_SUB_DELETING &&
        (st == 204 || st == 200 || st == 404)) {
        graph_sub_deleted(sb);
    } else {
        graph_sub_failed(sb, rs);
    }
    graph_subs_kick(g);
}
