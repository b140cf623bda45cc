/*
 * graph_subs.c: change notification subscriptions for the watched users
 * (graph-api.md 3.1 and 3.2).
 *
 * Presence subscriptions take a delegated token, one subscription per
 * application and service account, at most 650 users each.  So the
 * watched ids, sorted, are cut into slices of 650 and slice i goes to the
 * i-th usable account in name order: 651 users need two accounts.  Users
 * no slice can take (too few accounts) stay with the plain poll, and the
 * log names them.
 *
 * Each subscription is a small state machine driven by one timer:
 * created (POST), renewed at two thirds of its life (PATCH; renewing also
 * re-authorizes), created again when Graph no longer knows it (404),
 * taken over when Graph says one exists already (409: listed, deleted,
 * created again, since its clientState is not ours to know), and deleted
 * when its account or its users change.  Each one is kept in the store
 * (namespace "gsub", key the account) with its clientState, a random
 * secret Graph echoes in every notification, so a restart reuses it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cJSON.h>

struct graph_subs;
#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  struct graph_subs
#include "graph/graph_int.h"
#include "graph/graph_subs_int.h"
#include "crypto/crypto.h"
#include "store/store.h"

#define GRAPH_SUBS_NS           "gsub"
#define GRAPH_SUBS_MAX          256     /* accounts used at most */

static const char *const graph_sub_state_names[] = {
    "new", "creating", "live", "renewing", "listing", "deleting", "idle"
};

const char *
graph_sub_state_name(enum graph_sub_state st)
{
    return graph_sub_state_names[st];
}

void
graph_sub_set_state(struct graph_sub *sb, enum graph_sub_state st)
{
    if (sb->sb_state == st)
        return;
    log_debug("graph sub-state account=%s sub=%s old=%s new=%s",
        sb->sb_account, sb->sb_id[0] != '\0' ? sb->sb_id : "-",
        graph_sub_state_name(sb->sb_state), graph_sub_state_name(st));
    sb->sb_state = st;
}

static void
graph_sub_users_free(struct graph_sub *sb)
{
    size_t i;

    for (i = 0; i < sb->sb_n; i++)
        free(sb->sb_users[i]);
    free(sb->sb_users);
    sb->sb_users = NULL;
    sb->sb_n = 0;
}

static void
graph_sub_free(struct graph_sub *sb)
{
    graph_http_cancel(sb->sb_req);
    graph_sub_users_free(sb);
    explicit_bzero(sb->sb_secret, sizeof(sb->sb_secret));
    free(sb->sb_account);
    free(sb);
}

struct graph_subs *
graph_subs_create(struct graph *g)
{
    struct graph_subs *s = xcalloc(1, sizeof(*s));

    s->s_g = g;
    s->s_jwks = graph_jwks_create(g);
    s->s_replay = graph_replay_create();
    s->s_timer = su_timer_create(su_root_task(g->g_root), 0);
    if (s->s_timer == NULL) {
        graph_jwks_free(s->s_jwks);
        graph_replay_free(s->s_replay);
        free(s);
        return NULL;
    }
    return s;
}

static void
graph_subs_watch_free(struct graph_subs *s)
{
    size_t i;

    for (i = 0; i < s->s_nwatch; i++)
        free(s->s_watch[i]);
    free(s->s_watch);
    s->s_watch = NULL;
    s->s_nwatch = 0;
}

void
graph_subs_free(struct graph_subs *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->s_n; i++)
        graph_sub_free(s->s_v[i]);
    free(s->s_v);
    graph_subs_watch_free(s);
    su_timer_destroy(s->s_timer);
    graph_jwks_free(s->s_jwks);
    graph_replay_free(s->s_replay);
    crypto_key_free(s->s_key);
    free(s);
}

/* On: settings, cloud, a store and at least one account. */
static int
graph_subs_enabled(const struct graph *g)
{
    return g->g_conf.gc_notify_url[0] != '\0' && g->g_conf.gc_cloud_notify &&
        g->g_store != NULL && graph_accts_count(g) > 0;
}

struct graph_sub *
graph_subs_find_id(const struct graph *g, const char *id)
{
    const struct graph_subs *s = g->g_subs;
    size_t i;

    if (s == NULL || id == NULL || id[0] == '\0')
        return NULL;
    for (i = 0; i < s->s_n; i++)
        if (strcmp(s->s_v[i]->sb_id, id) == 0)
            return s->s_v[i];
    return NULL;
}

static struct graph_sub *
graph_subs_find_account(const struct graph_subs *s, const char *account)
{
    size_t i;

    for (i = 0; i < s->s_n; i++)
        if (strcmp(s->s_v[i]->sb_account, account) == 0)
            return s->s_v[i];
    return NULL;
}

static struct graph_sub *
graph_subs_add(struct graph_subs *s, const char *account)
{
    struct graph_sub *sb = xcalloc(1, sizeof(*sb));

    sb->sb_subs = s;
    sb->sb_account = xstrdup(account);
    s->s_v = xrealloc(s->s_v, (s->s_n + 1) * sizeof(*s->s_v));
    s->s_v[s->s_n++] = sb;
    return sb;
}

static void
graph_subs_remove(struct graph_subs *s, struct graph_sub *sb)
{
    size_t i;

    for (i = 0; i < s->s_n; i++) {
        if (s->s_v[i] != sb)
            continue;
        s->s_v[i] = s->s_v[--s->s_n];
        break;
    }
    graph_sub_free(sb);
}

/* A new clientState: 32 random bytes in hex (graph-api.md 3.2: at most
 * 128 characters). */
int
graph_sub_new_secret(struct graph_sub *sb)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[32];
    size_t i;

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        log_error("graph sub-secret-failed account=%s", sb->sb_account);
        return -1;
    }
    for (i = 0; i < sizeof(r); i++) {
        sb->sb_secret[2 * i] = hex[r[i] >> 4];
        sb->sb_secret[2 * i + 1] = hex[r[i] & 15];
    }
    sb->sb_secret[2 * sizeof(r)] = '\0';
    explicit_bzero(r, sizeof(r));
    return 0;
}

void
graph_subs_save(struct graph_sub *sb)
{
    struct graph *g = sb->sb_subs->s_g;
    cJSON *o = cJSON_CreateObject(), *users;
    char *text;

    cJSON_AddStringToObject(o, "id", sb->sb_id);
    cJSON_AddStringToObject(o, "client_state", sb->sb_secret);
    cJSON_AddNumberToObject(o, "expires", (double)sb->sb_expires);
    users = cJSON_CreateStringArray((const char *const *)sb->sb_users,
        (int)sb->sb_n);
    cJSON_AddItemToObject(o, "users", users);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL || store_rec_put(g->g_store, GRAPH_SUBS_NS,
        sb->sb_account, text) != 0)
        log_error("graph sub-save-failed account=%s", sb->sb_account);
    if (text != NULL) {
        explicit_bzero(text, strlen(text));
        cJSON_free(text);
    }
}

/* After the store failed for a while: every subscription written anew. */
void
graph_subs_resync(struct graph *g)
{
    struct graph_subs *s = g->g_subs;
    size_t i;

    if (s == NULL || g->g_store == NULL)
        return;
    store_rec_clear(g->g_store, GRAPH_SUBS_NS);
    for (i = 0; i < s->s_n; i++)
        if (s->s_v[i]->sb_id[0] != '\0')
            graph_subs_save(s->s_v[i]);
}

void
graph_subs_forget(struct graph_sub *sb)
{
    struct graph *g = sb->sb_subs->s_g;

    if (store_rec_del(g->g_store, GRAPH_SUBS_NS, sb->sb_account) != 0)
        log_error("graph sub-save-failed account=%s", sb->sb_account);
}

/* A stored subscription: reused while Graph still has it. */
static void
graph_subs_restore_one(void *arg, const char *key, const char *value)
{
    struct graph_subs *s = arg;
    cJSON *o = cJSON_Parse(value), *users, *u;
    const cJSON *id, *cs, *exp;
    struct graph_sub *sb;

    id = cJSON_GetObjectItemCaseSensitive(o, "id");
    cs = cJSON_GetObjectItemCaseSensitive(o, "client_state");
    exp = cJSON_GetObjectItemCaseSensitive(o, "expires");
    users = cJSON_GetObjectItemCaseSensitive(o, "users");
    if (!cJSON_IsString(id) || !cJSON_IsString(cs) ||
        !cJSON_IsNumber(exp) || !cJSON_IsArray(users) ||
        strlen(cs->valuestring) >= sizeof(sb->sb_secret) ||
        strlen(id->valuestring) >= sizeof(sb->sb_id) ||
        graph_subs_find_account(s, key) != NULL) {
        log_warn("graph sub-bad-record account=%s", key);
        cJSON_Delete(o);
        return;
    }
    sb = graph_subs_add(s, key);
    xstrlcpy(sb->sb_id, id->valuestring, sizeof(sb->sb_id));
    xstrlcpy(sb->sb_secret, cs->valuestring, sizeof(sb->sb_secret));
    sb->sb_expires = (time_t)exp->valuedouble;
    sb->sb_users = xcalloc((size_t)cJSON_GetArraySize(users) + 1,
        sizeof(char *));
    cJSON_ArrayForEach(u, users) {
        if (cJSON_IsString(u))
            sb->sb_users[sb->sb_n++] = xstrdup(u->valuestring);
    }
    cJSON_Delete(o);
    graph_sub_set_state(sb, GRAPH_SUB_LIVE);
    graph_subs_renew_plan(sb, s->s_g->g_conf.gc_sub_lifetime);
    log_info("graph sub-restored account=%s sub=%s users=%zu expires_in=%lld",
        key, sb->sb_id, sb->sb_n,
        (long long)(sb->sb_expires - graph_subs_graph_now(s)));
}

void
graph_subs_reconfigure(struct graph *g)
{
    struct graph_subs *s = g->g_subs;

    graph_notify_rich_key(s);
    if (g->g_store != NULL && !s->s_restored) {
        s->s_restored = 1;
        store_rec_each(g->g_store, GRAPH_SUBS_NS, graph_subs_restore_one,
            s);
    }
    if (g->g_conf.gc_notify_url[0] != '\0' && !g->g_conf.gc_cloud_notify &&
        !s->s_cloud_said) {
        s->s_cloud_said = 1;
        log_warn("graph cloud-no-notifications cloud=%s "
            "note=\"presence change notifications exist in the global "
            "cloud only; polling instead\"", g->g_conf.gc_cloud);
    }
    graph_subs_kick(g);
}

static int
graph_subs_idcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
graph_subs_watch(struct graph *g, const char *const *ids, size_t n)
{
    struct graph_subs *s = g->g_subs;
    size_t i;

    graph_subs_watch_free(s);
    s->s_watch = xcalloc(n + 1, sizeof(char *));
    for (i = 0; i < n; i++)
        if (ids[i] != NULL && ids[i][0] != '\0')
            s->s_watch[s->s_nwatch++] = xstrdup(ids[i]);
    qsort(s->s_watch, s->s_nwatch, sizeof(char *), graph_subs_idcmp);
    graph_subs_kick(g);
}

int
graph_subs_active(const struct graph *g)
{
    return g->g_subs != NULL && g->g_subs->s_active;
}

time_t
graph_subs_graph_now(const struct graph_subs *s)
{
    return clock_now() + s->s_skew;
}

/*
 * Graph's clock, from the Date header of its answers: expirationDateTime
 * is on that clock, so a daemon whose clock is off would ask for a time
 * Graph takes as past or too far ahead, and would renew late.  A move of
 * more than a second (Date has no finer grain) plans every subscription
 * again.
 */
void
graph_subs_clock(struct graph *g, time_t date)
{
    struct graph_subs *s = g->g_subs;
    time_t skew;

    if (s == NULL || date <= 0)
        return;
    skew = date - clock_now();
    if (skew >= s->s_skew - 1 && skew <= s->s_skew + 1)
        return;
    if (skew - s->s_skew > 60 || s->s_skew - skew > 60)
        log_info("graph clock skew=%lld old=%lld", (long long)skew,
            (long long)s->s_skew);
    s->s_skew = skew;
    graph_subs_kick(g);
}

static void
graph_subs_timer(su_root_magic_t *magic, su_timer_t *t,
    struct graph_subs *s)
{
    (void)magic;
    (void)t;
    graph_subs_step(s);
}

void
graph_subs_kick(struct graph *g)
{
    struct graph_subs *s = g->g_subs;

    /* From a callback: the step runs from the loop, once. */
    if (s == NULL)
        return;
    su_timer_reset(s->s_timer);
    if (su_timer_set_interval(s->s_timer, graph_subs_timer, s, 0) < 0)
        log_error("graph timer-failed what=subs");
}

void
graph_subs_arm(struct graph_subs *s, int64_t due_ms)
{
    int64_t now = clock_now_ms(), ms = due_ms - now;

    if (ms < 0)
        ms = 0;
    if (ms > 3600000)
        ms = 3600000;
    su_timer_reset(s->s_timer);
    if (su_timer_set_interval(s->s_timer, graph_subs_timer, s,
        (su_duration_t)ms) < 0)
        log_error("graph timer-failed what=subs");
}

/* The users slice i of the watched set should have. */
static void
graph_subs_slice(const struct graph_subs *s, size_t i, size_t *first,
    size_t *n)
{
    size_t start = i * GRAPH_CHUNK_IDS;

    *first = start;
    *n = start >= s->s_nwatch ? 0 : s->s_nwatch - start;
    if (*n > GRAPH_CHUNK_IDS)
        *n = GRAPH_CHUNK_IDS;
}

static int
graph_sub_has(const struct graph_sub *sb, char *const *ids, size_t n)
{
    size_t i;

    if (sb->sb_n != n)
        return 0;
    for (i = 0; i < n; i++)
        if (strcmp(sb->sb_users[i], ids[i]) != 0)
            return 0;
    return 1;
}

static void
graph_sub_set_users(struct graph_sub *sb, char *const *ids, size_t n)
{
    size_t i;

    graph_sub_users_free(sb);
    sb->sb_users = xcalloc(n + 1, sizeof(char *));
    for (i = 0; i < n; i++)
        sb->sb_users[i] = xstrdup(ids[i]);
    sb->sb_n = n;
}

/*
 * Says which users no account's slice takes: the ids past the last
 * slice, in id order, so the first and the last name them all.  Said
 * again whenever their number changes, and once when all are covered.
 */
static void
graph_subs_say_short(struct graph_subs *s, int on, size_t nacct)
{
    const struct graph_conf *c = &s->s_g->g_conf;
    size_t taken = nacct * GRAPH_CHUNK_IDS, i;

    if (!on || taken >= s->s_nwatch) {
        if (on && s->s_short != 0)
            log_info("graph subs-covered users=%zu accounts=%zu",
                s->s_nwatch, nacct);
        s->s_short = 0;
        return;
    }
    if (s->s_short == s->s_nwatch - taken)
        return;
    s->s_short = s->s_nwatch - taken;
    log_warn("graph subs-short users=%zu accounts=%zu needed=%zu "
        "uncovered=%zu first=%s last=%s polled=%s", s->s_nwatch, nacct,
        (s->s_nwatch + GRAPH_CHUNK_IDS - 1) / GRAPH_CHUNK_IDS, s->s_short,
        s->s_watch[taken], s->s_watch[s->s_nwatch - 1],
        c->gc_poll_interval > 0 ? "yes" : "no");
    for (i = taken; i < s->s_nwatch; i++)
        log_debug("graph subs-uncovered user=%s", s->s_watch[i]);
}

/*
 * Matches subscriptions to what is wanted: the slice of each usable
 * account.  One that is wrong (account gone or needing sign-in, other
 * users) is deleted; a missing one is created once its account is free.
 */
static void
graph_subs_plan(struct graph_subs *s)
{
    struct graph *g = s->s_g;
    const char *names[GRAPH_SUBS_MAX];
    size_t nacct = 0, i, first, n, covered = 0;
    struct graph_sub *sb;
    int on = graph_subs_enabled(g);

    if (on)
        nacct = graph_accts_names(g, names, GRAPH_SUBS_MAX);
    for (i = 0; i < s->s_n; i++)
        s->s_v[i]->sb_wanted = 0;
    for (i = 0; on && i < nacct; i++) {
        graph_subs_slice(s, i, &first, &n);
        if (n == 0)
            break;
        sb = graph_subs_find_account(s, names[i]);
        if (sb == NULL)
            sb = graph_subs_add(s, names[i]);
        sb->sb_wanted = 1;
        if (sb->sb_state == GRAPH_SUB_NEW || sb->sb_state == GRAPH_SUB_IDLE)
            graph_sub_set_users(sb, s->s_watch + first, n);
        else if (!graph_sub_has(sb, s->s_watch + first, n))
            sb->sb_wanted = 0;      /* wrong users: delete, then anew */
        if (sb->sb_wanted && sb->sb_state == GRAPH_SUB_LIVE)
            covered += n;
    }
    graph_subs_say_short(s, on, nacct);
    graph_subs_set_active(s, on && s->s_nwatch > 0 &&
        covered == s->s_nwatch);
}

void
graph_subs_set_active(struct graph_subs *s, int active)
{
    if (s->s_active == active)
        return;
    s->s_active = active;
    log_info("graph notifications %s interval=%ld",
        active ? "active" : "inactive", active ?
        s->s_g->g_conf.gc_reconcile_interval :
        s->s_g->g_conf.gc_poll_interval);
    graph_poll_reconfigure(s->s_g);
}

/* One pass over every subscription: start what is due. */
void
graph_subs_step(struct graph_subs *s)
{
    int64_t now, due = -1, d;
    struct graph_sub *sb;
    size_t i;

    graph_subs_plan(s);
    now = clock_now_ms();
    for (i = 0; i < s->s_n; i++) {
        sb = s->s_v[i];
        if (sb->sb_req != NULL)
            continue;
        if (!sb->sb_wanted && sb->sb_id[0] == '\0') {
            graph_subs_forget(sb);
            graph_subs_remove(s, sb);
            i--;
            continue;
        }
        d = graph_sub_act(sb, now);
        if (d >= 0 && (due < 0 || d < due))
            due = d;
    }
    if (due >= 0)
        graph_subs_arm(s, due);
}
