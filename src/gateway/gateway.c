/*
 * gateway.c: builds presgwd's parts, and acts on reload and stop.
 *
 * Signal handlers only set flags; a 200 ms timer on the loop reads them,
 * so nothing unsafe runs in a handler (nua_shutdown in particular).
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define SU_ROOT_MAGIC_T void
#define SU_TIMER_ARG_T struct gateway
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "core.h"
#include "config/conf.h"
#include "front/front.h"
#include "gateway/gateway.h"
#include "gateway/gateway_http.h"
#include "gateway/health.h"
#include "graph/graph.h"
#include "pa/pa.h"
#include "store/store.h"

#define GW_TICK_MS     200
#define GW_EXPIRY_MS   1000

struct gateway {
    struct conf        *gw_conf;
    char               *gw_conf_path;
    su_root_t          *gw_root;
    su_timer_t         *gw_tick;
    su_timer_t         *gw_expiry;
    struct store       *gw_store;
    struct graph       *gw_graph;
    struct pa          *gw_pa;
    struct front       *gw_front;
    struct health      *gw_health;
    struct gateway_http *gw_http;
    int                 gw_stopping;
};

static volatile sig_atomic_t gw_want_reload;
static volatile sig_atomic_t gw_want_stop;

void
gateway_signal_reload(void)
{
    gw_want_reload = 1;
}

void
gateway_signal_stop(void)
{
    gw_want_stop = 1;
}

static void
gw_graph_conf(const struct conf *c, struct graph_conf *gc)
{
    gc->gc_login_url = c->c_graph_login_url;
    gc->gc_graph_url = c->c_graph_url;
    gc->gc_scope = c->c_graph_scope;
    gc->gc_tenant_id = c->c_graph_tenant_id;
    gc->gc_client_id = c->c_graph_client_id;
    gc->gc_client_secret = c->c_graph_secret;
    gc->gc_client_cert_file = c->c_graph_cert_file;
    gc->gc_client_key_file = c->c_graph_key_file;
    gc->gc_session_expiry = c->c_graph_session_expiry;
    gc->gc_call_refresh = c->c_graph_call_refresh;
    gc->gc_dnd_expiry = c->c_graph_dnd_expiry;
    gc->gc_poll_interval = c->c_graph_poll_interval;
    gc->gc_timeout = c->c_graph_timeout;
    gc->gc_queue_max = c->c_graph_queue_max;
    gc->gc_retry_max_delay = c->c_graph_retry_max_delay;
    gc->gc_batch = strcmp(c->c_graph_batch, "yes") == 0;
    gc->gc_notify_url = c->c_graph_notify_url;
    gc->gc_lifecycle_url = c->c_graph_lifecycle_url;
    gc->gc_sub_lifetime = c->c_graph_sub_lifetime;
    gc->gc_reconcile_interval = c->c_graph_reconcile_interval;
    gc->gc_rich = strcmp(c->c_graph_rich, "yes") == 0;
    gc->gc_notify_cert_file = c->c_graph_notify_cert_file;
    gc->gc_notify_key_file = c->c_graph_notify_key_file;
    gc->gc_jwks_url = c->c_graph_jwks_url;
    gc->gc_cloud = c->c_graph_cloud;
    gc->gc_cloud_notify = c->c_graph_cloud_notify;
}

static void
gw_front_conf(const struct conf *c, struct front_conf *fc)
{
    fc->sc_listen = c->c_sip_listen;
    fc->sc_domain = c->c_sip_domain;
    fc->sc_aliases = c->c_sip_aliases;
    fc->sc_min_expires = c->c_sip_min_expires;
    fc->sc_max_expires = c->c_sip_max_expires;
    fc->sc_max_body = c->c_sip_max_body;
    fc->sc_max_pubs = c->c_sip_max_pubs_per_user;
    fc->sc_notify_retries = c->c_sip_notify_retries;
    fc->sc_notify_timeout = c->c_sip_notify_timeout;
    fc->sc_keep_on_stop = strcmp(c->c_sip_on_stop, "keep") == 0;
}

static void
gw_map_opts(const struct conf *c, struct map_opts *mo)
{
    mo->mo_call_end_clear = strcmp(c->c_graph_call_end, "clear") == 0;
    mo->mo_away_session = strcmp(c->c_graph_away_mode, "session") == 0;
}

/* The resource lists, checked against the user map now in force. */
static int
gw_load_lists(struct gateway *gw, const struct conf *c)
{
    struct store_list *l = NULL;
    char *err = NULL;
    size_t n = 0;
    int rc;

    if (c->c_users_lists[0] != '\0' &&
        listmap_read(c->c_users_lists, c->c_sip_domain, &l, &n, &err) != 0) {
        log_warn("gateway lists-failed errors:\n%s", err);
        free(err);
        return -1;
    }
    rc = front_set_lists(gw->gw_front, l, n, &err);
    if (rc != 0) {
        log_warn("gateway lists-failed path=%s errors:\n%s",
            c->c_users_lists, err);
        free(err);
    }
    listmap_free(l, n);
    return rc;
}

/* SIGHUP: a new configuration and user map, or the old ones kept. */
static void
gw_reload(struct gateway *gw)
{
    struct graph_conf gc;
    struct front_conf fc;
    struct map_opts mo;
    struct conf *c;
    char *err = NULL;

    log_info("gateway reload path=%s", gw->gw_conf_path);
    c = conf_load(gw->gw_conf_path, &err);
    if (c == NULL) {
        log_warn("gateway reload-failed keeping=old-config errors:\n%s",
            err);
        free(err);
        return;
    }
    if (strcmp(c->c_sip_listen, gw->gw_conf->c_sip_listen) != 0 ||
        strcmp(c->c_store_path, gw->gw_conf->c_store_path) != 0)
        log_warn("gateway reload note=\"sip.listen and store.path take"
            " effect at the next start\"");
    /* The map first: a configuration whose map is refused is not taken
     * at all, so the two never disagree. */
    if (pa_load_users(gw->gw_pa, c->c_users_map, c->c_sip_domain,
        &err) != 0) {
        log_warn("gateway reload-failed keeping=old-config errors:\n%s",
            err);
        free(err);
        conf_free(c);
        return;
    }
    log_set_level((enum log_level)log_level_parse(c->c_log_level));
    gw_map_opts(c, &mo);
    pa_set_opts(gw->gw_pa, &mo);
    gw_graph_conf(c, &gc);
    graph_reconfigure(gw->gw_graph, &gc);
    graph_accounts_reload(gw->gw_graph);
    gw_front_conf(c, &fc);
    front_reconfigure(gw->gw_front, &fc);
    if (gw_load_lists(gw, c) != 0)
        log_warn("gateway lists-reload-failed keeping=old-lists");
    if (gateway_http_apply(gw->gw_http, c) != 0)
        log_warn("gateway http-reload-failed keeping=old-listener");
    gateway_http_set_graph(gw->gw_http, gw->gw_graph, c->c_graph_notify_path,
        c->c_graph_lifecycle_path);
    conf_free(gw->gw_conf);
    gw->gw_conf = c;
}

/* The loop under a SIP stack left to the process exit. */
static su_root_t *gw_root_left;

static void
gw_stopped(void *arg)
{
    struct gateway *gw = arg;

    su_root_break(gw->gw_root);
}

static void
gw_tick(su_root_magic_t *magic, su_timer_t *t, struct gateway *gw)
{
    (void)magic;
    (void)t;
    if (gw_want_stop && !gw->gw_stopping) {
        gw->gw_stopping = 1;
        log_info("gateway stopping");
        front_shutdown(gw->gw_front, gw_stopped, gw);
    }
    if (gw_want_reload && !gw->gw_stopping) {
        gw_want_reload = 0;
        gw_reload(gw);
    }
}

static void
gw_expiry(su_root_magic_t *magic, su_timer_t *t, struct gateway *gw)
{
    (void)magic;
    (void)t;
    pa_expire(gw->gw_pa);
    store_tick(gw->gw_store);
}

static su_timer_t *
gw_timer(struct gateway *gw, su_timer_f fn, unsigned ms)
{
    su_timer_t *t = su_timer_create(su_root_task(gw->gw_root), ms);

    if (t != NULL)
        su_timer_set_for_ever(t, fn, gw);
    return t;
}

/* /healthz "sip": what the SIP side serves now. */
static int
gw_health_sip(void *arg, cJSON *obj)
{
    struct gateway *gw = arg;

    cJSON_AddNumberToObject(obj, "subscriptions",
        (double)front_sub_count(gw->gw_front));
    cJSON_AddNumberToObject(obj, "publications",
        (double)pa_pub_count(gw->gw_pa));
    return HEALTH_OK;
}

/*
 * /healthz "graph": degraded while writes cannot reach Graph (an outage,
 * a 429 hold) and once the write queue is full.
 */
static int
gw_health_graph(void *arg, cJSON *obj)
{
    struct gateway *gw = arg;
    struct graph_status gs;

    graph_status(gw->gw_graph, &gs);
    cJSON_AddNumberToObject(obj, "pending", (double)gs.gs_pending);
    cJSON_AddBoolToObject(obj, "outage", gs.gs_outage);
    if (gs.gs_outage) {
        cJSON_AddNumberToObject(obj, "outage_seconds",
            (double)(gs.gs_outage_ms / 1000));
        cJSON_AddNumberToObject(obj, "failed_probes", (double)gs.gs_probes);
    }
    cJSON_AddBoolToObject(obj, "throttled", gs.gs_held);
    if (gs.gs_held)
        cJSON_AddNumberToObject(obj, "throttled_seconds_left",
            (double)((gs.gs_held_ms + 999) / 1000));
    if (gs.gs_outage || gs.gs_held ||
        gs.gs_pending >= (size_t)gw->gw_conf->c_graph_queue_max)
        return HEALTH_DEGRADED;
    return HEALTH_OK;
}

static void
gw_health_user(void *arg, const struct store_user *u)
{
    (void)arg;
    (void)u;
}

static const char *const gw_store_files[] = {
    [STORE_FILE_OK] = "ok",
    [STORE_FILE_MISSING] = "missing",
    [STORE_FILE_REPLACED] = "replaced",
};

/*
 * /healthz "store": degraded while writes fail (presgwd serves from
 * memory and owes the disk a resync), failing when it cannot be read or
 * its file is no longer at its path (what is written is lost at a stop).
 */
static int
gw_health_store(void *arg, cJSON *obj)
{
    struct gateway *gw = arg;
    struct store_stats st;
    int readable = store_users_each(gw->gw_store, gw_health_user, NULL)
        == 0;

    store_stats(gw->gw_store, &st);
    cJSON_AddBoolToObject(obj, "ok", readable && st.ss_healthy);
    cJSON_AddBoolToObject(obj, "writes_failing", st.ss_failing);
    cJSON_AddBoolToObject(obj, "resync_owed", st.ss_owed);
    cJSON_AddNumberToObject(obj, "failed_writes", (double)st.ss_failed);
    cJSON_AddStringToObject(obj, "file", gw_store_files[st.ss_file]);
    cJSON_AddNumberToObject(obj, "recreated", (double)st.ss_recreated);
    if (st.ss_error != NULL && st.ss_error[0] != '\0')
        cJSON_AddStringToObject(obj, "last_error", st.ss_error);
    if (!readable || st.ss_file != STORE_FILE_OK)
        return HEALTH_FAILING;
    return st.ss_healthy ? HEALTH_OK : HEALTH_DEGRADED;
}

/* /healthz "accounts": the service accounts of change notifications;
 * degraded when one needs a new sign-in, failing when all do. */
static int
gw_health_accounts(void *arg, cJSON *obj)
{
    struct gateway *gw = arg;

    switch (graph_accounts_health(gw->gw_graph, obj)) {
    case 0:  return HEALTH_OK;
    case 1:  return HEALTH_DEGRADED;
    default: return HEALTH_FAILING;
    }
}

/* The checks of the parts the gateway owns, and the listener. */
static int
gw_health_start(struct gateway *gw)
{
    gw->gw_health = health_create();
    health_add(gw->gw_health, "sip", gw_health_sip, gw);
    health_add(gw->gw_health, "graph", gw_health_graph, gw);
    health_add(gw->gw_health, "store", gw_health_store, gw);
    health_add(gw->gw_health, "accounts", gw_health_accounts, gw);
    gw->gw_http = gateway_http_new(gw->gw_root, gw->gw_health);
    gateway_http_set_graph(gw->gw_http, gw->gw_graph,
        gw->gw_conf->c_graph_notify_path,
        gw->gw_conf->c_graph_lifecycle_path);
    return gateway_http_apply(gw->gw_http, gw->gw_conf);
}

/* Store, agent, Graph client, user map, restored state, SIP front. */
static int
gw_build(struct gateway *gw)
{
    struct conf *c = gw->gw_conf;
    struct graph_conf gc;
    struct front_conf fc;
    struct map_opts mo;
    char *err = NULL;

    gw->gw_store = store_open(c->c_store_path, &err);
    if (gw->gw_store == NULL) {
        log_error("gateway store-failed %s", err);
        free(err);
        return -1;
    }
    gw_map_opts(c, &mo);
    gw->gw_pa = pa_create(gw->gw_store, NULL, &mo);
    gw_graph_conf(c, &gc);
    gw->gw_graph = graph_create(gw->gw_root, &gc, pa_teams_presence,
        gw->gw_pa);
    if (gw->gw_graph == NULL)
        return -1;
    /* Writes Graph had not confirmed go back in the queue before the
     * agent re-derives its own, so the two coalesce; the service
     * accounts and Graph subscriptions come back with them. */
    if (graph_set_store(gw->gw_graph, gw->gw_store, c->c_store_path) < 0)
        return -1;
    pa_set_graph(gw->gw_pa, gw->gw_graph);
    if (pa_load_users(gw->gw_pa, c->c_users_map, c->c_sip_domain,
        &err) != 0) {
        log_error("gateway users-failed errors:\n%s", err);
        free(err);
        return -1;
    }
    pa_restore(gw->gw_pa);
    gw_front_conf(c, &fc);
    gw->gw_front = front_create(gw->gw_root, &fc, gw->gw_pa);
    if (gw->gw_front == NULL || gw_load_lists(gw, c) != 0)
        return -1;
    if (gw_health_start(gw) != 0)
        return -1;
    /* Last: resumed subscriptions need the users, their state and the
     * lists in place. */
    front_resume(gw->gw_front, gw->gw_store);
    return 0;
}

struct gateway *
gateway_create(struct conf *conf, const char *conf_path)
{
    struct gateway *gw = xcalloc(1, sizeof(*gw));

    gw->gw_conf = conf;
    gw->gw_conf_path = xstrdup(conf_path);
    su_init();
    front_log_init();
    gw->gw_root = su_root_create(NULL);
    if (gw->gw_root == NULL) {
        log_error("gateway root-failed");
        gateway_destroy(gw);
        return NULL;
    }
    /* One thread: on two cores nua's own stack thread only costs. */
    su_root_threading(gw->gw_root, 0);
    if (gw_build(gw) != 0) {
        gateway_destroy(gw);
        return NULL;
    }
    gw->gw_tick = gw_timer(gw, gw_tick, GW_TICK_MS);
    gw->gw_expiry = gw_timer(gw, gw_expiry, GW_EXPIRY_MS);
    log_info("gateway started version=%s users=%zu", PACKAGE_VERSION,
        pa_user_count(gw->gw_pa));
    return gw;
}

int
gateway_run(struct gateway *gw)
{
    su_root_run(gw->gw_root);
    log_info("gateway stopped pending-graph-writes=%zu",
        graph_pending(gw->gw_graph));
    return 0;
}

void
gateway_destroy(struct gateway *gw)
{
    if (gw == NULL)
        return;
    su_timer_destroy(gw->gw_tick);
    su_timer_destroy(gw->gw_expiry);
    /* A store removed in the last second is made again before the last
     * writes go to it. */
    if (gw->gw_store != NULL)
        store_tick(gw->gw_store);
    gateway_http_free(gw->gw_http);
    health_free(gw->gw_health);
    front_destroy(gw->gw_front);
    graph_destroy(gw->gw_graph);
    pa_destroy(gw->gw_pa);
    store_close(gw->gw_store);
    if (gw->gw_root != NULL && front_abandoned()) {
        /* The SIP stack on it was left to the exit (front.h). */
        gw_root_left = gw->gw_root;
    } else if (gw->gw_root != NULL) {
        su_root_destroy(gw->gw_root);
        su_deinit();
    }
    conf_free(gw->gw_conf);
    free(gw->gw_conf_path);
    free(gw);
}
