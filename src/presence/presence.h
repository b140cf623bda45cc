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

#endif
