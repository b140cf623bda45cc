/*
 * presence.h: the presence model shared by every module, and its codecs:
 * PIDF (RFC 3863) with RPID (RFC 4480) and the data model (RFC 4479).
 *
 * libxml2 objects never leave the codec files: a document is parsed into
 * struct pres_doc and freed at once.
 */
#ifndef PRESGW_PRESENCE_H
#define PRESGW_PRESENCE_H

#include <stddef.h>

/*
 * What a presentity is doing, on one scale that phones and Teams both map
 * into.  The order is the display precedence: when two sources disagree,
 * pres_status_combine() shows the higher one.
 */
enum pres_status {
    PRES_UNKNOWN = 0,   /* nothing known */
    PRES_OFFLINE,       /* basic closed; Teams Offline, OffWork */
    PRES_AWAY,          /* rpid away; Teams Away */
    PRES_BRB,           /* Teams BeRightBack */
    PRES_AVAILABLE,     /* basic open, nothing else said */
    PRES_BUSY,          /* rpid busy; Teams Busy */
    PRES_MEETING,       /* rpid meeting; Teams InAMeeting */
    PRES_RINGING,       /* a call is ringing (Cisco ce:alerting) */
    PRES_IN_CALL,       /* rpid on-the-phone; Teams InACall */
    PRES_CONFERENCE,    /* in a conference call; Teams InAConferenceCall */
    PRES_DND,           /* do not disturb; Teams DoNotDisturb, Presenting */
    PRES_STATUS_COUNT
};

/* The <basic> element, combined over all tuples: open if any is open. */
enum pres_basic {
    PRES_BASIC_NONE = 0,  /* absent, or a value RFC 3863 does not allow */
    PRES_BASIC_OPEN,
    PRES_BASIC_CLOSED
};

/* Activities a document says, as bits (RPID, vendor elements, notes). */
#define PRES_ACT_ON_THE_PHONE   0x0001u
#define PRES_ACT_BUSY           0x0002u
#define PRES_ACT_AWAY           0x0004u
#define PRES_ACT_DND            0x0008u
#define PRES_ACT_MEETING        0x0010u
#define PRES_ACT_CONFERENCE     0x0020u
#define PRES_ACT_ALERTING       0x0040u
#define PRES_ACT_BRB            0x0080u
#define PRES_ACT_OFFWORK        0x0100u  /* vacation, holiday, absence */
#define PRES_ACT_HOLD           0x0200u  /* a call on hold */

#define PRES_ENTITY_MAX 256
#define PRES_NOTE_MAX   128

/* The facts one PIDF document states. */
struct pres_doc {
    char             pd_entity[PRES_ENTITY_MAX];
    enum pres_basic  pd_basic;
    unsigned         pd_acts;                  /* PRES_ACT_* bits */
    char             pd_note[PRES_NOTE_MAX];   /* first note, trimmed */
};

/*
 * Parses a PIDF body of len bytes.  DTDs, entity expansion and network
 * access are disabled.  On success fills doc and returns 0; on failure
 * returns -1 and writes a short reason (fit for a SIP reason phrase, such
 * as "PIDF not well-formed") into why.
 */
int pidf_parse(const char *body, size_t len, struct pres_doc *doc,
    char *why, size_t whylen);

/*
 * Builds a PIDF document with RPID for entity, showing st.  note may be
 * NULL for the default text of st.  Returns a string the caller frees,
 * or NULL when entity is not printable ASCII shorter than PRES_ENTITY_MAX.
 */
char *pidf_build(const char *entity, enum pres_status st, const char *note);

/* The PIDF dialects watchers need (docs/phones.md). */
enum pidf_flavour {
    PIDF_STANDARD = 0,      /* RFC 4480 RPID */
    PIDF_CISCO,             /* old RPID draft namespace, ce:dnd, ce:alerting */
    PIDF_FLAVOUR_COUNT
};

/* pidf_build() in the dialect f. */
char *pidf_build_for(const char *entity, enum pres_status st,
    const char *note, enum pidf_flavour f);

/* The dialect a watcher's User-Agent header calls for. */
enum pidf_flavour pidf_flavour_of(const char *user_agent);

/* The higher of a and b by display precedence. */
enum pres_status pres_status_combine(enum pres_status a, enum pres_status b);

/* A stable lower-case name ("in-call"), for logs and test files. */
const char *pres_status_name(enum pres_status st);

/* The reverse of pres_status_name(); -1 for an unknown name. */
int pres_status_parse(const char *name);

/*
 * What presgw wants Teams to hold, per mechanism.  Graph keeps an app
 * session (setPresence) and a preferred presence (setUserPreferredPresence)
 * apart; preferred beats every session.
 */
enum pres_session {
    PRES_SESS_CLEAR = 0,     /* no app session (clearPresence) */
    PRES_SESS_AVAILABLE,     /* Available/Available */
    PRES_SESS_IN_CALL,       /* Busy/InACall */
    PRES_SESS_CONFERENCE,    /* Busy/InAConferenceCall */
    PRES_SESS_AWAY           /* Away/Away */
};

enum pres_pref {
    PRES_PREF_CLEAR = 0,     /* clearUserPreferredPresence */
    PRES_PREF_DND,           /* DoNotDisturb/DoNotDisturb */
    PRES_PREF_AWAY           /* Away/Away */
};

const char *pres_session_name(enum pres_session s);
const char *pres_pref_name(enum pres_pref p);

/*
 * dialog-info (RFC 4235): BLF lamps.  A document is parsed into the
 * dialogs it lists; presgw builds one from a status for its watchers.
 */
enum dlg_state {
    DLG_NONE = 0,       /* no <state>, or a value RFC 4235 does not list */
    DLG_TRYING,
    DLG_PROCEEDING,
    DLG_EARLY,
    DLG_CONFIRMED,
    DLG_TERMINATED
};

enum dlg_direction {
    DLG_DIR_NONE = 0,
    DLG_DIR_INITIATOR,
    DLG_DIR_RECIPIENT
};

#define DLG_ID_MAX       128
#define DLG_URI_MAX      256
#define DLG_NAME_MAX     128
#define DLG_MAX_DIALOGS  32

struct dlg_dialog {
    char                dd_id[DLG_ID_MAX];
    enum dlg_state      dd_state;
    enum dlg_direction  dd_direction;
    char                dd_call_id[DLG_ID_MAX];
    char                dd_local_tag[DLG_ID_MAX];
    char                dd_remote_tag[DLG_ID_MAX];
    char                dd_local_uri[DLG_URI_MAX];    /* <local><identity> */
    char                dd_local_name[DLG_NAME_MAX];  /* its display= */
    char                dd_remote_uri[DLG_URI_MAX];
    char                dd_remote_name[DLG_NAME_MAX];
};

struct dlg_doc {
    char                di_entity[PRES_ENTITY_MAX];
    unsigned long       di_version;
    int                 di_full;          /* state="full" (else partial) */
    size_t              di_count;         /* dialogs kept, at most MAX */
    struct dlg_dialog   di_dialogs[DLG_MAX_DIALOGS];
};

/*
 * Parses a dialog-info body; the same safety rules and reason style as
 * pidf_parse().  Dialogs past DLG_MAX_DIALOGS are counted in the status
 * but not kept.  0 on success, -1 with why filled on failure.  doc is
 * large: callers keep it off small stacks or static.
 */
int dialoginfo_parse(const char *body, size_t len, struct dlg_doc *doc,
    char *why, size_t whylen);

/*
 * Builds a full-state dialog-info document for entity with the given
 * version, listing one dialog whose state shows st: confirmed for a
 * call, a conference, busy, a meeting and do not disturb, early with
 * direction recipient for ringing, terminated otherwise.  Every
 * document carries a <dialog> with an id (phones that get none show the
 * key as failed).  dlg, when not NULL, supplies the id, call-id, tags
 * and identities of a real dialog.
 * Returns a string the caller frees, or NULL when entity is not
 * non-empty printable ASCII shorter than PRES_ENTITY_MAX.
 */
char *dialoginfo_build(const char *entity, unsigned long version,
    enum pres_status st, const struct dlg_dialog *dlg);

/* The dialog state dialoginfo_build() shows for st. */
enum dlg_state dialoginfo_state_of(enum pres_status st);

/*
 * as-feature-event (the BroadWorks device feature key synchronisation,
 * ECMA-323 CSTA elements): handset DND and call forwarding.
 */
enum afe_kind {
    AFE_NONE = 0,         /* an empty body: the phone asks for state */
    AFE_SET_DND,          /* SetDoNotDisturb */
    AFE_SET_FORWARDING,   /* SetForwarding */
    AFE_DND_EVENT,        /* DoNotDisturbEvent, as a server notifies */
    AFE_FORWARDING_EVENT  /* ForwardingEvent, as a server notifies */
};

enum afe_fwd_type {
    AFE_FWD_IMMEDIATE = 0,   /* forwardImmediate */
    AFE_FWD_BUSY,            /* forwardBusy */
    AFE_FWD_NO_ANSWER,       /* forwardNoAns */
    AFE_FWD_COUNT
};

struct afe_request {
    enum afe_kind       ar_kind;
    char                ar_device[DLG_URI_MAX];
    int                 ar_dnd_on;
    enum afe_fwd_type   ar_fwd_type;
    int                 ar_fwd_on;
    char                ar_fwd_dn[DLG_URI_MAX];
    int                 ar_ring_count;      /* -1 when absent */
};

/*
 * Parses an as-feature-event body: a phone's request from a SUBSCRIBE,
 * or an event as a server notifies it (so what afe_build_*() writes
 * reads back).  Only the ECMA-323 ed3 namespace is accepted.  An empty
 * or blank body gives AFE_NONE.  The same safety rules and reason style
 * as pidf_parse(): 0, or -1 with why filled.
 */
int afe_parse(const char *body, size_t len, struct afe_request *req,
    char *why, size_t whylen);

/*
 * A DoNotDisturbEvent body in the ECMA-323 ed3 namespace.  Returns a
 * string the caller frees, or NULL when device is not printable ASCII
 * shorter than DLG_URI_MAX.
 */
char *afe_build_dnd(const char *device, int on);

/*
 * A ForwardingEvent body; dn may be "" (an empty forwardTo) and
 * ring_count -1 (no ringCount).  NULL for a bad device or dn (as for
 * afe_build_dnd()), an unknown type or a ring_count above 100.
 */
char *afe_build_forwarding(const char *device, enum afe_fwd_type type,
    int on, const char *dn, int ring_count);

/*
 * RLMI (RFC 4662): a resource list NOTIFY body, multipart/related with
 * an application/rlmi+xml root and one part per resource.
 */
struct rlmi_part {
    const char *rp_uri;          /* the resource */
    const char *rp_type;         /* its part's Content-Type */
    const char *rp_body;         /* its body; NULL: no state (pending) */
};

/*
 * Builds the whole multipart body for list uri with the given version;
 * full says full or partial state.  boundary receives the boundary used
 * (at least 40 bytes), for the Content-Type header:
 *   multipart/related;type="application/rlmi+xml";start="<cid>";
 *   boundary="..."
 * and start_cid the Content-ID of the root without the angle brackets
 * (at least 64 bytes).  The boundary occurs in no body.  Every URI must
 * be printable ASCII shorter than DLG_URI_MAX, and every part with a body
 * needs rp_type.  Returns a string the caller frees, or NULL when the
 * input is bad or the body would pass 1 MiB.
 */
char *rlmi_build(const char *uri, unsigned long version, int full,
    const struct rlmi_part *parts, size_t n, char *boundary,
    char *start_cid);

#endif
