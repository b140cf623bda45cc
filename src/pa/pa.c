/*
 * pa.c: users, their combined state, and the two directions of sync.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pa/pa_int.h"
#include "graph/graph.h"
#include "store/store.h"

/* Reads older than the last one in a row before a reset is assumed. */
#define PA_SEQ_BACK_MAX 3

struct pa *
pa_create(struct store *st, struct graph *g, const struct map_opts *opts)
{
    struct pa *pa = xcalloc(1, sizeof(*pa));
    struct timespec ts;

    pa->pa_store = st;
    pa->pa_graph = g;
    pa->pa_opts = *opts;
    htab_init(&pa->pa_users);
    htab_init(&pa->pa_ids);
    htab_init(&pa->pa_etags);
    /* Entity tags must not repeat across restarts: salt with the time. */
    clock_gettime(CLOCK_REALTIME, &ts);
    pa->pa_etag_salt = ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec;
    if (st != NULL)
        store_resync_add(st, pa_resync, pa);
    return pa;
}

static void
pa_user_free(struct pa *pa, struct pa_user *u)
{
    struct pa_watcher *w, *next;

    for (w = u->pu_watchers; w != NULL; w = next) {
        next = w->w_next;
        free(w);
    }
    pa_pub_drop_all(pa, u);
    free(u->pu_aor);
    free(u->pu_id);
    free(u->pu_upn);
    free(u);
}

static void
pa_free_one(void *arg, void *val)
{
    pa_user_free(arg, val);
}

void
pa_destroy(struct pa *pa)
{
    if (pa == NULL)
        return;
    if (pa->pa_store != NULL)
        store_resync_del(pa->pa_store, pa_resync, pa);
    htab_each(&pa->pa_users, pa_free_one, pa);
    htab_free(&pa->pa_users);
    htab_free(&pa->pa_ids);
    htab_free(&pa->pa_etags);
    free(pa);
}

void
pa_set_graph(struct pa *pa, struct graph *g)
{
    pa->pa_graph = g;
}

void
pa_set_notifier(struct pa *pa, const struct pa_notifier *n)
{
    pa->pa_notifier = *n;
}

void
pa_set_opts(struct pa *pa, const struct map_opts *opts)
{
    pa->pa_opts = *opts;
}

struct pa_user *
pa_user_find(struct pa *pa, const char *aor)
{
    return htab_get(&pa->pa_users, aor);
}

const char *
pa_user_aor(const struct pa_user *u)
{
    return u->pu_aor;
}

size_t
pa_user_count(const struct pa *pa)
{
    return pa->pa_users.ht_count;
}

size_t
pa_pub_count(const struct pa *pa)
{
    return pa->pa_etags.ht_count;
}

size_t
pa_user_pub_count(const struct pa_user *u)
{
    const struct pa_pub *p;
    size_t n = 0;

    for (p = u->pu_pubs; p != NULL; p = p->pp_next)
        n++;
    return n;
}

void
pa_user_state(const struct pa_user *u, struct pa_state *st)
{
    st->ps_aor = u->pu_aor;
    st->ps_view = u->pu_view;
    st->ps_dnd = u->pu_dnd_shown;
    st->ps_fwd = u->pu_fwd;
}

void
pa_notify_all(struct pa *pa, struct pa_user *u, unsigned changed)
{
    struct pa_watcher *w;
    struct pa_state st;

    if (pa->pa_notifier.pn_notify == NULL)
        return;
    pa_user_state(u, &st);
    for (w = u->pu_watchers; w != NULL; w = w->w_next)
        pa->pa_notifier.pn_notify(pa->pa_notifier.pn_arg, w->w_handle, &st,
            changed);
}

/*
 * Taking up the idle Available session when no call has been going on is
 * not worth a Graph write.  Dropping it is: a phone that went offline
 * must not leave Teams showing the user available (docs/mapping.md).
 */
static int
pa_sess_skip(enum pres_session want, enum pres_session held)
{
    return want == PRES_SESS_AVAILABLE && held == PRES_SESS_CLEAR;
}

/*
 * pu_sess and pu_pref are what was last handed to the Graph client; it
 * keeps them (in the store too) until Graph confirms them, and then
 * records them in graph_written.  One the client refuses (a full queue)
 * is not taken as handed over, so the next change tries again.
 */
void
pa_sync_graph(struct pa *pa, struct pa_user *u)
{
    struct map_intent in;

    map_phone_intent(u->pu_local, &pa->pa_opts, &in);
    if (in.mi_session != u->pu_sess &&
        !pa_sess_skip(in.mi_session, u->pu_sess)) {
        if ((u->pu_sess == PRES_SESS_IN_CALL ||
            u->pu_sess == PRES_SESS_CONFERENCE) &&
            (u->pu_teams == PRES_IN_CALL || u->pu_teams == PRES_CONFERENCE))
            u->pu_teams_stale = 1;
        if (graph_set_session(pa->pa_graph, u->pu_id, in.mi_session) == 0)
            u->pu_sess = in.mi_session;
    }
    if (in.mi_pref != u->pu_pref &&
        graph_set_pref(pa->pa_graph, u->pu_id, in.mi_pref) == 0)
        u->pu_pref = in.mi_pref;
}

/* Teams and phones to watchers: NOTIFY when what they see changes. */
/*
 * Teams as watchers should see it.  Once presgw has asked Teams to drop
 * what it set (a call that ended, a DND key released), Teams still shows
 * it until the next read; what Teams showed before stands in until Teams
 * says something new, so the lamp goes out with the call, not a poll
 * later.
 */
static enum pres_status
pa_teams_view(const struct pa_user *u)
{
    return u->pu_teams_stale ? u->pu_teams_prev : u->pu_teams;
}

/* Statuses that presgw itself may have put in Teams. */
static int
pa_teams_ours(enum pres_status s)
{
    return s == PRES_DND || s == PRES_IN_CALL || s == PRES_CONFERENCE;
}

static void
pa_update_view(struct pa *pa, struct pa_user *u)
{
    enum pres_status view = pres_status_combine(u->pu_local,
        pa_teams_view(u));
    unsigned changed = 0;

    if (view != u->pu_view) {
        log_info("pa view user=%s old=%s new=%s watchers=%s", u->pu_aor,
            pres_status_name(u->pu_view), pres_status_name(view),
            u->pu_watchers ? "yes" : "none");
        u->pu_view = view;
        changed |= PA_CHG_VIEW;
    }
    if ((view == PRES_DND) != u->pu_dnd_shown) {
        u->pu_dnd_shown = view == PRES_DND;
        changed |= PA_CHG_DND;
    }
    if (changed != 0 && u->pu_watchers != NULL)
        pa_notify_all(pa, u, changed);
}

void
pa_user_changed(struct pa *pa, struct pa_user *u, const char *why)
{
    enum pres_status local = PRES_UNKNOWN;
    struct pa_pub *p;

    for (p = u->pu_pubs; p != NULL; p = p->pp_next)
        local = pres_status_combine(local, p->pp_status);
    if (u->pu_dnd_key)
        local = pres_status_combine(local, PRES_DND);
    if (local != u->pu_local) {
        log_info("pa local user=%s old=%s new=%s cause=%s", u->pu_aor,
            pres_status_name(u->pu_local), pres_status_name(local), why);
        u->pu_local = local;
        pa_sync_graph(pa, u);
    }
    pa_update_view(pa, u);
}

/* Sequence numbers sort as strings; a longer one is a later one. */
static int
pa_seq_newer(const char *seq, const char *last)
{
    size_t a = strlen(seq), b = strlen(last);

    if (b == 0)
        return 1;
    if (a != b)
        return a > b;
    return strcmp(seq, last) > 0;
}

void
pa_teams_presence(void *arg, const char *user_id, const char *availability,
    const char *activity, const char *sequence)
{
    struct pa *pa = arg;
    struct pa_user *u = htab_get(&pa->pa_ids, user_id);
    struct store_teams st;
    enum pres_status s;

    if (u == NULL)
        return;
    if (sequence != NULL && sequence[0] != '\0') {
        /* Older versions are dropped; but Graph's versions only go up,
         * so older ones read again and again mean a reset we cannot see
         * otherwise, and after a few the new numbering is taken. */
        if (strcmp(sequence, u->pu_teams_seq) == 0)
            return;
        if (!pa_seq_newer(sequence, u->pu_teams_seq) &&
            ++u->pu_seq_back < PA_SEQ_BACK_MAX)
            return;
        if (u->pu_seq_back >= PA_SEQ_BACK_MAX)
            log_warn("pa teams-sequence-reset user=%s last=%s now=%s",
                u->pu_aor, u->pu_teams_seq, sequence);
        u->pu_seq_back = 0;
        xstrlcpy(u->pu_teams_seq, sequence, sizeof(u->pu_teams_seq));
    }
    s = map_teams_status(availability, activity ? activity : "");
    /* The same status under a newer sequence number, while presgw takes
     * it for one it asked Teams to drop: Teams dropped it and the user
     * set it again before this read (DND by hand right after a phone's
     * key released it, a Teams call right after a phone call).  It is
     * Teams' word again, so it stands. */
    if (s == u->pu_teams &&
        !(u->pu_teams_stale && sequence != NULL && sequence[0] != '\0'))
        return;
    log_info("pa teams user=%s availability=%s activity=%s status=%s",
        u->pu_aor, availability, activity ? activity : "-",
        pres_status_name(s));
    /* DND ended in Teams: a phone's DND key follows, and Teams no longer
     * holds a preferred DND for us to clear. */
    if (u->pu_teams == PRES_DND && s != PRES_DND && u->pu_dnd_key) {
        u->pu_dnd_key = 0;
        u->pu_pref = PRES_PREF_CLEAR;
        u->pu_teams = s;
        pa_user_changed(pa, u, "teams-dnd-off");
    }
    if (pa_teams_ours(s) && !pa_teams_ours(u->pu_teams))
        u->pu_teams_prev = u->pu_teams;
    u->pu_teams_stale = 0;
    u->pu_teams = s;
    xstrlcpy(u->pu_teams_avail, availability, sizeof(u->pu_teams_avail));
    xstrlcpy(u->pu_teams_act, activity ? activity : "",
        sizeof(u->pu_teams_act));
    st.st_id = u->pu_id;
    st.st_availability = availability;
    st.st_activity = activity ? activity : "";
    st.st_sequence = u->pu_teams_seq;
    store_teams_put(pa->pa_store, &st);
    pa_update_view(pa, u);
}

void
pa_dnd_key(struct pa *pa, struct pa_user *u, int on)
{
    int shown;

    log_info("pa dnd-key user=%s on=%d teams=%s", u->pu_aor, on,
        pres_status_name(u->pu_teams));
    /* Off on the phone means off in Teams, also for a DND the user set
     * there by hand, which presgw did not write. */
    if (!on && u->pu_teams == PRES_DND) {
        if (u->pu_pref != PRES_PREF_DND)
            graph_set_pref(pa->pa_graph, u->pu_id, PRES_PREF_CLEAR);
        u->pu_teams_stale = 1;
    }
    shown = u->pu_dnd_shown;
    u->pu_dnd_key = on != 0;
    pa_user_changed(pa, u, "dnd-key");
    /* The phone that pressed the key waits for a NOTIFY saying so, even
     * when nothing changed (DND was already on through Teams). */
    if (shown == u->pu_dnd_shown)
        pa_notify_all(pa, u, PA_CHG_DND);
}

void
pa_forwarding(struct pa *pa, struct pa_user *u, enum afe_fwd_type t,
    int on, const char *dn, int ring_count)
{
    struct pa_fwd *f = &u->pu_fwd[t];

    log_info("pa forwarding user=%s type=%d on=%d dn=%s", u->pu_aor,
        (int)t, on, dn);
    f->pf_on = on != 0;
    xstrlcpy(f->pf_dn, dn, sizeof(f->pf_dn));
    f->pf_ring_count = ring_count;
    pa_notify_all(pa, u, PA_CHG_FWD(t));
}
