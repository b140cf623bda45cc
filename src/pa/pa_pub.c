/*
 * pa_pub.c: publications (RFC 3903).  Each device's PUBLISH is its own
 * publication with its own entity tag; a user's local status combines
 * them all.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa/pa_int.h"
#include "store/store.h"

/*
 * RFC 3903 section 6: every successful PUBLISH gets a fresh entity tag.
 * A salt from the start time keeps tags from one run out of the next.
 */
static void
pa_etag_make(struct pa *pa, char event, char *out)
{
    uint64_t x = pa->pa_etag_salt + ++pa->pa_etag_seq * 0x9e3779b97f4a7c15u;

    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    snprintf(out, PA_ETAG_MAX, "%c%016" PRIx64 "%" PRIx64, event, x,
        pa->pa_etag_seq);
}

static void
pa_pub_save(struct pa *pa, const struct pa_pub *p)
{
    struct store_pub sp = {
        p->pp_etag, p->pp_user->pu_aor, p->pp_expires, (int)p->pp_status,
        p->pp_note
    };

    store_pub_put(pa->pa_store, &sp);
}

static void
pa_pub_apply(struct pa_pub *p, enum pres_status st, const char *note)
{
    p->pp_status = st;
    xstrlcpy(p->pp_note, note ? note : "", sizeof(p->pp_note));
}

void
pa_pub_new(struct pa *pa, struct pa_user *u, char event,
    enum pres_status st, const char *note, long expires, char *etag_out)
{
    struct pa_pub *p = xcalloc(1, sizeof(*p));

    pa_etag_make(pa, event, p->pp_etag);
    p->pp_expires = clock_now() + expires;
    p->pp_user = u;
    pa_pub_apply(p, st, note);
    p->pp_next = u->pu_pubs;
    u->pu_pubs = p;
    htab_put(&pa->pa_etags, p->pp_etag, p);
    pa_pub_save(pa, p);
    xstrlcpy(etag_out, p->pp_etag, PA_ETAG_MAX);
    log_info("publish new user=%s etag=%s status=%s expires=%ld",
        u->pu_aor, p->pp_etag, pres_status_name(p->pp_status), expires);
    pa_user_changed(pa, u, "publish");
}

/* The publication of u for event under etag, or NULL. */
static struct pa_pub *
pa_pub_find(struct pa *pa, struct pa_user *u, char event, const char *etag)
{
    struct pa_pub *p = htab_get(&pa->pa_etags, etag);

    return p != NULL && p->pp_user == u && etag[0] == event ? p : NULL;
}

enum pa_pub_result
pa_pub_update(struct pa *pa, struct pa_user *u, char event,
    const char *etag, int st, const char *note, long expires,
    char *etag_out)
{
    struct pa_pub *p = pa_pub_find(pa, u, event, etag);

    if (p == NULL)
        return PA_PUB_NO_ETAG;
    htab_del(&pa->pa_etags, p->pp_etag);
    store_pub_del(pa->pa_store, p->pp_etag);
    pa_etag_make(pa, event, p->pp_etag);
    htab_put(&pa->pa_etags, p->pp_etag, p);
    p->pp_expires = clock_now() + expires;
    if (st >= 0)
        pa_pub_apply(p, (enum pres_status)st, note);
    pa_pub_save(pa, p);
    xstrlcpy(etag_out, p->pp_etag, PA_ETAG_MAX);
    log_info("publish %s user=%s old-etag=%s etag=%s status=%s expires=%ld",
        st >= 0 ? "modify" : "refresh", u->pu_aor, etag, p->pp_etag,
        pres_status_name(p->pp_status), expires);
    if (st >= 0)
        pa_user_changed(pa, u, "publish");
    return PA_PUB_OK;
}

/* Unlinks p from its user and frees it; the store is the caller's. */
static void
pa_pub_unlink(struct pa *pa, struct pa_pub *p)
{
    struct pa_pub **pp;

    for (pp = &p->pp_user->pu_pubs; *pp != NULL; pp = &(*pp)->pp_next) {
        if (*pp == p) {
            *pp = p->pp_next;
            break;
        }
    }
    htab_del(&pa->pa_etags, p->pp_etag);
    free(p);
}

enum pa_pub_result
pa_pub_remove(struct pa *pa, struct pa_user *u, char event,
    const char *etag)
{
    struct pa_pub *p = pa_pub_find(pa, u, event, etag);

    if (p == NULL)
        return PA_PUB_NO_ETAG;
    log_info("publish remove user=%s etag=%s", u->pu_aor, etag);
    store_pub_del(pa->pa_store, etag);
    pa_pub_unlink(pa, p);
    pa_user_changed(pa, u, "unpublish");
    return PA_PUB_OK;
}

void
pa_pub_drop_all(struct pa *pa, struct pa_user *u)
{
    struct pa_pub *p, *next;

    for (p = u->pu_pubs; p != NULL; p = next) {
        next = p->pp_next;
        htab_del(&pa->pa_etags, p->pp_etag);
        free(p);
    }
    u->pu_pubs = NULL;
}

/* Drops u's expired publications; returns how many. */
static int
pa_expire_user(struct pa *pa, struct pa_user *u, time_t now)
{
    struct pa_pub *p, *next;
    int n = 0;

    for (p = u->pu_pubs; p != NULL; p = next) {
        next = p->pp_next;
        if (p->pp_expires > now)
            continue;
        log_info("publish expired user=%s etag=%s", u->pu_aor, p->pp_etag);
        store_pub_del(pa->pa_store, p->pp_etag);
        pa_pub_unlink(pa, p);
        n++;
    }
    return n;
}

struct pa_expiry {
    struct pa  *pe_pa;
    time_t      pe_now;
};

static void
pa_expire_one(void *arg, void *val)
{
    struct pa_expiry *pe = arg;
    struct pa_user *u = val;

    /* Changing u's view touches watchers only, never the user table. */
    if (u->pu_pubs != NULL && pa_expire_user(pe->pe_pa, u, pe->pe_now) > 0)
        pa_user_changed(pe->pe_pa, u, "expiry");
}

void
pa_expire(struct pa *pa)
{
    struct pa_expiry pe = { pa, clock_now() };

    htab_each(&pa->pa_users, pa_expire_one, &pe);
}
