/*
 * front.c: the nua stack, its event dispatch, and the helpers every
 * request handler shares.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/nta_tag.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>

#include "front/front_int.h"
#include "store/store.h"

#define FRONT_STOP_TIMEOUT_MS 5000

/* The methods presgwd serves; nua answers 405 to the others. */
#define FRONT_ALLOW "OPTIONS, SUBSCRIBE, NOTIFY, PUBLISH"

extern su_log_t nua_log[], nta_log[], tport_log[], nea_log[], soa_log[];

static char front_log_line[1024];
static size_t front_log_len;

/* Sofia logs in pieces; we print whole lines. */
static void
front_log_cb(void *stream, const char *fmt, va_list ap)
{
    int n;

    (void)stream;
    n = vsnprintf(front_log_line + front_log_len,
        sizeof(front_log_line) - front_log_len, fmt, ap);
    if (n > 0)
        front_log_len += (size_t)n;
    if (front_log_len >= sizeof(front_log_line))
        front_log_len = sizeof(front_log_line) - 1;
    if (front_log_len > 0 && front_log_line[front_log_len - 1] != '\n' &&
        front_log_len < sizeof(front_log_line) - 1)
        return;
    front_log_line[front_log_len] = '\0';
    log_info("sofia %s", front_log_line);
    front_log_len = 0;
}

void
front_log_init(void)
{
    su_log_t *logs[] = {
        su_log_default, nua_log, nta_log, tport_log, nea_log, soa_log
    };
    size_t i;

    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        su_log_redirect(logs[i], front_log_cb, NULL);
        su_log_set_level(logs[i], 1);
    }
}

/* The From user for a log line, or "-" when it would not read as one
 * word (a sender must not be able to forge key=value pairs). */
static const char *
front_log_user(const sip_t *sip)
{
    const char *u;

    if (sip == NULL || sip->sip_from == NULL)
        return "-";
    u = sip->sip_from->a_url->url_user;
    if (u == NULL || u[0] == '\0' || strlen(u) > 64 ||
        strpbrk(u, " \t\"=\r\n") != NULL)
        return "-";
    return u;
}

void
front_reply(struct front *sf, nua_handle_t *nh, int status,
    const char *phrase, const sip_t *sip, tag_type_t tag,
    tag_value_t value, ...)
{
    ta_list ta;

    if (status >= 300)
        log_info("sip refused method=%s status=%d reason=\"%s\" from=%s",
            sip && sip->sip_request ? sip->sip_request->rq_method_name : "?",
            status, phrase, front_log_user(sip));
    /* nua keeps only the pointer to the phrase and sends the answer from
     * the loop later, when a phrase built on the caller's stack is gone:
     * give it a copy that lives as long as the handle. */
    if (phrase != NULL)
        phrase = su_strdup(nua_handle_home(nh), phrase);
    ta_start(ta, tag, value);
    nua_respond(nh, status, phrase, NUTAG_WITH_THIS(sf->sf_nua),
        ta_tags(ta));
    ta_end(ta);
}

/* The event packages, one row each. */
static const struct front_event front_events[] = {
    /* Presence (RFC 3856): phones publish PIDF and watch buddies. */
    { "presence", "application/pidf+xml", FK_PRESENCE, 1 },
    /* Dialog state (RFC 4235): BLF keys watch it; phones and proxies
     * (Kamailio's pua_dialoginfo) publish their calls with it. */
    { "dialog", "application/dialog-info+xml", FK_DIALOG, 1 },
    /* Device feature key sync: the DND key and forwarding, by SUBSCRIBE
     * bodies only; nothing publishes it. */
    { "as-feature-event", "application/x-as-feature-event+xml",
      FK_FEATURE, 0 },
};

const struct front_event *
front_event_find(const sip_t *sip)
{
    size_t i;

    if (sip->sip_event == NULL || sip->sip_event->o_type == NULL)
        return NULL;
    for (i = 0; i < sizeof(front_events) / sizeof(front_events[0]); i++)
        if (strcasecmp(sip->sip_event->o_type, front_events[i].fe_name)
            == 0)
            return &front_events[i];
    return NULL;
}

/* True if host is one of the space- or comma-separated aliases. */
static int
front_is_alias(const char *aliases, const char *host)
{
    size_t n = strlen(host);
    const char *p = aliases;

    while (*p != '\0') {
        size_t len = strcspn(p, " ,");

        if (len == n && strncasecmp(p, host, n) == 0)
            return 1;
        p += len;
        p += strspn(p, " ,");
    }
    return 0;
}

struct pa_user *
front_find_user(struct front *sf, nua_t *nua, nua_handle_t *nh,
    const sip_t *sip)
{
    const url_t *uri = sip->sip_request->rq_url;
    char aor[256];
    struct pa_user *u = NULL;

    (void)nua;
    /* A user part with URI parameters or headers in it would reach the
     * user by another name and domain. */
    if (uri->url_user != NULL && uri->url_host != NULL &&
        strpbrk(uri->url_user, ";?@<>\"") == NULL) {
        snprintf(aor, sizeof(aor), "%s@%s", uri->url_user, uri->url_host);
        if (usermap_canon(aor, sf->sf_domain, aor, sizeof(aor)) == 0)
            u = pa_user_find(sf->sf_pa, aor);
        if (u == NULL && front_is_alias(sf->sf_aliases, uri->url_host)) {
            snprintf(aor, sizeof(aor), "%s@%s", uri->url_user,
                sf->sf_domain);
            if (usermap_canon(aor, sf->sf_domain, aor, sizeof(aor)) == 0)
                u = pa_user_find(sf->sf_pa, aor);
        }
    }
    if (u == NULL)
        front_reply(sf, nh, 404, "Unknown presentity", sip, TAG_END());
    return u;
}

long
front_expires(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    long dflt)
{
    char min[32];
    long e;

    /* Sofia parses an Expires beyond its range as its largest value. */
    if (sip->sip_expires == NULL)
        e = dflt;
    else if (sip->sip_expires->ex_delta > (unsigned long)sf->sf_max_expires)
        e = sf->sf_max_expires;
    else
        e = (long)sip->sip_expires->ex_delta;
    if (e != 0 && e < sf->sf_min_expires) {
        snprintf(min, sizeof(min), "%ld", sf->sf_min_expires);
        front_reply(sf, nh, SIP_423_INTERVAL_TOO_BRIEF, sip,
            SIPTAG_MIN_EXPIRES_STR(min), TAG_END());
        return -1;
    }
    return e > sf->sf_max_expires ? sf->sf_max_expires : e;
}

void
front_sub_link(struct front *sf, struct front_sub *ss)
{
    ss->ss_prev = NULL;
    ss->ss_next = sf->sf_subs;
    if (sf->sf_subs != NULL)
        sf->sf_subs->ss_prev = ss;
    sf->sf_subs = ss;
}

void
front_sub_unlink(struct front *sf, struct front_sub *ss)
{
    if (ss->ss_prev != NULL)
        ss->ss_prev->ss_next = ss->ss_next;
    else if (sf->sf_subs == ss)
        sf->sf_subs = ss->ss_next;
    if (ss->ss_next != NULL)
        ss->ss_next->ss_prev = ss->ss_prev;
    ss->ss_next = ss->ss_prev = NULL;
}

/* A walk, not a counter: /healthz asks every few seconds at most. */
size_t
front_sub_count(const struct front *sf)
{
    const struct front_sub *ss;
    size_t n = 0;

    for (ss = sf->sf_subs; ss != NULL; ss = ss->ss_next)
        if (!ss->ss_ending)
            n++;
    return n;
}

/* Requests we have no handler for get a clear answer, not silence. */
static void
front_unhandled(struct front *sf, nua_handle_t *nh, const sip_t *sip)
{
    front_reply(sf, nh, SIP_501_NOT_IMPLEMENTED, sip, TAG_END());
    nua_handle_destroy(nh);
}

static void
front_shutdown_done(struct front *sf, const char *how)
{
    if (sf->sf_done == NULL)
        return;
    log_info("sip stopped how=%s", how);
    su_timer_destroy(sf->sf_stop_timer);
    sf->sf_stop_timer = NULL;
    sf->sf_done(sf->sf_done_arg);
    sf->sf_done = NULL;
}

static void
front_callback(nua_event_t event, int status, char const *phrase,
    nua_t *nua, struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, sip_t const *sip, tagi_t tags[])
{
    (void)nua;
    switch (event) {
    case nua_i_publish:
        front_publish_handle(sf, nh, sip);
        break;
    case nua_i_subscribe:
        front_subscribe_handle(sf, nh, ss, sip, tags);
        break;
    case nua_r_notify:
        front_notify_answered(sf, nh, ss, status, phrase, sip,
            tags);
        break;
    case nua_r_method:
        front_routed_answered(sf, nh, ss, status, phrase, sip);
        break;
    case nua_r_shutdown:
        if (status >= 200)
            sf->sf_nua_down = 1;
        if (status >= 200)
            front_shutdown_done(sf, status == 200 ? "clean" : "timeout");
        break;
    case nua_i_options:
        /* nua has answered it (200 with our Allow and Allow-Events). */
        break;
    case nua_i_error:
        log_warn("sip stack-error status=%d reason=\"%s\"", status, phrase);
        break;
    default:
        if (nua_event_is_incoming_request(event) && sip != NULL)
            front_unhandled(sf, nh, sip);
        else
            log_debug("sip event name=%s status=%d",
                nua_event_name(event), status);
        break;
    }
}

static void
front_apply(struct front *sf, const struct front_conf *conf)
{
    free(sf->sf_domain);
    free(sf->sf_aliases);
    sf->sf_domain = xstrdup(conf->sc_domain);
    sf->sf_aliases = xstrdup(conf->sc_aliases ? conf->sc_aliases : "");
    sf->sf_min_expires = conf->sc_min_expires;
    sf->sf_max_expires = conf->sc_max_expires;
    sf->sf_max_body = conf->sc_max_body;
    sf->sf_max_pubs = conf->sc_max_pubs;
    sf->sf_notify_retries = conf->sc_notify_retries;
    sf->sf_keep_on_stop = conf->sc_keep_on_stop;
}

struct front *
front_create(su_root_t *root, const struct front_conf *conf,
    struct pa *pa)
{
    struct front *sf = xcalloc(1, sizeof(*sf));
    struct pa_notifier pn = { front_notify_send, front_notify_terminate, sf };

    sf->sf_root = root;
    sf->sf_pa = pa;
    front_apply(sf, conf);
    /* Every parameter goes with nua_create: set afterwards, a request
     * that comes in the first moments would find nua's defaults (405
     * to PUBLISH, nua answering SUBSCRIBE itself).  PUBLISH and
     * SUBSCRIBE must stay application methods: otherwise nua answers
     * them itself, without entity tags or NOTIFY. */
    sf->sf_nua = nua_create(root, front_callback, sf,
        NUTAG_URL(conf->sc_listen),
        TPTAG_UDP_RMEM(4194304), TPTAG_UDP_WMEM(4194304),
        NTATAG_SIP_T1X64((unsigned)conf->sc_notify_timeout * 1000),
        SIPTAG_ALLOW_STR(FRONT_ALLOW),
        SIPTAG_SUPPORTED_STR("eventlist"),
        NUTAG_APPL_METHOD("MESSAGE"),
        NUTAG_APPL_METHOD("REFER"),
        NUTAG_ALLOW_EVENTS(FRONT_EVENTS),
        NUTAG_APPL_METHOD("PUBLISH"),
        NUTAG_APPL_METHOD("SUBSCRIBE"),
        NUTAG_SUB_EXPIRES((unsigned)conf->sc_max_expires),
        /* A NOTIFY answered 5xx with Retry-After is sent again by nua,
         * as often as a failed NOTIFY may be tried. */
        NUTAG_RETRY_COUNT((unsigned)conf->sc_notify_retries),
        SIPTAG_USER_AGENT_STR("presgw/" PACKAGE_VERSION),
        TAG_END());
    if (sf->sf_nua == NULL) {
        log_error("sip listen-failed url=%s", conf->sc_listen);
        front_destroy(sf);
        return NULL;
    }
    pa_set_notifier(pa, &pn);
    log_info("sip listening url=%s domain=%s", conf->sc_listen,
        conf->sc_domain);
    return sf;
}

void
front_reconfigure(struct front *sf, const struct front_conf *conf)
{
    front_apply(sf, conf);
    nua_set_params(sf->sf_nua,
        NUTAG_SUB_EXPIRES((unsigned)conf->sc_max_expires),
        NUTAG_RETRY_COUNT((unsigned)conf->sc_notify_retries),
        NTATAG_SIP_T1X64((unsigned)conf->sc_notify_timeout * 1000),
        TAG_END());
}

static void
front_stop_timeout(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    front_shutdown_done((struct front *)arg, "deadline");
}

/*
 * The stack of a front stopped with its subscriptions kept.  nua tells
 * every watcher its subscription ended when a handle, or nua itself, is
 * destroyed; so that stack is never destroyed, only left to the process
 * exit, and held here so that it is not taken for a leak.
 */
static nua_t *front_stack_left;

int
front_abandoned(void)
{
    return front_stack_left != NULL;
}

/*
 * A stop that keeps subscriptions: their dialogs are written and the
 * stack is left as it is, so that the watchers hear nothing and the next
 * start resumes them all.
 */
static void
front_keep_all(struct front *sf)
{
    struct front_sub *ss;
    size_t n = 0;

    front_keep_flush(sf);
    for (ss = sf->sf_subs; ss != NULL; ss = ss->ss_next)
        if (!ss->ss_ending && ss->ss_dlg.fd_kept)
            n++;
    log_info("subscribe kept-for-restart dialogs=%zu", n);
    sf->sf_abandon = 1;
}

void
front_shutdown(struct front *sf, void (*done)(void *arg), void *arg)
{
    struct front_sub *ss;

    sf->sf_done = done;
    sf->sf_done_arg = arg;
    sf->sf_stopping = 1;
    if (sf->sf_keep_on_stop && sf->sf_store != NULL) {
        front_keep_all(sf);
        front_shutdown_done(sf, "kept");
        return;
    }
    /* RFC 6665 section 4.2.2: "deactivated" asks watchers to subscribe
     * again at once; nua's own shutdown would say "noresource", after
     * which phones should not. */
    for (ss = sf->sf_subs; ss != NULL; ss = ss->ss_next)
        if (!ss->ss_ending)
            front_sub_end(ss, "deactivated");
    /* nua_shutdown waits for every watcher; dead ones can take 30 s.
     * Our own deadline keeps a stop bounded. */
    sf->sf_stop_timer = su_timer_create(su_root_task(sf->sf_root), 0);
    su_timer_set_interval(sf->sf_stop_timer, front_stop_timeout,
        (su_timer_arg_t *)sf, FRONT_STOP_TIMEOUT_MS);
    nua_shutdown(sf->sf_nua);
}

/* A shutdown run to its end (or the deadline) before returning. */
static void
front_shutdown_now(struct front *sf)
{
    int64_t until = clock_now_ms() + FRONT_STOP_TIMEOUT_MS;

    sf->sf_stopping = 1;
    nua_shutdown(sf->sf_nua);
    while (!sf->sf_nua_down && clock_now_ms() < until)
        su_root_step(sf->sf_root, 100);
}

void
front_destroy(struct front *sf)
{
    if (sf == NULL)
        return;
    /* Subscriptions whose end was never answered; their handles go
     * before the stack that owns them.  Their records stay. */
    front_keep_flush(sf);
    front_keep_stop(sf);
    if (sf->sf_abandon) {
        front_stack_left = sf->sf_nua;
        sf->sf_nua = NULL;
    }
    while (sf->sf_subs != NULL) {
        if (sf->sf_abandon)
            sf->sf_subs->ss_nh = NULL;
        if (sf->sf_subs->ss_ending)
            front_sub_free(sf->sf_subs, "stopped");
        else
            front_sub_drop(sf->sf_subs);
    }
    /* nua may only be destroyed once its shutdown has completed (it
     * asserts otherwise): a front that never stopped, as after a failed
     * start, is shut down here; after a deadline nua is left to the
     * process exit. */
    if (sf->sf_nua != NULL && !sf->sf_stopping)
        front_shutdown_now(sf);
    if (sf->sf_nua != NULL && sf->sf_nua_down)
        nua_destroy(sf->sf_nua);
    su_timer_destroy(sf->sf_stop_timer);
    su_timer_destroy(sf->sf_keep_timer);
    front_lists_free(sf);
    free(sf->sf_domain);
    free(sf->sf_aliases);
    free(sf);
}
