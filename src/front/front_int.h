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

#include "core.h"
#include "pa/pa.h"

struct front {
    su_root_t          *sf_root;
    nua_t              *sf_nua;
    struct pa          *sf_pa;
    char               *sf_domain;
    char               *sf_aliases;
    long                sf_min_expires;
    long                sf_max_expires;
    long                sf_max_body;
    void              (*sf_done)(void *arg);
    void               *sf_done_arg;
    su_timer_t         *sf_stop_timer;
    struct htab         sf_lists;       /* struct front_list by URI */
    struct front_sub   *sf_subs;        /* every accepted subscription */
    int                 sf_stopping;
    int                 sf_nua_down;    /* nua_shutdown has finished */
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
    struct front_sub   *ss_next;      /* on sf_subs */
    struct front_sub   *ss_prev;
};

/* Frees ss and its handle; reason is for the log. */
void front_sub_free(struct front_sub *ss, const char *reason);

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
    struct front_sub *ss, int status, tagi_t tags[]);

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
void front_list_member_gone(struct front_sub *ss, const char *aor);
void front_list_release(struct front_sub *ss);
void front_lists_free(struct front *sf);

#endif
