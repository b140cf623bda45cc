/*
 * front_keep.c: subscriptions kept in the store, so that a restart, clean
 * or not, goes on sending NOTIFYs in the same dialogs and no BLF lamp
 * waits for its phone to subscribe again.
 *
 * A record holds the dialog (RFC 3261 section 12: Call-ID, both tags,
 * route set, remote target, both CSeqs) and what the bodies need (event,
 * versions, PIDF dialect, expiry).  Changes are written together every
 * FRONT_KEEP_FLUSH_MS, in one transaction.  A crash can lose the last of
 * them, so a resumed dialog skips FRONT_KEEP_GAP numbers of CSeq and of
 * body version: both then still rise, which is all RFC 3261 and RFC 4235
 * ask of them.  Reading the records back at start is front_resume.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "front/front_int.h"
#include "store/store.h"

#define FRONT_KEEP_FLUSH_MS  100

/* A header as text, in a malloc'd string. */
static char *
front_hdr_str(const void *h)
{
    su_home_t home[1] = { SU_HOME_INIT(home) };
    char *s, *out = NULL;

    if (h == NULL)
        return NULL;
    s = sip_header_as_string(home, (const sip_header_t *)h);
    if (s != NULL)
        out = xstrdup(s);
    su_home_deinit(home);
    return out;
}

static char *
front_url_str(const url_t *url)
{
    su_home_t home[1] = { SU_HOME_INIT(home) };
    char *s, *out = NULL;

    s = url_as_string(home, url);
    if (s != NULL)
        out = xstrdup(s);
    su_home_deinit(home);
    return out;
}

static void
front_set(char **slot, char *value)
{
    free(*slot);
    *slot = value;
}

/* The Record-Route headers, in order, as one Route header value. */
static char *
front_route_str(const sip_t *sip)
{
    const sip_record_route_t *rr;
    struct buf b;
    char *one;

    if (sip->sip_record_route == NULL)
        return NULL;
    buf_init(&b, 8192);
    for (rr = sip->sip_record_route; rr != NULL; rr = rr->r_next) {
        sip_record_route_t copy = *rr;

        copy.r_next = NULL;
        one = front_hdr_str(&copy);
        if (one == NULL)
            continue;
        buf_printf(&b, "%s%s", b.b_len > 0 ? ", " : "", one);
        free(one);
    }
    return buf_steal(&b);
}

static void
front_keep_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    front_keep_flush((struct front *)arg);
}

void
front_keep_mark(struct front_sub *ss)
{
    struct front *sf = ss->ss_front;

    if (ss->ss_dlg.fd_dirty || ss->ss_dlg.fd_local == NULL)
        return;
    ss->ss_dlg.fd_dirty = 1;
    if (sf->sf_keep_dirty++ == 0 && sf->sf_keep_timer != NULL)
        su_timer_set_interval(sf->sf_keep_timer, front_keep_tick,
            (su_timer_arg_t *)sf, FRONT_KEEP_FLUSH_MS);
}

void
front_keep_request(struct front_sub *ss, const sip_t *sip, long expires)
{
    struct front_dialog *fd = &ss->ss_dlg;

    if (sip == NULL || sip->sip_call_id == NULL || sip->sip_from == NULL)
        return;
    if (fd->fd_key == NULL) {
        fd->fd_key = xasprintf("%s;%s;%s", sip->sip_call_id->i_id,
            sip->sip_from->a_tag ? sip->sip_from->a_tag : "",
            ss->ss_event->fe_name);
        fd->fd_call_id = xstrdup(sip->sip_call_id->i_id);
        fd->fd_remote = front_hdr_str(sip->sip_from);
        fd->fd_event = front_hdr_str(sip->sip_event);
        fd->fd_route = front_route_str(sip);
    }
    if (sip->sip_contact != NULL)
        front_set(&fd->fd_target, front_url_str(sip->sip_contact->m_url));
    if (sip->sip_cseq != NULL)
        fd->fd_rcseq = sip->sip_cseq->cs_seq;
    fd->fd_expires = clock_now() + expires;
    front_keep_mark(ss);
}

void
front_keep_answer(struct front_sub *ss, const sip_t *sip)
{
    struct front_dialog *fd = &ss->ss_dlg;

    if (sip == NULL || fd->fd_key == NULL)
        return;
    /* Our NOTIFY's From, echoed in its answer, is our end of the dialog
     * with the tag nua chose when it answered the SUBSCRIBE. */
    if (fd->fd_local == NULL && sip->sip_from != NULL &&
        sip->sip_from->a_tag != NULL)
        fd->fd_local = front_hdr_str(sip->sip_from);
    /* Only upwards: a routed dialog has counted past an answered one. */
    if (sip->sip_cseq != NULL && sip->sip_cseq->cs_seq > fd->fd_lcseq)
        fd->fd_lcseq = sip->sip_cseq->cs_seq;
    front_keep_mark(ss);
}

/*
 * The body version to keep.  A list resumed from its record has no
 * members until it watches them again; until then the version it was
 * loaded with stands.
 */
static unsigned long
front_keep_version(const struct front_sub *ss)
{
    unsigned long v;

    if (!ss->ss_is_list)
        return ss->ss_version;
    v = front_list_version(ss);
    return v > ss->ss_version ? v : ss->ss_version;
}

static char *
front_keep_json(const struct front_sub *ss)
{
    const struct front_dialog *fd = &ss->ss_dlg;
    cJSON *o = cJSON_CreateObject();
    char *s;

    cJSON_AddStringToObject(o, "aor", ss->ss_aor);
    cJSON_AddStringToObject(o, "event", ss->ss_event->fe_name);
    cJSON_AddBoolToObject(o, "list", ss->ss_is_list);
    cJSON_AddNumberToObject(o, "flavour", ss->ss_flavour);
    cJSON_AddStringToObject(o, "call_id", fd->fd_call_id);
    cJSON_AddStringToObject(o, "local", fd->fd_local);
    cJSON_AddStringToObject(o, "remote", fd->fd_remote);
    cJSON_AddStringToObject(o, "target", fd->fd_target ? fd->fd_target
        : "");
    cJSON_AddStringToObject(o, "route", fd->fd_route ? fd->fd_route : "");
    cJSON_AddStringToObject(o, "event_header", fd->fd_event ? fd->fd_event
        : ss->ss_event->fe_name);
    cJSON_AddNumberToObject(o, "local_cseq", fd->fd_lcseq);
    cJSON_AddNumberToObject(o, "remote_cseq", fd->fd_rcseq);
    cJSON_AddNumberToObject(o, "expires", (double)fd->fd_expires);
    cJSON_AddNumberToObject(o, "version", (double)front_keep_version(ss));
    cJSON_AddNumberToObject(o, "rlmi_version", (double)ss->ss_rlmi_version);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

void
front_keep_flush(struct front *sf)
{
    struct front_sub *ss;
    size_t n = 0;
    char *json;
    int rc = 0;

    if (sf->sf_store == NULL || sf->sf_keep_dirty == 0)
        return;
    store_begin(sf->sf_store);
    for (ss = sf->sf_subs; ss != NULL; ss = ss->ss_next) {
        if (!ss->ss_dlg.fd_dirty)
            continue;
        ss->ss_dlg.fd_dirty = 0;
        json = front_keep_json(ss);
        if (store_rec_put(sf->sf_store, FRONT_KEEP_NS, ss->ss_dlg.fd_key,
            json) != 0)
            rc = -1;
        else
            ss->ss_dlg.fd_kept = 1;
        free(json);
        n++;
    }
    if (store_commit(sf->sf_store) != 0)
        rc = -1;
    sf->sf_keep_dirty = 0;
    if (rc != 0)
        log_warn("subscribe keep-failed dialogs=%zu", n);
    else
        log_debug("subscribe kept dialogs=%zu", n);
}

void
front_keep_release(struct front_sub *ss)
{
    struct front_dialog *fd = &ss->ss_dlg;

    if (fd->fd_dirty && ss->ss_front->sf_keep_dirty > 0)
        ss->ss_front->sf_keep_dirty--;
    free(fd->fd_key);
    free(fd->fd_call_id);
    free(fd->fd_local);
    free(fd->fd_remote);
    free(fd->fd_target);
    free(fd->fd_route);
    free(fd->fd_event);
    memset(fd, 0, sizeof(*fd));
}

void
front_keep_forget(struct front_sub *ss)
{
    struct front *sf = ss->ss_front;

    if (ss->ss_dlg.fd_kept && sf->sf_store != NULL)
        store_rec_del(sf->sf_store, FRONT_KEEP_NS, ss->ss_dlg.fd_key);
    front_keep_release(ss);
}

int
front_sub_rehandle(struct front_sub *ss)
{
    struct front_dialog *fd = &ss->ss_dlg;
    struct front *sf = ss->ss_front;
    nua_handle_t *nh;

    nh = nua_handle(sf->sf_nua, ss,
        SIPTAG_FROM_STR(fd->fd_local), SIPTAG_TO_STR(fd->fd_remote),
        SIPTAG_CALL_ID_STR(fd->fd_call_id),
        TAG_IF(fd->fd_route != NULL, SIPTAG_ROUTE_STR(fd->fd_route)),
        TAG_IF(fd->fd_target != NULL, NUTAG_URL(fd->fd_target)),
        TAG_END());
    if (nh == NULL)
        return -1;
    if (ss->ss_nh != NULL) {
        nua_handle_bind(ss->ss_nh, NULL);
        nua_handle_destroy(ss->ss_nh);
    }
    ss->ss_nh = nh;
    return 0;
}

int
front_sub_revive(struct front_sub *ss)
{
    struct front_dialog *fd = &ss->ss_dlg;

    if (front_sub_rehandle(ss) != 0)
        return -1;
    /* A dialog nua re-creates would lose its route set at the first
     * answer: such a dialog goes on without a nua usage. */
    ss->ss_routed = fd->fd_route != NULL;
    ss->ss_revive = !ss->ss_routed;
    fd->fd_lcseq += FRONT_KEEP_GAP;
    return 0;
}

/* After the store failed for a while: every kept dialog, written anew. */
static void
front_keep_resync(void *arg, struct store *st)
{
    struct front *sf = arg;
    struct front_sub *ss;
    char *json;

    store_rec_clear(st, FRONT_KEEP_NS);
    for (ss = sf->sf_subs; ss != NULL; ss = ss->ss_next) {
        if (ss->ss_ending || ss->ss_dlg.fd_local == NULL)
            continue;
        json = front_keep_json(ss);
        if (store_rec_put(st, FRONT_KEEP_NS, ss->ss_dlg.fd_key, json) == 0)
            ss->ss_dlg.fd_kept = 1;
        free(json);
    }
}

void
front_keep_stop(struct front *sf)
{
    if (sf->sf_store != NULL)
        store_resync_del(sf->sf_store, front_keep_resync, sf);
}

void
front_keep_open(struct front *sf, struct store *st)
{
    sf->sf_store = st;
    sf->sf_keep_timer = su_timer_create(su_root_task(sf->sf_root), 0);
    store_resync_add(st, front_keep_resync, sf);
}
