/*
 * front.h: the SIP front.  It takes PUBLISH and SUBSCRIBE for the presence
 * event package through Sofia-SIP's nua on the shared su_root, answers
 * them as RFC 3903 and RFC 6665 say, and sends NOTIFY for the presence
 * agent.  Sofia-SIP's own log is routed into ours.
 */
#ifndef PRESGW_FRONT_H
#define PRESGW_FRONT_H

#define SU_ROOT_MAGIC_T void
#include <sofia-sip/su_wait.h>

struct pa;
struct front;
struct store;

struct front_conf {
    const char *sc_listen;       /* "sip:127.0.0.1:5070" */
    const char *sc_domain;       /* the user map's domain */
    const char *sc_aliases;      /* other hosts for the domain */
    long        sc_min_expires;
    long        sc_max_expires;
    long        sc_max_body;
    long        sc_max_pubs;       /* live publications per user */
    long        sc_notify_retries; /* NOTIFY tries after a failure */
    long        sc_notify_timeout; /* s: timer F of every request sent */
    int         sc_keep_on_stop;   /* a stop keeps subscriptions */
};

/* Starts listening.  NULL (after logging why) if the stack fails. */
struct front *front_create(su_root_t *root,
    const struct front_conf *conf, struct pa *pa);

struct store_list;

/*
 * Takes the resource lists (RFC 4662), replacing the ones in force.
 * Every member must be a mapped user; else -1 with *err (caller frees)
 * and the old lists stay.  Call after the user map is loaded.
 */
int front_set_lists(struct front *sf, const struct store_list *l,
    size_t n, char **err);

/*
 * Subscriptions live in st (namespace "sub") from their first answered
 * NOTIFY on, so that a restart resumes them in their dialogs: call once,
 * after front_set_lists().  Each kept subscription gets a NOTIFY of the
 * state now, with a higher CSeq; one that expired meanwhile gets its
 * final NOTIFY.  Returns how many were resumed.
 */
size_t front_resume(struct front *sf, struct store *st);

/* Subscriptions accepted and not yet ended, for status reports. */
size_t front_sub_count(const struct front *sf);

/* Takes new limits and aliases on reload (the listen address stays). */
void front_reconfigure(struct front *sf, const struct front_conf *conf);

/*
 * Begins a clean stop: new requests get 503; subscriptions are kept in
 * the store for the next start (or ended, with sc_keep_on_stop 0) and
 * the stack shut down.
 * done() is called from the loop when that has finished or timed out.
 */
void front_shutdown(struct front *sf, void (*done)(void *arg),
    void *arg);

/* Frees the front after front_shutdown() has finished. */
void front_destroy(struct front *sf);

/*
 * True after a front stopped keeping its subscriptions: its SIP stack
 * is left running, and the event loop it is on must not be destroyed
 * before the process exits.
 */
int front_abandoned(void);

/* Routes Sofia-SIP's log through ours; call once before any nua use. */
void front_log_init(void);

#endif
