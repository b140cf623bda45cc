/*
 * mapping.c: the rules between phone state, Graph intents and Teams
 * presence, as tables.  docs/mapping.md repeats each table row by row;
 * change both together.
 */
#include "config.h"

#include <stddef.h>
#include <strings.h>

#include "core.h"
#include "mapping/mapping.h"

#define MAP_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Phone document to status.  The first row whose activity bits meet the
 * document wins, so the order is the precedence; activities beat <basic>
 * because a phone in a call may still say closed (CUCM does).
 */
struct map_act_row {
    unsigned          ma_acts;     /* any of these PRES_ACT_* bits */
    enum pres_status  ma_status;
};

static const struct map_act_row map_act_rows[] = {
    /* the DND key outranks everything the phone is doing */
    { PRES_ACT_DND,                          PRES_DND },
    /* a conference is the more specific kind of call */
    { PRES_ACT_CONFERENCE,                   PRES_CONFERENCE },
    /* in a call; a held call is still a call */
    { PRES_ACT_ON_THE_PHONE | PRES_ACT_HOLD, PRES_IN_CALL },
    /* ringing, not yet answered */
    { PRES_ACT_ALERTING,                     PRES_RINGING },
    /* in a meeting */
    { PRES_ACT_MEETING,                      PRES_MEETING },
    /* busy without a reason */
    { PRES_ACT_BUSY,                         PRES_BUSY },
    /* back soon: ranks above away, as in pres_status_combine() */
    { PRES_ACT_BRB,                          PRES_BRB },
    /* away; days off read as away too, the person is not at work */
    { PRES_ACT_AWAY | PRES_ACT_OFFWORK,      PRES_AWAY },
};

/* Then <basic>, combined over all tuples. */
static const enum pres_status map_basic_rows[] = {
    [PRES_BASIC_NONE]   = PRES_UNKNOWN,    /* missing or invalid */
    [PRES_BASIC_OPEN]   = PRES_AVAILABLE,  /* reachable, nothing else */
    [PRES_BASIC_CLOSED] = PRES_OFFLINE,    /* not reachable */
};

enum pres_status
map_doc_status(const struct pres_doc *doc)
{
    size_t i;

    for (i = 0; i < MAP_NELEM(map_act_rows); i++) {
        if ((doc->pd_acts & map_act_rows[i].ma_acts) != 0)
            return map_act_rows[i].ma_status;
    }
    if ((unsigned)doc->pd_basic >= MAP_NELEM(map_basic_rows))
        return PRES_UNKNOWN;
    return map_basic_rows[doc->pd_basic];
}

/*
 * Status to Graph intent.  Some cells depend on the configuration, so
 * the table names a rule and map_phone_intent() resolves it.
 */
enum map_sess_rule {
    MAP_SESS_CLEAR,        /* clearPresence */
    MAP_SESS_IN_CALL,      /* Busy/InACall */
    MAP_SESS_CONFERENCE,   /* Busy/InAConferenceCall */
    MAP_SESS_IDLE,         /* the call-ended state: Available, or clear */
    MAP_SESS_AWAY          /* Away/Away when away goes to the session */
};

enum map_pref_rule {
    MAP_PREF_CLEAR,        /* clearUserPreferredPresence */
    MAP_PREF_DND,          /* DoNotDisturb/DoNotDisturb */
    MAP_PREF_AWAY          /* Away/Away unless away goes to the session */
};

struct map_intent_row {
    enum map_sess_rule  mr_session;
    enum map_pref_rule  mr_pref;
};

static const struct map_intent_row map_intent_rows[PRES_STATUS_COUNT] = {
    /* no publication left (removed, expired) or no basic status: a call
     * that was going on has ended, so the call-ended state */
    [PRES_UNKNOWN]    = { MAP_SESS_IDLE,       MAP_PREF_CLEAR },
    /* the phone is gone: never claim the user available for it */
    [PRES_OFFLINE]    = { MAP_SESS_CLEAR,      MAP_PREF_CLEAR },
    /* preferred Away, or a session Away, by graph.away_mode */
    [PRES_AWAY]       = { MAP_SESS_AWAY,       MAP_PREF_AWAY },
    /* Graph has no session BeRightBack; treated as away */
    [PRES_BRB]        = { MAP_SESS_AWAY,       MAP_PREF_AWAY },
    /* idle phone: the call-ended state */
    [PRES_AVAILABLE]  = { MAP_SESS_IDLE,       MAP_PREF_CLEAR },
    /* Busy/Busy is no setPresence pair; no call, so the idle state */
    [PRES_BUSY]       = { MAP_SESS_IDLE,       MAP_PREF_CLEAR },
    /* Teams knows its own meetings; a phone's word adds nothing */
    [PRES_MEETING]    = { MAP_SESS_IDLE,       MAP_PREF_CLEAR },
    /* not yet a call: Teams turns busy when it is answered */
    [PRES_RINGING]    = { MAP_SESS_IDLE,       MAP_PREF_CLEAR },
    /* DESIGN 3: setPresence Busy/InACall while the call lasts */
    [PRES_IN_CALL]    = { MAP_SESS_IN_CALL,    MAP_PREF_CLEAR },
    /* DESIGN 3: setPresence Busy/InAConferenceCall */
    [PRES_CONFERENCE] = { MAP_SESS_CONFERENCE, MAP_PREF_CLEAR },
    /* DND lives in the preferred presence, which beats every session */
    [PRES_DND]        = { MAP_SESS_IDLE,       MAP_PREF_DND },
};

static enum pres_session
map_session(enum map_sess_rule rule, const struct map_opts *opts)
{
    switch (rule) {
    case MAP_SESS_IN_CALL:
        return PRES_SESS_IN_CALL;
    case MAP_SESS_CONFERENCE:
        return PRES_SESS_CONFERENCE;
    case MAP_SESS_AWAY:
        if (opts->mo_away_session)
            return PRES_SESS_AWAY;
        return map_session(MAP_SESS_IDLE, opts);
    case MAP_SESS_IDLE:
        return opts->mo_call_end_clear ? PRES_SESS_CLEAR
            : PRES_SESS_AVAILABLE;
    case MAP_SESS_CLEAR:
        break;
    }
    return PRES_SESS_CLEAR;
}

static enum pres_pref
map_pref(enum map_pref_rule rule, const struct map_opts *opts)
{
    switch (rule) {
    case MAP_PREF_DND:
        return PRES_PREF_DND;
    case MAP_PREF_AWAY:
        return opts->mo_away_session ? PRES_PREF_CLEAR : PRES_PREF_AWAY;
    case MAP_PREF_CLEAR:
        break;
    }
    return PRES_PREF_CLEAR;
}

void
map_phone_intent(enum pres_status local, const struct map_opts *opts,
    struct map_intent *out)
{
    static const struct map_opts defaults = { 0, 0 };
    const struct map_intent_row *row;

    if (opts == NULL)
        opts = &defaults;
    if ((unsigned)local >= PRES_STATUS_COUNT)
        local = PRES_UNKNOWN;
    row = &map_intent_rows[local];
    out->mi_session = map_session(row->mr_session, opts);
    out->mi_pref = map_pref(row->mr_pref, opts);
}

/*
 * Teams availability/activity to status (DESIGN 3).  The first row that
 * matches wins; a NULL activity matches any activity, or none.
 */
struct map_teams_row {
    const char        *mt_avail;
    const char        *mt_activity;
    enum pres_status   mt_status;
};

static const struct map_teams_row map_teams_rows[] = {
    /* present and free */
    { "Available",       NULL,                PRES_AVAILABLE },
    /* free, but the client is idle: still reachable */
    { "AvailableIdle",   NULL,                PRES_AVAILABLE },
    /* in a Teams or PSTN call */
    { "Busy",            "InACall",           PRES_IN_CALL },
    /* in a conference call */
    { "Busy",            "InAConferenceCall", PRES_CONFERENCE },
    /* in a calendar meeting */
    { "Busy",            "InAMeeting",        PRES_MEETING },
    /* busy by hand, or any other busy activity */
    { "Busy",            NULL,                PRES_BUSY },
    /* idle client but in a call (on another device): still a call */
    { "BusyIdle",        "InACall",           PRES_IN_CALL },
    /* as above, a conference */
    { "BusyIdle",        "InAConferenceCall", PRES_CONFERENCE },
    /* as above, a meeting */
    { "BusyIdle",        "InAMeeting",        PRES_MEETING },
    /* any other idle busy */
    { "BusyIdle",        NULL,                PRES_BUSY },
    /* DoNotDisturb, Presenting, Focusing, UrgentInterruptionsOnly */
    { "DoNotDisturb",    NULL,                PRES_DND },
    /* away, by hand or after inactivity */
    { "Away",            NULL,                PRES_AWAY },
    /* be right back */
    { "BeRightBack",     NULL,                PRES_BRB },
    /* signed out, or Appear offline (Offline/OffWork) */
    { "Offline",         NULL,                PRES_OFFLINE },
    /* Teams cannot tell: shown as offline rather than as nothing */
    { "PresenceUnknown", NULL,                PRES_OFFLINE },
};

enum pres_status
map_teams_status(const char *availability, const char *activity)
{
    const struct map_teams_row *row;
    size_t i;

    if (availability == NULL)
        return PRES_UNKNOWN;
    for (i = 0; i < MAP_NELEM(map_teams_rows); i++) {
        row = &map_teams_rows[i];
        if (strcasecmp(row->mt_avail, availability) != 0)
            continue;
        if (row->mt_activity == NULL)
            return row->mt_status;
        if (activity != NULL && strcasecmp(row->mt_activity, activity) == 0)
            return row->mt_status;
    }
    return PRES_UNKNOWN;
}

/*
 * dialog-info to status (RFC 4235).  Each dialog gives the status of the
 * first row it matches, and the document shows the highest of them, so
 * a confirmed dialog beats a ringing one and both beat terminated ones
 * (TB30: the lamp is off only when every dialog is terminated).
 */
struct map_dlg_row {
    enum dlg_state      md_state;
    enum dlg_direction  md_dir;      /* DLG_DIR_NONE matches any */
    enum pres_status    md_status;
};

static const struct map_dlg_row map_dlg_rows[] = {
    /* the call is up, whoever placed it */
    { DLG_CONFIRMED,  DLG_DIR_NONE,      PRES_IN_CALL },
    /* early either way: towards the entity it rings, outwards the far
     * end does, and BLF phones blink for both */
    { DLG_EARLY,      DLG_DIR_NONE,      PRES_RINGING },
    /* an INVITE arrived and the phone is about to ring */
    { DLG_PROCEEDING, DLG_DIR_RECIPIENT, PRES_RINGING },
    /* as proceeding */
    { DLG_TRYING,     DLG_DIR_RECIPIENT, PRES_RINGING },
};

static enum pres_status
map_dlg_one(const struct dlg_dialog *d)
{
    const struct map_dlg_row *row;
    size_t i;

    for (i = 0; i < MAP_NELEM(map_dlg_rows); i++) {
        row = &map_dlg_rows[i];
        if (row->md_state == d->dd_state &&
            (row->md_dir == DLG_DIR_NONE || row->md_dir == d->dd_direction))
            return row->md_status;
    }
    /* terminated, dialling out, or no state: the phone is free */
    return PRES_AVAILABLE;
}

enum pres_status
map_dialog_status(const struct dlg_doc *doc)
{
    enum pres_status st = PRES_AVAILABLE;
    size_t i;

    if (doc == NULL)
        return PRES_UNKNOWN;
    for (i = 0; i < doc->di_count && i < DLG_MAX_DIALOGS; i++)
        st = pres_status_combine(st, map_dlg_one(&doc->di_dialogs[i]));
    return st;
}
