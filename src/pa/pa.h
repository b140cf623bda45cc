/*
 * pa.h: the presence agent.  It holds every mapped user with the state
 * that shapes what watchers see and what Teams is told:
 *
 *   publications (one per device) --> local status --> Graph intent
 *                                          |
 *   Teams presence (from Graph) ---------> view --> NOTIFY to watchers
 *
 * The SIP front calls in with PUBLISH and SUBSCRIBE events; the Graph
 * client calls in with presence reads.  Everything runs on the event loop.
 */
#ifndef PRESGW_PA_H
#define PRESGW_PA_H

#include <stddef.h>
#include <time.h>

#include "presence/presence.h"
#include "mapping/mapping.h"

struct store;
struct graph;
struct pa;
struct pa_user;
struct pa_watcher;

/* One kind of call forwarding, as a phone's feature key shows it. */
struct pa_fwd {
    int     pf_on;
    char    pf_dn[DLG_URI_MAX];
    int     pf_ring_count;          /* -1: not set */
};

/* What the watchers of a user are shown. */
struct pa_state {
    const char             *ps_aor;
    enum pres_status        ps_view;
    int                     ps_dnd;     /* a DND key shows on */
    const struct pa_fwd    *ps_fwd;     /* [AFE_FWD_COUNT] */
};

/* What changed since the last notification, as bits. */
#define PA_CHG_VIEW     0x01u
#define PA_CHG_DND      0x02u
#define PA_CHG_FWD(t)   (0x04u << (t))      /* t: enum afe_fwd_type */
#define PA_CHG_ALL      0xffu

/* How the agent reaches watchers; the SIP front fills this in. */
struct pa_notifier {
    /*
     * Tells the watcher behind handle that its user's state changed;
     * the front decides from changed whether its event package cares.
     */
    void (*pn_notify)(void *arg, void *handle, const struct pa_state *st,
        unsigned changed);
    /* The watcher behind handle lost its user aor (it left the map). */
    void (*pn_terminate)(void *arg, void *handle, const char *aor,
        const char *reason);
    void *pn_arg;
};

struct pa *pa_create(struct store *st, struct graph *g,
    const struct map_opts *opts);
void pa_destroy(struct pa *pa);
/* The Graph client is made after the agent, as it calls back into it. */
void pa_set_graph(struct pa *pa, struct graph *g);
void pa_set_notifier(struct pa *pa, const struct pa_notifier *n);
void pa_set_opts(struct pa *pa, const struct map_opts *opts);

/*
 * Loads the user map file into the store and the agent.  Users that stay
 * keep their state; users that left lose their watchers.  On error the
 * old map stays in force and -1 is returned with *err set.
 */
int pa_load_users(struct pa *pa, const char *path, const char *domain,
    char **err);

/* Restores publications, Teams presence and written Graph state. */
void pa_restore(struct pa *pa);

/* The user with canonical AOR "user@host", or NULL. */
struct pa_user *pa_user_find(struct pa *pa, const char *aor);
const char *pa_user_aor(const struct pa_user *u);
size_t pa_user_count(const struct pa *pa);
/* Publications in force, for status reports; those of one user. */
size_t pa_pub_count(const struct pa *pa);
size_t pa_user_pub_count(const struct pa_user *u);

/* PUBLISH results, as SIP answers them. */
enum pa_pub_result {
    PA_PUB_OK,          /* 200 */
    PA_PUB_NO_ETAG      /* 412: no publication has that entity tag */
};

/*
 * Publications (RFC 3903), from PIDF or dialog-info documents, each
 * already turned into a status.  etag_out receives the entity tag the
 * answer carries (PA_ETAG_MAX bytes); event is the package (its first
 * letter begins the tag).  pa_pub_new() stores a new
 * publication; pa_pub_update() refreshes (st < 0) or modifies the
 * publication etag of user u; pa_pub_remove() removes it.
 */
#define PA_ETAG_MAX 40

/* RFC 3903 section 4.1: an entity tag belongs to one event package. */
#define PA_PUB_PRESENCE 'p'
#define PA_PUB_DIALOG   'd'

void pa_pub_new(struct pa *pa, struct pa_user *u, char event,
    enum pres_status st, const char *note, long expires, char *etag_out);
enum pa_pub_result pa_pub_update(struct pa *pa, struct pa_user *u,
    char event, const char *etag, int st, const char *note, long expires,
    char *etag_out);
enum pa_pub_result pa_pub_remove(struct pa *pa, struct pa_user *u,
    char event, const char *etag);

/* Expires publications whose time has come; called by a timer. */
void pa_expire(struct pa *pa);

/*
 * Watchers.  pa_watch_add() registers handle as a watcher of u;
 * pa_watch_del() forgets it.  pa_watch_state() fills st with what the
 * watcher's user shows now (valid until the next agent call).
 */
struct pa_watcher *pa_watch_add(struct pa *pa, struct pa_user *u,
    void *handle);
void pa_watch_del(struct pa *pa, struct pa_watcher *w);
void pa_watch_state(const struct pa_watcher *w, struct pa_state *st);
void pa_user_state(const struct pa_user *u, struct pa_state *st);

/*
 * A phone's DND key (as-feature-event SetDoNotDisturb).  On sets the
 * user's preferred presence in Teams; off clears it, also when it was
 * set in Teams by hand.  Every feature watcher of u hears the result.
 */
void pa_dnd_key(struct pa *pa, struct pa_user *u, int on);

/* A phone's forwarding key (SetForwarding); Teams has no such state. */
void pa_forwarding(struct pa *pa, struct pa_user *u, enum afe_fwd_type t,
    int on, const char *dn, int ring_count);

/* A presence read from Graph (graph_presence_cb). */
void pa_teams_presence(void *arg, const char *user_id,
    const char *availability, const char *activity, const char *sequence);

#endif
