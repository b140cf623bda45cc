/*
 * front_int.h: the SIP front's own types, shared by its files.
 */
#ifndef PRESGW_FRONT_INT_H
#define PRESGW_FRONT_INT_H

struct front;
struct front_sub;

#define NUA_MAGIC_T  struct front
#define NUA_HMAGIC_T struct front_sub

#include "front/front.h"

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_tagarg.h>

#include <stdint.h>
#include <time.h>

#include "core.h"
#include "pa/pa.h"

struct store;

struct front {
    su_root_t          *sf_root;
    nua_t              *sf_nua;
    struct pa          *sf_pa;
    char               *sf_domain;
    char               *sf_aliases;
    long                sf_min_expires;
    long                sf_max_expires;
    long                sf_max_body;
    long                sf_max_pubs;
    void              (*sf_done)(void *arg);
    void               *sf_done_arg;
    su_timer_t         *sf_stop_timer;
    struct htab         sf_lists;       /* struct front_list by URI */
    struct front_sub   *sf_subs;        /* every accepted subscription */
    int                 sf_stopping;
    int                 sf_nua_down;    /* nua_shutdown has finished */
    long                sf_notify_retries;
    int                 sf_keep_on_stop;
    struct store       *sf_store;       /* NULL until front_resume */
    su_timer_t         *sf_keep_timer;  /* writes changed dialogs */
    size_t              sf_keep_dirty;  /* dialogs waiting for it */
    int                 sf_abandon;     /* stopped keeping subscriptions */
};

/* The event packages served (for Allow-Events), and their bodies. */
#define FRONT_EVENTS "presence, dialog, as-feature-event"

enum front_kind {
    FK_PRESENCE,        /* RFC 3856: PIDF with RPID */
    FK_DIALOG,          /* RFC 4235: dialog-info, for BLF keys */
    FK_FEATURE          /* as-feature-event: handset DND and forwarding */
};

struct front_event {
    const char         *fe_name;      /* the Event header's package */
    const char         *fe_type;      /* its body's Content-Type */
    enum front_kind     fe_kind;
    int                 fe_publish;   /* PUBLISH of it is taken */
};

/* The package a request's Event header names, or NULL. */
const struct front_event *front_event_find(const sip_t *sip);

/* One resource of a list subscription (RFC 4662). */
struct front_member {
    char                fm_aor[256];
    char                fm_uri[260];  /* "sip:" fm_aor, for the RLMI */
    struct pa_watcher  *fm_watcher;   /* NULL once its user left */
    unsigned long       fm_version;   /* its dialog-info version */
    int                 fm_dirty;     /* changed since the last NOTIFY */
};

/* The store namespace of kept subscriptions, and how far a resumed
 * dialog's CSeq and body versions skip ahead (front_keep.c). */
#define FRONT_KEEP_NS        "sub"
#define FRONT_KEEP_GAP       1000

/*
 * What a restart needs to go on with a subscription's dialog (RFC 3261
 * section 12): kept in the store by front_keep.c.
 */
struct front_dialog {
    char               *fd_key;       /* Call-ID, remote tag, event */
    char               *fd_call_id;
    char               *fd_local;     /* our end with our tag */
    char               *fd_remote;    /* the watcher's, with its tag */
    char               *fd_target;    /* the watcher's Contact URI */
    char               *fd_route;     /* Record-Route, in order; or NULL */
    char               *fd_event;     /* the Event header as it came */
    uint32_t            fd_lcseq;     /* our last NOTIFY answered */
    uint32_t            fd_rcseq;     /* the watcher's last SUBSCRIBE */
    time_t              fd_expires;   /* absolute, clock_now() */
    int                 fd_dirty;     /* to be written at the next flush */
    int                 fd_kept;      /* a record of it is in the store */
};

/* One accepted subscription: the nua handle is bound to it. */
struct front_sub {
    struct front       *ss_front;
    nua_handle_t       *ss_nh;
    struct pa_watcher  *ss_watcher;   /* NULL once it is ending */
    const struct front_event *ss_event;
    unsigned long       ss_version;   /* dialog-info version, next one */
    int                 ss_shown;     /* dialog state last sent, or -1 */
    enum pidf_flavour   ss_flavour;   /* PIDF dialect, by User-Agent */
    unsigned            ss_dirty;     /* changes waiting (PA_CHG_*) */
    int                 ss_inflight;  /* a NOTIFY awaits its answer */
    int                 ss_ending;    /* unsubscribed; the end is near */
    char                ss_aor[256];  /* the user, or the list */
    int                 ss_is_list;   /* RFC 4662: ss_aor is a list */
    struct front_member *ss_members;  /* a list subscription: its users */
    size_t              ss_nmembers;
    unsigned long       ss_rlmi_version;
    int                 ss_list_full; /* the next list NOTIFY: full state */
    struct front_dialog ss_dlg;
    int                 ss_revive;    /* next NOTIFY re-creates the usage */
    int                 ss_routed;    /* NOTIFYs without a usage, along
                                       * the route set: front_routed.c */
    su_timer_t         *ss_expiry;    /* a routed dialog's end */
    int                 ss_failures;  /* NOTIFYs failed in a row */
    su_timer_t         *ss_retry;     /* the next try after a failure */
    struct front_sub   *ss_next;      /* on sf_subs */
    struct front_sub   *ss_prev;
};

/* Frees ss and its handle; reason is for the log.  The end is final:
 * its record leaves the store. */
void front_sub_free(struct front_sub *ss, const char *reason);

/* Frees ss and its handle but keeps its record for the next start. */
void front_sub_drop(struct front_sub *ss);

/* Sends ss a final NOTIFY (terminated;reason=reason); freed on its answer. */
void front_sub_end(struct front_sub *ss, const char *reason);

/* Puts ss on the front's list of subscriptions, or takes it off. */
void front_sub_link(struct front *sf, struct front_sub *ss);
void front_sub_unlink(struct front *sf, struct front_sub *ss);

/*
 * Finds the user a request is for: the Request-URI's user at the domain
 * (or an alias).  Answers 404 itself and returns NULL when there is none.
 */
struct pa_user *front_find_user(struct front *sf, nua_t *nua,
    nua_handle_t *nh, const sip_t *sip);

/* Answers an incoming request and logs a refusal at info. */
void front_reply(struct front *sf, nua_handle_t *nh, int status,
    const char *phrase, const sip_t *sip, tag_type_t tag,
    tag_value_t value, ...);

/* The Expires a request asks for, cut to our range; -1 after a 423. */
long front_expires(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    long dflt);

void front_publish_handle(struct front *sf, nua_handle_t *nh,
    const sip_t *sip);
void front_subscribe_handle(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, const sip_t *sip, tagi_t tags[]);
void front_notify_answered(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, int status, const char *phrase, const sip_t *sip,
    tagi_t tags[]);

/*
 * Sends a NOTIFY with body (NULL: none) of type ctype.  sstate, when not
 * NULL, is the Subscription-State; require adds a Require header.  A
 * subscription being revived gets its usage re-created first.
 */
void front_notify_body(struct front_sub *ss, enum nua_substate substate,
    const char *sstate, const char *ctype, const char *body,
    const char *require);

/*
 * Sends ss the NOTIFY that changed calls for, if its package cares;
 * with substate terminated a NOTIFY always goes.
 */
void front_notify_state(struct front_sub *ss, const struct pa_state *st,
    unsigned changed, enum nua_substate substate);

/* Sends what changed while a NOTIFY of ss was in flight. */
void front_notify_flush(struct front_sub *ss);

/* The notifier the presence agent calls (pa_notifier). */
void front_notify_send(void *arg, void *handle, const struct pa_state *st,
    unsigned changed);
void front_notify_terminate(void *arg, void *handle, const char *aor,
    const char *reason);

/*
 * Resource lists (RFC 4662).  front_list_subscribe() takes a SUBSCRIBE
 * whose URI is a list: it answers it and returns 1, or returns 0 when
 * the URI is no list.  The others serve subscriptions with ss_members.
 */
int front_list_subscribe(struct front *sf, nua_handle_t *nh,
    const sip_t *sip, const struct front_event *ev);
void front_list_changed(struct front_sub *ss, const struct pa_state *st);
void front_list_flush(struct front_sub *ss);
void front_list_flush_full(struct front_sub *ss);
void front_list_member_gone(struct front_sub *ss, const char *aor);
void front_list_release(struct front_sub *ss);
int front_list_resume(struct front_sub *ss, unsigned long version);
unsigned long front_list_version(const struct front_sub *ss);

/*
 * Keeping subscriptions across restarts (front_keep.c).  _request
 * learns the dialog from a SUBSCRIBE (new or refresh), _answer from the
 * answer to a NOTIFY; both mark it to be written.  _forget deletes the
 * record, _release only frees what ss holds.  front_sub_revive() gives
 * ss a new handle made from its dialog, for a resumed subscription or
 * one whose usage nua ended after a failed NOTIFY; front_sub_rehandle()
 * only the handle.
 */
void front_keep_request(struct front_sub *ss, const sip_t *sip,
    long expires);
void front_keep_answer(struct front_sub *ss, const sip_t *sip);
void front_keep_forget(struct front_sub *ss);
void front_keep_release(struct front_sub *ss);
void front_keep_flush(struct front *sf);
void front_keep_open(struct front *sf, struct store *st);
void front_keep_mark(struct front_sub *ss);
void front_keep_stop(struct front *sf);
int front_sub_revive(struct front_sub *ss);
int front_sub_rehandle(struct front_sub *ss);

/*
 * Resumed dialogs with a route set (front_routed.c): _send sends a NOTIFY
 * with Subscription-State sstate, _answered takes its answer
 * (nua_r_method), _release stops its timer.
 */
void front_routed_send(struct front_sub *ss, const char *sstate,
    const char *ctype, const char *body, const char *require);
void front_routed_answered(struct front *sf, nua_handle_t *nh,
    struct front_sub *ss, int status, const char *phrase, const sip_t *sip);
void front_routed_release(struct front_sub *ss);
void front_lists_free(struct front *sf);

#endif
