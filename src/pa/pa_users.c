/*
 * pa_users.c: loading the user map, and restoring state from the store
 * at start-up.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pa/pa_int.h"
#include "graph/graph.h"
#include "store/store.h"

static struct pa_user *
pa_user_new(const struct store_user *su)
{
    struct pa_user *u = xcalloc(1, sizeof(*u));
    int t;

    for (t = 0; t < AFE_FWD_COUNT; t++)
        u->pu_fwd[t].pf_ring_count = -1;
    u->pu_aor = xstrdup(su->su_aor);
    u->pu_id = xstrdup(su->su_id);
    u->pu_upn = xstrdup(su->su_upn);
    return u;
}

/* Adds or updates one row; the user is marked as kept. */
static void
pa_user_merge(struct pa *pa, const struct store_user *su)
{
    struct pa_user *u = htab_get(&pa->pa_users, su->su_aor);

    if (u == NULL) {
        u = pa_user_new(su);
        htab_put(&pa->pa_users, u->pu_aor, u);
        htab_put(&pa->pa_ids, u->pu_id, u);
    } else if (strcmp(u->pu_id, su->su_id) != 0) {
        /* The id index is rebuilt once the whole map is merged: two users
         * may have swapped ids. */
        log_info("pa user-remapped user=%s old=%s new=%s", u->pu_aor,
            u->pu_id, su->su_id);
        free(u->pu_id);
        u->pu_id = xstrdup(su->su_id);
    }
    u->pu_keep = 1;
}

struct pa_sweep {
    struct pa        *ps_pa;
    struct pa_user  **ps_gone;
    size_t            ps_ngone;
    const char      **ps_ids;
    size_t            ps_nids;
};

static void
pa_sweep_one(void *arg, void *val)
{
    struct pa_sweep *sw = arg;
    struct pa_user *u = val;

    if (!u->pu_keep) {
        sw->ps_gone = xrealloc(sw->ps_gone,
            (sw->ps_ngone + 1) * sizeof(*sw->ps_gone));
        sw->ps_gone[sw->ps_ngone++] = u;
        return;
    }
    u->pu_keep = 0;
    htab_put(&sw->ps_pa->pa_ids, u->pu_id, u);
    sw->ps_ids = xrealloc(sw->ps_ids, (sw->ps_nids + 1) * sizeof(char *));
    sw->ps_ids[sw->ps_nids++] = u->pu_id;
}

/* A user left the map: its watchers are told, its state dropped. */
static void
pa_user_remove(struct pa *pa, struct pa_user *u)
{
    struct pa_watcher *w, *next;

    log_info("pa user-removed user=%s", u->pu_aor);
    for (w = u->pu_watchers; w != NULL; w = next) {
        next = w->w_next;
        if (pa->pa_notifier.pn_terminate != NULL)
            pa->pa_notifier.pn_terminate(pa->pa_notifier.pn_arg,
                w->w_handle, u->pu_aor, "noresource");
        free(w);
    }
    u->pu_watchers = NULL;
    /* What presgw set in Teams for a user it no longer serves would stay
     * there (a call refreshed for ever): take it back. */
    if (u->pu_sess != PRES_SESS_CLEAR && pa->pa_graph != NULL)
        graph_set_session(pa->pa_graph, u->pu_id, PRES_SESS_CLEAR);
    if (u->pu_pref != PRES_PREF_CLEAR && pa->pa_graph != NULL)
        graph_set_pref(pa->pa_graph, u->pu_id, PRES_PREF_CLEAR);
    htab_del(&pa->pa_users, u->pu_aor);
    pa_pub_drop_all(pa, u);
    free(u->pu_aor);
    free(u->pu_id);
    free(u->pu_upn);
    free(u);
}

int
pa_load_users(struct pa *pa, const char *path, const char *domain,
    char **err)
{
    struct pa_sweep sw = { pa, NULL, 0, NULL, 0 };
    struct store_user *rows;
    size_t n, i;

    if (usermap_read(path, domain, &rows, &n, err) != 0)
        return -1;
    /* A store that fails to take the map is owed a resync, which
     * writes the map in force then: the map is served meanwhile. */
    if (store_users_replace(pa->pa_store, rows, n) != 0)
        log_warn("pa users-not-stored path=%s serving=from-memory", path);
    for (i = 0; i < n; i++)
        pa_user_merge(pa, &rows[i]);
    usermap_free(rows, n);

    htab_free(&pa->pa_ids);
    htab_init(&pa->pa_ids);
    htab_each(&pa->pa_users, pa_sweep_one, &sw);
    for (i = 0; i < sw.ps_ngone; i++)
        pa_user_remove(pa, sw.ps_gone[i]);
    if (pa->pa_graph != NULL)
        graph_set_watch(pa->pa_graph, sw.ps_ids, sw.ps_nids);
    log_info("pa users-loaded path=%s users=%zu removed=%zu", path,
        sw.ps_nids, sw.ps_ngone);
    free(sw.ps_gone);
    free(sw.ps_ids);
    return 0;
}

static void
pa_restore_pub(void *arg, const struct store_pub *sp)
{
    struct pa *pa = arg;
    struct pa_user *u = htab_get(&pa->pa_users, sp->sp_aor);
    struct pa_pub *p;

    if (u == NULL || sp->sp_expires <= clock_now() ||
        sp->sp_status < 0 || sp->sp_status >= PRES_STATUS_COUNT) {
        store_pub_del(pa->pa_store, sp->sp_etag);
        return;
    }
    p = xcalloc(1, sizeof(*p));
    xstrlcpy(p->pp_etag, sp->sp_etag, sizeof(p->pp_etag));
    xstrlcpy(p->pp_note, sp->sp_note, sizeof(p->pp_note));
    p->pp_expires = sp->sp_expires;
    p->pp_status = (enum pres_status)sp->sp_status;
    p->pp_user = u;
    p->pp_next = u->pu_pubs;
    u->pu_pubs = p;
    htab_put(&pa->pa_etags, p->pp_etag, p);
}

static void
pa_restore_teams(void *arg, const struct store_teams *st)
{
    struct pa *pa = arg;
    struct pa_user *u = htab_get(&pa->pa_ids, st->st_id);

    if (u == NULL)
        return;
    u->pu_teams = map_teams_status(st->st_availability, st->st_activity);
    xstrlcpy(u->pu_teams_avail, st->st_availability,
        sizeof(u->pu_teams_avail));
    xstrlcpy(u->pu_teams_act, st->st_activity, sizeof(u->pu_teams_act));
    xstrlcpy(u->pu_teams_seq, st->st_sequence, sizeof(u->pu_teams_seq));
}

static void
pa_restore_graph(void *arg, const struct store_graph *sg)
{
    struct pa *pa = arg;
    struct pa_user *u = htab_get(&pa->pa_ids, sg->sg_id);

    if (u == NULL)
        return;
    u->pu_sess = (enum pres_session)sg->sg_session;
    u->pu_pref = (enum pres_pref)sg->sg_pref;
}

/*
 * What was last handed to Graph: what Graph confirmed (graph_written),
 * unless a write restored from the store is still on its way.  A state
 * re-derived from the publications is then compared with that, so it
 * coalesces with the restored write instead of following it.
 */
static void
pa_restore_user(void *arg, void *val)
{
    struct pa *pa = arg;
    struct pa_user *u = val;
    enum pres_session sess;
    enum pres_pref pref;

    if (pa->pa_graph != NULL &&
        graph_queued_session(pa->pa_graph, u->pu_id, &sess) == 0)
        u->pu_sess = sess;
    if (pa->pa_graph != NULL &&
        graph_queued_pref(pa->pa_graph, u->pu_id, &pref) == 0)
        u->pu_pref = pref;
    pa_user_changed(arg, val, "restore");
    /* A call may have ended while presgwd was down. */
    pa_sync_graph(arg, val);
}

void
pa_restore(struct pa *pa)
{
    store_graph_each(pa->pa_store, pa_restore_graph, pa);
    store_teams_each(pa->pa_store, pa_restore_teams, pa);
    store_pub_each(pa->pa_store, pa_restore_pub, pa);
    htab_each(&pa->pa_users, pa_restore_user, pa);
    log_info("pa restored users=%zu publications=%zu",
        pa->pa_users.ht_count, pa->pa_etags.ht_count);
}
