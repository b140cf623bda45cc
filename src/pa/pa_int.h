/*
 * pa_int.h: the presence agent's own structures, shared by its files.
 */
#ifndef PRESGW_PA_INT_H
#define PRESGW_PA_INT_H

#include <stdint.h>

#include "core.h"
#include "pa/pa.h"

struct pa_pub {
    char                pp_etag[PA_ETAG_MAX];
    time_t              pp_expires;
    enum pres_status    pp_status;
    char                pp_note[PRES_NOTE_MAX];
    struct pa_user     *pp_user;
    struct pa_pub      *pp_next;        /* the user's publications */
};

struct pa_watcher {
    void               *w_handle;       /* the SIP front's handle */
    struct pa_user     *w_user;
    struct pa_watcher  *w_next;
    struct pa_watcher  *w_prev;
};

struct pa_user {
    char               *pu_aor;         /* "alice@example.com" */
    char               *pu_id;          /* Entra object id */
    char               *pu_upn;
    struct pa_pub      *pu_pubs;
    struct pa_watcher  *pu_watchers;
    enum pres_status    pu_local;       /* combined publications */
    enum pres_status    pu_teams;       /* last read from Graph */
    enum pres_status    pu_view;        /* what watchers were last sent */
    int                 pu_dnd_key;     /* a phone's DND key is on */
    int                 pu_teams_stale; /* Teams still shows what we took
                                           back (a call, a DND) */
    enum pres_status    pu_teams_prev;  /* Teams before that call or DND */
    int                 pu_seq_back;    /* reads older than the last */
    int                 pu_dnd_shown;   /* feature watchers see DND on */
    struct pa_fwd       pu_fwd[AFE_FWD_COUNT];
    char                pu_teams_seq[64];
    char                pu_teams_avail[32]; /* as Graph said it, for */
    char                pu_teams_act[64];   /* the store */
    enum pres_session   pu_sess;        /* last session state written */
    enum pres_pref      pu_pref;        /* last preferred state written */
    int                 pu_keep;        /* seen in the map being loaded */
};

struct pa {
    struct store       *pa_store;
    struct graph       *pa_graph;
    struct map_opts     pa_opts;
    struct pa_notifier  pa_notifier;
    struct htab         pa_users;       /* by AOR */
    struct htab         pa_ids;         /* by Entra id */
    struct htab         pa_etags;       /* publications by entity tag */
    uint64_t            pa_etag_salt;
    uint64_t            pa_etag_seq;
};

/* Recomputes u's local status, Graph intent and view after a change. */
void pa_user_changed(struct pa *pa, struct pa_user *u, const char *why);

/* Tells every watcher of u about the changes in changed. */
void pa_notify_all(struct pa *pa, struct pa_user *u, unsigned changed);

/*
 * Phone to Teams: asks Graph for what u's local status now means, unless
 * that is what was last written.
 */
void pa_sync_graph(struct pa *pa, struct pa_user *u);

/* Writes every row the agent owns again (store_resync_cb). */
void pa_resync(void *arg, struct store *s);

/* Frees every publication of u, in memory only. */
void pa_pub_drop_all(struct pa *pa, struct pa_user *u);

#endif
