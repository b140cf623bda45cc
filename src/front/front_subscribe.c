/*
 * front_subscribe.c: SUBSCRIBE (RFC 6665) for the presence, dialog and
 * as-feature-event packages.  nua answers refreshes and unsubscribes
 * itself and sends the NOTIFY they need; we accept new subscriptions,
 * send the first NOTIFY, and act on feature requests in SUBSCRIBE bodies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "front/front_int.h"

/* RFC 6665 section 7.2: no Accept means the package's default type. */
static int
front_accepts(const sip_t *sip, const struct front_event *ev)
{
    const sip_accept_t *ac;

    if (sip->sip_accept == NULL)
        return 1;
    for (ac = sip->sip_accept; ac != NULL; ac = ac->ac_next) {
        if (ac->ac_type == NULL)
            continue;
        if (strcasecmp(ac->ac_type, ev->fe_type) == 0 ||
            strcasecmp(ac->ac_type, "application/*") == 0 ||
            strcasecmp(ac->ac_type, "*/*") == 0 ||
            (ev->fe_kind == FK_FEATURE &&
            strncasecmp(ac->ac_type, "multipart/", 10) == 0))
            return 1;
    }
    return 0;
}

/* Lets go of the watchers, the handle and the memory of ss. */
static void
front_sub_release(struct front_sub *ss)
{
    if (ss->ss_is_list)
        front_list_release(ss);
    if (ss->ss_watcher != NULL)
        pa_watch_del(ss->ss_front->sf_pa, ss->ss_watcher);
    su_timer_destroy(ss->ss_retry);
    front_routed_release(ss);
    front_sub_unlink(ss->ss_front, ss);
    if (ss->ss_nh != NULL) {
        nua_handle_bind(ss->ss_nh, NULL);
        nua_handle_destroy(ss->ss_nh);
    }
    free(ss);
}

/* Ends our side of a subscription for good. */
void
front_sub_free(struct front_sub *ss, const char *reason)
{
    log_info("subscribe ended user=%s reason=%s event=%s", ss->ss_aor,
        reason, ss->ss_event->fe_name);
    front_keep_forget(ss);
    front_sub_release(ss);
}

/*
 * Forgets ss here but not in the store: the watcher hears nothing, and
 * the next start resumes the dialog.  Destroying a handle sends nothing.
 */
void
front_sub_drop(struct front_sub *ss)
{
    front_keep_release(ss);
    front_sub_release(ss);
}

void
front_sub_end(struct front_sub *ss, const char *reason)
{
    char state[64];

    if (ss->ss_is_list)
        front_list_release(ss);
    if (ss->ss_watcher != NULL)
        pa_watch_del(ss->ss_front->sf_pa, ss->ss_watcher);
    ss->ss_watcher = NULL;
    ss->ss_ending = 1;
    snprintf(state, sizeof(state), "terminated;reason=%s", reason);
    front_notify_body(ss, nua_substate_terminated, state, NULL, NULL, NULL);
}

/*
 * A feature request in a SUBSCRIBE body (BroadWorks device feature key
 * sync): the DND or forwarding key was pressed on the phone.  Returns -1
 * after answering 400 when the body is unusable.
 */
static int
front_feature_request(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    struct pa_user *u, int answer)
{
    const sip_payload_t *pl = sip->sip_payload;
    struct afe_request req;
    char why[96], phrase[128];

    if (pl == NULL || pl->pl_len == 0)
        return 0;
    if (sip->sip_content_type == NULL ||
        sip->sip_content_type->c_type == NULL ||
        strcasecmp(sip->sip_content_type->c_type,
        "application/x-as-feature-event+xml") != 0) {
        log_info("subscribe feature-refused user=%s reason=\"content type\"",
            pa_user_aor(u));
        if (answer)
            front_reply(sf, nh, SIP_415_UNSUPPORTED_MEDIA, sip,
                SIPTAG_ACCEPT_STR("application/x-as-feature-event+xml"),
                TAG_END());
        return -1;
    }
    if (pl->pl_len > (size_t)sf->sf_max_body ||
        afe_parse(pl->pl_data, pl->pl_len, &req, why, sizeof(why)) != 0) {
        if (pl->pl_len > (size_t)sf->sf_max_body)
            xstrlcpy(why, "body too large", sizeof(why));
        log_info("subscribe feature-refused user=%s reason=\"%s\"",
            pa_user_aor(u), why);
        if (answer) {
            snprintf(phrase, sizeof(phrase), "Bad as-feature-event: %s",
                why);
            front_reply(sf, nh, 400, phrase, sip, TAG_END());
        }
        return -1;
    }
    if (req.ar_kind == AFE_SET_DND)
        pa_dnd_key(sf->sf_pa, u, req.ar_dnd_on);
    else if (req.ar_kind == AFE_SET_FORWARDING)
        pa_forwarding(sf->sf_pa, u, req.ar_fwd_type, req.ar_fwd_on,
            req.ar_fwd_dn, req.ar_ring_count);
    return 0;
}

/* Checks a new SUBSCRIBE; answers and returns NULL when it is refused. */
static struct pa_user *
front_subscribe_check(struct front *sf, nua_handle_t *nh,
    const sip_t *sip, const struct front_event *ev, long *expires)
{
    struct pa_user *u;

    if (sf->sf_stopping) {
        front_reply(sf, nh, SIP_503_SERVICE_UNAVAILABLE, sip, TAG_END());
        return NULL;
    }
    if (ev == NULL) {
        front_reply(sf, nh, SIP_489_BAD_EVENT, sip,
            SIPTAG_ALLOW_EVENTS_STR(FRONT_EVENTS), TAG_END());
        return NULL;
    }
    if (!front_accepts(sip, ev)) {
        front_reply(sf, nh, SIP_406_NOT_ACCEPTABLE, sip,
            SIPTAG_ACCEPT_STR(ev->fe_type), TAG_END());
        return NULL;
    }
    u = front_find_user(sf, sf->sf_nua, nh, sip);
    if (u == NULL)
        return NULL;
    *expires = front_expires(sf, nh, sip, sf->sf_max_expires);
    if (*expires < 0)
        return NULL;
    if (ev->fe_kind == FK_FEATURE &&
        front_feature_request(sf, nh, sip, u, 1) != 0)
        return NULL;
    return u;
}

static void
front_subscribe_new(struct front *sf, nua_handle_t *nh, const sip_t *sip)
{
    const struct front_event *ev = front_event_find(sip);
    struct front_sub *ss;
    struct pa_state st;
    struct pa_user *u;
    long expires;

    if (ev != NULL && !sf->sf_stopping) {
        switch (front_list_subscribe(sf, nh, sip, ev)) {
        case 1:
            nua_handle_destroy(nh);
            return;
        case 2:
            return;
        }
    }
    u = front_subscribe_check(sf, nh, sip, ev, &expires);
    if (u == NULL) {
        nua_handle_destroy(nh);
        return;
    }
    ss = xcalloc(1, sizeof(*ss));
    ss->ss_front = sf;
    ss->ss_nh = nh;
    ss->ss_event = ev;
    ss->ss_shown = -1;
    ss->ss_flavour = pidf_flavour_of(sip->sip_user_agent ?
        sip->sip_user_agent->g_string : NULL);
    xstrlcpy(ss->ss_aor, pa_user_aor(u), sizeof(ss->ss_aor));
    nua_handle_bind(nh, ss);
    front_sub_link(sf, ss);
    front_reply(sf, nh, SIP_200_OK, sip, TAG_END());
    if (expires > 0)
        front_keep_request(ss, sip, expires);
    log_info("subscribe accepted user=%s watcher=%s event=%s expires=%ld%s",
        ss->ss_aor, sip->sip_from->a_url->url_user ?
        sip->sip_from->a_url->url_user : "-", ev->fe_name, expires,
        ss->ss_flavour == PIDF_CISCO ? " body=cisco" : "");
    pa_user_state(u, &st);
    /* RFC 6665 section 4.2.1: Expires 0 fetches the state once. */
    if (expires == 0) {
        ss->ss_ending = 1;
        front_notify_state(ss, &st, PA_CHG_ALL, nua_substate_terminated);
        return;
    }
    ss->ss_watcher = pa_watch_add(sf->sf_pa, u, ss);
    front_notify_state(ss, &st, PA_CHG_ALL, nua_substate_active);
}

/* The time nua grants a refresh: what was asked, cut to our maximum. */
static long
front_refresh_expires(struct front *sf, const sip_t *sip)
{
    if (sip == NULL || sip->sip_expires == NULL)
        return sf->sf_max_expires;
    if (sip->sip_expires->ex_delta > (unsigned long)sf->sf_max_expires)
        return sf->sf_max_expires;
    return (long)sip->sip_expires->ex_delta;
}

void
front_subscribe_handle(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, const sip_t *sip, tagi_t tags[])
{
    int substate = nua_substate_active;
    struct pa_user *u;

    if (ss == NULL) {
        front_subscribe_new(sf, nh, sip);
        return;
    }
    tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
    if (substate == nua_substate_terminated) {
        /* nua sends the final NOTIFY; we free on its answer. */
        log_info("subscribe removed user=%s event=%s", ss->ss_aor,
            ss->ss_event->fe_name);
        if (ss->ss_is_list)
            front_list_release(ss);
        if (ss->ss_watcher != NULL)
            pa_watch_del(sf->sf_pa, ss->ss_watcher);
        ss->ss_watcher = NULL;
        ss->ss_ending = 1;
        return;
    }
    log_debug("subscribe refreshed user=%s", ss->ss_aor);
    front_keep_request(ss, sip, front_refresh_expires(sf, sip));
    /* A phone presses its DND key with an in-dialog SUBSCRIBE. */
    if (ss->ss_event->fe_kind == FK_FEATURE && sip != NULL &&
        ss->ss_watcher != NULL) {
        u = pa_user_find(sf->sf_pa, ss->ss_aor);
        if (u != NULL)
            front_feature_request(sf, nh, sip, u, 0);
    }
}

static void
front_retry_fire(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    struct front_sub *ss = (struct front_sub *)arg;
    struct pa_state st;

    (void)magic;
    (void)t;
    ss->ss_inflight = 0;
    ss->ss_dirty = 0;
    log_info("notify retry user=%s try=%d", ss->ss_aor, ss->ss_failures);
    if (ss->ss_is_list) {
        front_list_flush_full(ss);
        return;
    }
    if (ss->ss_watcher == NULL)
        return;
    pa_watch_state(ss->ss_watcher, &st);
    front_notify_state(ss, &st, PA_CHG_ALL, nua_substate_active);
}

/* How long to wait before the next try: the watcher's Retry-After, or
 * 2, 4, 8... seconds. */
static long
front_retry_delay(const struct front_sub *ss, const sip_t *sip)
{
    if (sip != NULL && sip->sip_retry_after != NULL &&
        sip->sip_retry_after->af_delta > 0 &&
        sip->sip_retry_after->af_delta < 300)
        return (long)sip->sip_retry_after->af_delta;
    return 1L << (ss->ss_failures < 6 ? ss->ss_failures : 6);
}

/* RFC 6665 section 4.2.2: answers after which the subscription MUST
 * go (481: the watcher has none). */
static const int front_notify_fatal[] = {
    404, 405, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 604
};

/*
 * Whether a failed NOTIFY ends its subscription at once: an answer the
 * RFC names, or a server error (5xx, 6xx), after which nua has already
 * ended the usage and told the watcher (terminated;reason=noresource).
 */
static int
front_notify_fatal_status(int status)
{
    size_t i;

    if (status >= 500 && status < 700)
        return 1;
    for (i = 0; i < sizeof(front_notify_fatal) / sizeof(int); i++)
        if (front_notify_fatal[i] == status)
            return 1;
    return 0;
}

/*
 * RFC 6665 section 4.2.2: a NOTIFY that timed out (408, timer F) or got
 * an answer about itself only (400, 486...) does not end the
 * subscription at once; it is tried again, with the state of that
 * moment, up to notify_retries times.  A 5xx with Retry-After never
 * comes here: nua sends the NOTIFY again itself (NUTAG_RETRY_COUNT).
 */
static void
front_notify_failed(struct front_sub *ss, int status, const sip_t *sip,
    int substate)
{
    struct front *sf = ss->ss_front;
    long delay;

    if (front_notify_fatal_status(status) || ss->ss_ending ||
        (ss->ss_watcher == NULL && !ss->ss_is_list) || sf->sf_stopping ||
        ss->ss_failures >= sf->sf_notify_retries ||
        (substate == nua_substate_terminated &&
        ss->ss_dlg.fd_local == NULL)) {
        log_info("notify failed user=%s status=%d action=end", ss->ss_aor,
            status);
        front_sub_free(ss, "notify-failed");
        return;
    }
    ss->ss_failures++;
    delay = front_retry_delay(ss, sip);
    log_info("notify failed user=%s status=%d action=retry try=%d "
        "delay=%ld", ss->ss_aor, status, ss->ss_failures, delay);
    /* Changes meanwhile wait as if this NOTIFY were still in flight. */
    ss->ss_inflight = 1;
    if (substate == nua_substate_terminated && front_sub_revive(ss) != 0) {
        front_sub_free(ss, "notify-failed");
        return;
    }
    if (ss->ss_retry == NULL)
        ss->ss_retry = su_timer_create(su_root_task(sf->sf_root), 0);
    su_timer_set_interval(ss->ss_retry, front_retry_fire,
        (su_timer_arg_t *)ss, delay * 1000);
}

void
front_notify_answered(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, int status, const char *phrase, const sip_t *sip,
    tagi_t tags[])
{
    int substate = nua_substate_active;

    (void)sf;
    (void)nh;
    /* A 5xx with Retry-After: nua waits and sends the NOTIFY again. */
    if (ss != NULL && status == 100 && phrase != NULL &&
        strncmp(phrase, "Retry After", 11) == 0)
        log_info("notify failed user=%s status=5xx action=retry by=stack "
            "delay=%s", ss->ss_aor, phrase + 11 + strspn(phrase + 11, " "));
    if (ss == NULL || status < 200)
        return;
    tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
    ss->ss_inflight = 0;
    if (status >= 300) {
        front_notify_failed(ss, status, sip, substate);
        return;
    }
    ss->ss_failures = 0;
    if (substate == nua_substate_terminated) {
        front_sub_free(ss, ss->ss_ending ? "terminated" : "expired");
        return;
    }
    front_keep_answer(ss, sip);
    front_notify_flush(ss);
}

void
front_notify_terminate(void *arg, void *handle, const char *aor,
    const char *reason)
{
    struct front_sub *ss = handle;

    (void)arg;
    if (ss->ss_is_list) {
        front_list_member_gone(ss, aor);
        return;
    }
    ss->ss_watcher = NULL;   /* the agent frees it */
    front_sub_end(ss, reason);
}
