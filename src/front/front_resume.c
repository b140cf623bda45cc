/*
 * front_resume.c: the kept subscriptions read back at start (see
 * front_keep.c).  Each goes on in its dialog with the state of now, or
 * gets its end: expired while presgwd was down, or its user or list gone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "front/front_int.h"
#include "store/store.h"

/* A record's string field, or NULL when it is missing or empty. */
static char *
front_keep_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return NULL;
    return xstrdup(v->valuestring);
}

static double
front_keep_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const struct front_event *
front_keep_event(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "event");
    sip_event_t ev;
    sip_t sip;

    if (!cJSON_IsString(v))
        return NULL;
    memset(&sip, 0, sizeof(sip));
    sip_event_init(&ev);
    ev.o_type = v->valuestring;
    sip.sip_event = &ev;
    return front_event_find(&sip);
}

/* A subscription from its record; NULL when the record is unusable. */
static struct front_sub *
front_keep_load(struct front *sf, const char *key, const cJSON *o)
{
    struct front_sub *ss = xcalloc(1, sizeof(*ss));
    struct front_dialog *fd = &ss->ss_dlg;
    char *aor = front_keep_str(o, "aor");

    ss->ss_front = sf;
    ss->ss_event = front_keep_event(o);
    ss->ss_shown = -1;
    ss->ss_is_list = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
        "list"));
    ss->ss_flavour = front_keep_num(o, "flavour") == PIDF_CISCO ?
        PIDF_CISCO : PIDF_STANDARD;
    ss->ss_version = (unsigned long)front_keep_num(o, "version") +
        FRONT_KEEP_GAP;
    ss->ss_rlmi_version = (unsigned long)front_keep_num(o, "rlmi_version")
        + FRONT_KEEP_GAP;
    fd->fd_key = xstrdup(key);
    fd->fd_kept = 1;
    fd->fd_call_id = front_keep_str(o, "call_id");
    fd->fd_local = front_keep_str(o, "local");
    fd->fd_remote = front_keep_str(o, "remote");
    fd->fd_target = front_keep_str(o, "target");
    fd->fd_route = front_keep_str(o, "route");
    fd->fd_event = front_keep_str(o, "event_header");
    fd->fd_lcseq = (uint32_t)front_keep_num(o, "local_cseq");
    fd->fd_rcseq = (uint32_t)front_keep_num(o, "remote_cseq");
    fd->fd_expires = (time_t)front_keep_num(o, "expires");
    if (aor != NULL)
        xstrlcpy(ss->ss_aor, aor, sizeof(ss->ss_aor));
    free(aor);
    if (ss->ss_event == NULL || ss->ss_aor[0] == '\0' ||
        fd->fd_call_id == NULL || fd->fd_local == NULL ||
        fd->fd_remote == NULL || fd->fd_target == NULL) {
        front_keep_release(ss);
        free(ss);
        return NULL;
    }
    return ss;
}

/* Watches what ss is about again; 0, or -1 when that is gone. */
static int
front_keep_watch(struct front_sub *ss)
{
    struct front *sf = ss->ss_front;
    struct pa_user *u;

    if (ss->ss_is_list)
        return front_list_resume(ss, ss->ss_version);
    u = pa_user_find(sf->sf_pa, ss->ss_aor);
    if (u == NULL)
        return -1;
    ss->ss_watcher = pa_watch_add(sf->sf_pa, u, ss);
    return 0;
}

/* Sends a resumed subscription the state now, or its end. */
static void
front_keep_start(struct front_sub *ss)
{
    struct pa_state st;
    time_t left = ss->ss_dlg.fd_expires - clock_now();

    if (left <= 0) {
        log_info("subscribe resumed-expired user=%s event=%s", ss->ss_aor,
            ss->ss_event->fe_name);
        front_sub_end(ss, "timeout");
        return;
    }
    if (front_keep_watch(ss) != 0) {
        log_info("subscribe resumed-gone user=%s event=%s", ss->ss_aor,
            ss->ss_event->fe_name);
        front_sub_end(ss, "noresource");
        return;
    }
    log_info("subscribe resumed user=%s event=%s expires=%ld", ss->ss_aor,
        ss->ss_event->fe_name, (long)left);
    if (ss->ss_is_list) {
        front_list_flush_full(ss);
        return;
    }
    pa_watch_state(ss->ss_watcher, &st);
    front_notify_state(ss, &st, PA_CHG_ALL, nua_substate_active);
}

struct front_keep_walk {
    struct front       *kw_front;
    size_t              kw_resumed;
    size_t              kw_bad;
    char              **kw_bad_keys;
};

static void
front_keep_row(void *arg, const char *key, const char *value)
{
    struct front_keep_walk *kw = arg;
    struct front_sub *ss = NULL;
    cJSON *o = cJSON_Parse(value);

    if (o != NULL)
        ss = front_keep_load(kw->kw_front, key, o);
    cJSON_Delete(o);
    if (ss == NULL || front_sub_revive(ss) != 0) {
        log_warn("subscribe resume-refused key=\"%s\" reason=\"bad record\"",
            key);
        kw->kw_bad_keys = xrealloc(kw->kw_bad_keys,
            (kw->kw_bad + 1) * sizeof(char *));
        kw->kw_bad_keys[kw->kw_bad++] = xstrdup(key);
        if (ss != NULL) {
            front_keep_release(ss);
            free(ss);
        }
        return;
    }
    front_sub_link(kw->kw_front, ss);
    kw->kw_resumed++;
}

size_t
front_resume(struct front *sf, struct store *st)
{
    struct front_keep_walk kw = { sf, 0, 0, NULL };
    struct front_sub *ss, *next;
    size_t i;

    front_keep_open(sf, st);
    store_rec_each(st, FRONT_KEEP_NS, front_keep_row, &kw);
    /* Records that cannot be resumed go; nothing could ever use them. */
    for (i = 0; i < kw.kw_bad; i++) {
        store_rec_del(st, FRONT_KEEP_NS, kw.kw_bad_keys[i]);
        free(kw.kw_bad_keys[i]);
    }
    free(kw.kw_bad_keys);
    /* The CSeq and versions a resume skips to are written before any
     * NOTIFY uses them: a crash before the next flush would otherwise
     * resume from the old record and send the same numbers again. */
    for (ss = sf->sf_subs; ss != NULL; ss = ss->ss_next)
        front_keep_mark(ss);
    front_keep_flush(sf);
    for (ss = sf->sf_subs; ss != NULL; ss = next) {
        next = ss->ss_next;
        front_keep_start(ss);
    }
    log_info("subscribe resume-done resumed=%zu", kw.kw_resumed);
    return kw.kw_resumed;
}
