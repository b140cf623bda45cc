/*
 * front_notify.c: the NOTIFY bodies of each event package, built from
 * what the agent says a user shows (struct pa_state).
 *
 * One NOTIFY per subscription is in flight at a time.  Changes that come
 * while one is in flight are gathered as bits and sent, from the state
 * of that moment, when the answer comes: a watcher sees every state in
 * order and never an old one last.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/front_int.h"

#define FRONT_MIXED_BOUNDARY "presgw-feature-state"

/* A user's device name in feature events: the user part of the AOR. */
static void
front_device(const struct pa_state *st, char *out, size_t len)
{
    size_t n = strcspn(st->ps_aor, "@");

    if (n >= len)
        n = len - 1;
    memcpy(out, st->ps_aor, n);
    out[n] = '\0';
}

static char *
front_fwd_body(const struct pa_state *st, const char *dev,
    enum afe_fwd_type t)
{
    const struct pa_fwd *f = &st->ps_fwd[t];

    return afe_build_forwarding(dev, t, f->pf_on, f->pf_dn,
        f->pf_ring_count);
}

/*
 * All features in one multipart/mixed body: the first NOTIFY, which
 * must carry every feature (the SUBSCRIBE asked for none in particular),
 * and any NOTIFY where more than one feature changed.
 */
static char *
front_feature_all(const struct pa_state *st, const char *dev, char **ctype)
{
    struct buf b;
    char *part;
    int t;

    buf_init(&b, 65536);
    for (t = -1; t < AFE_FWD_COUNT; t++) {
        part = t < 0 ? afe_build_dnd(dev, st->ps_dnd)
            : front_fwd_body(st, dev, (enum afe_fwd_type)t);
        if (part == NULL)
            continue;
        buf_printf(&b, "--%s\r\nContent-Type: "
            "application/x-as-feature-event+xml\r\n\r\n%s\r\n",
            FRONT_MIXED_BOUNDARY, part);
        free(part);
    }
    buf_printf(&b, "--%s--\r\n", FRONT_MIXED_BOUNDARY);
    *ctype = xstrdup("multipart/mixed;boundary=" FRONT_MIXED_BOUNDARY);
    return buf_steal(&b);
}

/* The feature body for changed, or NULL when none of them is ours. */
static char *
front_feature_body(const struct pa_state *st, unsigned changed,
    char **ctype)
{
    unsigned fwd = changed & ~(PA_CHG_VIEW | PA_CHG_DND) & PA_CHG_ALL;
    char dev[128];
    int t;

    front_device(st, dev, sizeof(dev));
    if ((changed & PA_CHG_DND) && fwd == 0) {
        *ctype = xstrdup("application/x-as-feature-event+xml");
        return afe_build_dnd(dev, st->ps_dnd);
    }
    if (!(changed & PA_CHG_DND) && fwd != 0 && (fwd & (fwd - 1)) == 0) {
        for (t = 0; t < AFE_FWD_COUNT; t++)
            if (fwd == PA_CHG_FWD(t))
                break;
        *ctype = xstrdup("application/x-as-feature-event+xml");
        return front_fwd_body(st, dev, (enum afe_fwd_type)t);
    }
    if (fwd == 0 && !(changed & PA_CHG_DND))
        return NULL;
    return front_feature_all(st, dev, ctype);
}

/* The body of the NOTIFY ss needs for changed; NULL: none needed. */
static char *
front_body(struct front_sub *ss, const struct pa_state *st,
    unsigned changed, char **ctype)
{
    char entity[300];
    char *body = NULL;

    if (ss->ss_event->fe_kind == FK_FEATURE)
        return front_feature_body(st, changed, ctype);
    if (!(changed & PA_CHG_VIEW))
        return NULL;
    snprintf(entity, sizeof(entity), "sip:%s", st->ps_aor);
    if (ss->ss_event->fe_kind == FK_DIALOG) {
        /* Many statuses light a lamp the same way; a NOTIFY that would
         * not change the lamp is not sent. */
        if ((int)dialoginfo_state_of(st->ps_view) == ss->ss_shown &&
            changed != PA_CHG_ALL)
            return NULL;
        ss->ss_shown = (int)dialoginfo_state_of(st->ps_view);
        body = dialoginfo_build(entity, ss->ss_version++, st->ps_view,
            NULL);
    } else
        body = pidf_build_for(entity, st->ps_view, NULL, ss->ss_flavour);
    if (body != NULL)
        *ctype = xstrdup(ss->ss_event->fe_type);
    return body;
}

void
front_notify_state(struct front_sub *ss, const struct pa_state *st,
    unsigned changed, enum nua_substate substate)
{
    char *ctype = NULL, *body;

    body = front_body(ss, st, changed, &ctype);
    if (body == NULL) {
        if (substate != nua_substate_terminated)
            return;
        body = xstrdup("");
    }
    front_notify_body(ss, substate, NULL, ctype, body, NULL);
    free(ctype);
    free(body);
}

/* The Subscription-State of a NOTIFY sent without a nua usage: how
 * long is left, or the end. */
static const char *
front_notify_sstate(const struct front_sub *ss, enum nua_substate substate,
    char *buf, size_t len)
{
    long left = (long)(ss->ss_dlg.fd_expires - clock_now());

    if (substate == nua_substate_terminated || left <= 0)
        snprintf(buf, len, "terminated;reason=timeout");
    else
        snprintf(buf, len, "active;expires=%ld", left);
    return buf;
}

void
front_notify_body(struct front_sub *ss, enum nua_substate substate,
    const char *sstate, const char *ctype, const char *body,
    const char *require)
{
    const struct front_dialog *fd = &ss->ss_dlg;
    char state[64], cseq[32];

    ss->ss_inflight = 1;
    if (!ss->ss_revive && !ss->ss_routed) {
        nua_notify(ss->ss_nh, NUTAG_SUBSTATE(substate),
            TAG_IF(sstate != NULL, SIPTAG_SUBSCRIPTION_STATE_STR(sstate)),
            TAG_IF(ctype != NULL, SIPTAG_CONTENT_TYPE_STR(ctype)),
            TAG_IF(body != NULL, SIPTAG_PAYLOAD_STR(body)),
            TAG_IF(require != NULL, SIPTAG_REQUIRE_STR(require)),
            TAG_END());
        return;
    }
    if (sstate == NULL)
        sstate = front_notify_sstate(ss, substate, state, sizeof(state));
    if (ss->ss_routed) {
        front_routed_send(ss, sstate, ctype, body, require);
        return;
    }
    /* nua has no usage for this dialog (a restart, or it gave up after a
     * failed NOTIFY): it makes one anew from the handle's dialog, and
     * the Subscription-State says how long is left. */
    ss->ss_revive = 0;
    snprintf(cseq, sizeof(cseq), "%lu NOTIFY", (unsigned long)fd->fd_lcseq);
    nua_notify(ss->ss_nh, NUTAG_NEWSUB(1),
        SIPTAG_EVENT_STR(fd->fd_event ? fd->fd_event
            : ss->ss_event->fe_name),
        SIPTAG_SUBSCRIPTION_STATE_STR(sstate), SIPTAG_CSEQ_STR(cseq),
        TAG_IF(ctype != NULL, SIPTAG_CONTENT_TYPE_STR(ctype)),
        TAG_IF(body != NULL, SIPTAG_PAYLOAD_STR(body)),
        TAG_IF(require != NULL, SIPTAG_REQUIRE_STR(require)),
        TAG_END());
}

void
front_notify_send(void *arg, void *handle, const struct pa_state *st,
    unsigned changed)
{
    struct front_sub *ss = handle;

    (void)arg;
    if (ss->ss_is_list) {
        if (changed & PA_CHG_VIEW)
            front_list_changed(ss, st);
        return;
    }
    if (ss->ss_inflight) {
        ss->ss_dirty |= changed;
        return;
    }
    front_notify_state(ss, st, changed, nua_substate_active);
}

/* After an answer: what changed meanwhile goes out now. */
void
front_notify_flush(struct front_sub *ss)
{
    struct pa_state st;
    unsigned changed = ss->ss_dirty;

    if (ss->ss_is_list) {
        front_list_flush(ss);
        return;
    }
    if (changed == 0 || ss->ss_watcher == NULL)
        return;
    ss->ss_dirty = 0;
    pa_watch_state(ss->ss_watcher, &st);
    front_notify_state(ss, &st, changed, nua_substate_active);
}
