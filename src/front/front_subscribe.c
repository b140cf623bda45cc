/*
 * front_subscribe.c: SUBSCRIBE and NOTIFY for the presence event package
 * (RFC 6665, RFC 3856).  nua answers refreshes and unsubscribes itself
 * and sends the NOTIFY they need; we accept new subscriptions, send the
 * first NOTIFY and every change after it.
 *
 * One NOTIFY per subscription is in flight at a time.  A change that
 * comes while one is in flight waits; a later change replaces it, so a
 * watcher sees every state in order and never an old one last.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "front/front_int.h"

#define PIDF_TYPE "application/pidf+xml"

/* RFC 3856 section 6.7: no Accept means application/pidf+xml. */
static int
front_accepts_pidf(const sip_t *sip)
{
    const sip_accept_t *ac;

    if (sip->sip_accept == NULL)
        return 1;
    for (ac = sip->sip_accept; ac != NULL; ac = ac->ac_next) {
        if (ac->ac_type == NULL)
            continue;
        if (strcasecmp(ac->ac_type, PIDF_TYPE) == 0 ||
            strcasecmp(ac->ac_type, "application/*") == 0 ||
            strcasecmp(ac->ac_type, "*/*") == 0)
            return 1;
    }
    return 0;
}

static void
front_notify_now(struct front_sub *ss, const char *body, enum nua_substate st)
{
    ss->ss_inflight = 1;
    nua_notify(ss->ss_nh, NUTAG_SUBSTATE(st),
        SIPTAG_CONTENT_TYPE_STR(PIDF_TYPE), SIPTAG_PAYLOAD_STR(body),
        TAG_END());
}

/* Ends our side of a subscription: the watcher, the handle, the memory. */
static void
front_sub_free(struct front_sub *ss, const char *reason)
{
    log_info("subscribe ended user=%s reason=%s", ss->ss_aor, reason);
    if (ss->ss_watcher != NULL)
        pa_watch_del(ss->ss_front->sf_pa, ss->ss_watcher);
    nua_handle_bind(ss->ss_nh, NULL);
    nua_handle_destroy(ss->ss_nh);
    free(ss->ss_pending);
    free(ss);
}

/* Checks a new SUBSCRIBE; answers and returns NULL when it is refused. */
static struct pa_user *
front_subscribe_check(struct front *sf, nua_handle_t *nh,
    const sip_t *sip, long *expires)
{
    struct pa_user *u;

    if (sf->sf_stopping) {
        front_reply(sf, nh, SIP_503_SERVICE_UNAVAILABLE, sip, TAG_END());
        return NULL;
    }
    if (sip->sip_event == NULL ||
        strcasecmp(sip->sip_event->o_type, "presence") != 0) {
        front_reply(sf, nh, SIP_489_BAD_EVENT, sip,
            SIPTAG_ALLOW_EVENTS_STR("presence"), TAG_END());
        return NULL;
    }
    if (!front_accepts_pidf(sip)) {
        front_reply(sf, nh, SIP_406_NOT_ACCEPTABLE, sip,
            SIPTAG_ACCEPT_STR(PIDF_TYPE), TAG_END());
        return NULL;
    }
    u = front_find_user(sf, sf->sf_nua, nh, sip);
    if (u == NULL)
        return NULL;
    *expires = front_expires(sf, nh, sip, sf->sf_max_expires);
    return *expires < 0 ? NULL : u;
}

static void
front_subscribe_new(struct front *sf, nua_handle_t *nh, const sip_t *sip)
{
    struct front_sub *ss;
    struct pa_user *u;
    long expires;
    char *body;

    u = front_subscribe_check(sf, nh, sip, &expires);
    if (u == NULL) {
        nua_handle_destroy(nh);
        return;
    }
    ss = xcalloc(1, sizeof(*ss));
    ss->ss_front = sf;
    ss->ss_nh = nh;
    xstrlcpy(ss->ss_aor, pa_user_aor(u), sizeof(ss->ss_aor));
    nua_handle_bind(nh, ss);
    front_reply(sf, nh, SIP_200_OK, sip, TAG_END());
    ss->ss_watcher = pa_watch_add(sf->sf_pa, u, ss, &body);
    if (body == NULL)
        body = xstrdup("");
    log_info("subscribe accepted user=%s watcher=%s expires=%ld",
        ss->ss_aor, sip->sip_from->a_url->url_user ?
        sip->sip_from->a_url->url_user : "-", expires);
    /* RFC 6665 section 4.2.1: Expires 0 fetches the state once. */
    if (expires == 0) {
        pa_watch_del(sf->sf_pa, ss->ss_watcher);
        ss->ss_watcher = NULL;
    }
    front_notify_now(ss, body, expires == 0 ? nua_substate_terminated
        : nua_substate_active);
    free(body);
}

void
front_subscribe_handle(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, const sip_t *sip, tagi_t tags[])
{
    int substate = nua_substate_active;

    if (ss == NULL) {
        front_subscribe_new(sf, nh, sip);
        return;
    }
    tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
    if (substate == nua_substate_terminated) {
        /* nua sends the final NOTIFY; we free on its answer. */
        log_info("subscribe removed user=%s", ss->ss_aor);
        if (ss->ss_watcher != NULL)
            pa_watch_del(sf->sf_pa, ss->ss_watcher);
        ss->ss_watcher = NULL;
        return;
    }
    log_debug("subscribe refreshed user=%s", ss->ss_aor);
}

void
front_notify_answered(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, int status, tagi_t tags[])
{
    int substate = nua_substate_active;
    char *body;

    (void)sf;
    (void)nh;
    if (ss == NULL || status < 200)
        return;
    tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
    ss->ss_inflight = 0;
    if (substate == nua_substate_terminated) {
        front_sub_free(ss, ss->ss_watcher ? "expired" : "terminated");
        return;
    }
    if (status >= 300) {
        log_info("notify failed user=%s status=%d", ss->ss_aor, status);
        front_sub_free(ss, "notify-failed");
        return;
    }
    if (ss->ss_pending != NULL) {
        body = ss->ss_pending;
        ss->ss_pending = NULL;
        front_notify_now(ss, body, nua_substate_active);
        free(body);
    }
}

void
front_notify_send(void *arg, void *handle, const char *body)
{
    struct front_sub *ss = handle;

    (void)arg;
    if (ss->ss_inflight) {
        free(ss->ss_pending);
        ss->ss_pending = xstrdup(body);
        return;
    }
    front_notify_now(ss, body, nua_substate_active);
}

void
front_notify_terminate(void *arg, void *handle, const char *reason)
{
    struct front_sub *ss = handle;
    char state[64];

    (void)arg;
    ss->ss_watcher = NULL;   /* the agent frees it */
    snprintf(state, sizeof(state), "terminated;reason=%s", reason);
    nua_notify(ss->ss_nh, NUTAG_SUBSTATE(nua_substate_terminated),
        SIPTAG_SUBSCRIPTION_STATE_STR(state), TAG_END());
}
