/*
 * pa_resync.c: writing everything the agent keeps in the store again,
 * from memory, once the store takes writes after losing some (a full
 * disk, say).  The store calls this inside one transaction.  What was
 * written to Graph is the Graph client's to rewrite (graph_persist.c).
 */
#include "config.h"

#include <stdlib.h>

#include "pa/pa_int.h"
#include "store/store.h"

struct pa_rows {
    struct pa          *pr_pa;
    struct store       *pr_store;
    struct store_user  *pr_users;
    size_t              pr_n;
};

static void
pa_resync_user(void *arg, void *val)
{
    struct pa_rows *r = arg;
    struct pa_user *u = val;
    struct store_teams st = {
        u->pu_id, u->pu_teams_avail, u->pu_teams_act, u->pu_teams_seq
    };
    struct store_pub sp;
    struct pa_pub *p;

    r->pr_users[r->pr_n].su_aor = u->pu_aor;
    r->pr_users[r->pr_n].su_id = u->pu_id;
    r->pr_users[r->pr_n].su_upn = u->pu_upn;
    r->pr_n++;
    if (u->pu_teams_avail[0] != '\0')
        store_teams_put(r->pr_store, &st);
    for (p = u->pu_pubs; p != NULL; p = p->pp_next) {
        sp.sp_etag = p->pp_etag;
        sp.sp_aor = u->pu_aor;
        sp.sp_expires = p->pp_expires;
        sp.sp_status = (int)p->pp_status;
        sp.sp_note = p->pp_note;
        store_pub_put(r->pr_store, &sp);
    }
}

void
pa_resync(void *arg, struct store *s)
{
    struct pa *pa = arg;
    struct pa_rows r = { pa, s, NULL, 0 };

    r.pr_users = xcalloc(pa->pa_users.ht_count + 1, sizeof(*r.pr_users));
    store_clear(s, STORE_PUBS);
    store_clear(s, STORE_TEAMS);
    htab_each(&pa->pa_users, pa_resync_user, &r);
    store_users_replace(s, r.pr_users, r.pr_n);
    log_info("pa resync users=%zu publications=%zu", r.pr_n,
        pa->pa_etags.ht_count);
    free(r.pr_users);
}
