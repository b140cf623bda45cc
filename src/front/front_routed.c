/*
 * front_routed.c: NOTIFYs of a resumed dialog that has a route set.
 *
 * nua cannot take such a dialog back.  A dialog it re-creates from a
 * handle learns its route set from the answer to its first NOTIFY, which
 * has no Record-Route, and from then on drops the Route we give: later
 * NOTIFYs would go straight to the phone, past its proxies.  So these
 * NOTIFYs go as plain requests (nua_method), each on a handle of its
 * own that carries the whole dialog (both tags, Call-ID, route set,
 * remote target): a handle marks its dialog established at the first
 * answer, and strips the Route from every request after it.
 *
 * nua then holds nothing of the dialog: presgwd counts the CSeq and ends
 * the subscription when its time is up.  The watcher's own requests in
 * the dialog (refresh, unsubscribe) find no dialog in nua and get 481;
 * the watcher subscribes anew, and the old dialog ends at its next
 * NOTIFY, answered 481 (docs/known-issues.md).
 */
#include "config.h"

#include <stdio.h>

#include "front/front_int.h"

static void
front_routed_expired(su_root_magic_t *magic, su_timer_t *t,
    su_timer_arg_t *arg)
{
    struct front_sub *ss = (struct front_sub *)arg;

    (void)magic;
    (void)t;
    if (ss->ss_ending)
        return;
    /* A retry waiting would send an active state after the end. */
    su_timer_reset(ss->ss_retry);
    log_info("subscribe expired user=%s event=%s routed=yes", ss->ss_aor,
        ss->ss_event->fe_name);
    front_sub_end(ss, "timeout");
}

/* Sets the timer that ends ss when its time is up. */
static void
front_routed_arm(struct front_sub *ss)
{
    long left = (long)(ss->ss_dlg.fd_expires - clock_now());

    if (ss->ss_expiry != NULL || ss->ss_ending || left <= 0)
        return;
    ss->ss_expiry = su_timer_create(su_root_task(ss->ss_front->sf_root), 0);
    if (ss->ss_expiry == NULL) {
        log_warn("subscribe timer-failed user=%s", ss->ss_aor);
        return;
    }
    su_timer_set_interval(ss->ss_expiry, front_routed_expired,
        (su_timer_arg_t *)ss, left * 1000);
}

void
front_routed_send(struct front_sub *ss, const char *sstate,
    const char *ctype, const char *body, const char *require)
{
    struct front_dialog *fd = &ss->ss_dlg;
    char cseq[32];

    front_routed_arm(ss);
    /* A number is never sent twice, not even after a failure. */
    fd->fd_lcseq++;
    snprintf(cseq, sizeof(cseq), "%lu NOTIFY", (unsigned long)fd->fd_lcseq);
    /* Without a new handle the old one serves; it may lose the route. */
    if (front_sub_rehandle(ss) != 0)
        log_warn("notify handle-failed user=%s", ss->ss_aor);
    /* No restart by nua (auth, Retry-After): it would resend the same
     * CSeq. */
    nua_method(ss->ss_nh, NUTAG_METHOD("NOTIFY"), NUTAG_RETRY_COUNT(0),
        SIPTAG_EVENT_STR(fd->fd_event ? fd->fd_event
            : ss->ss_event->fe_name),
        SIPTAG_SUBSCRIPTION_STATE_STR(sstate), SIPTAG_CSEQ_STR(cseq),
        TAG_IF(ctype != NULL, SIPTAG_CONTENT_TYPE_STR(ctype)),
        TAG_IF(body != NULL, SIPTAG_PAYLOAD_STR(body)),
        TAG_IF(require != NULL, SIPTAG_REQUIRE_STR(require)),
        TAG_END());
}

/* The answer goes where nua_r_notify's go, with the state that the
 * NOTIFY had: terminated once the subscription is ending. */
void
front_routed_answered(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, int status, const char *phrase, const sip_t *sip)
{
    tagi_t tags[2] = {
        { NUTAG_SUBSTATE(nua_substate_active) }, { TAG_END() }
    };

    if (ss == NULL || !ss->ss_routed)
        return;
    if (ss->ss_ending)
        tags[0].t_value = nua_substate_terminated;
    front_notify_answered(sf, nh, ss, status, phrase, sip, tags);
}

void
front_routed_release(struct front_sub *ss)
{
    su_timer_destroy(ss->ss_expiry);
    ss->ss_expiry = NULL;
}
