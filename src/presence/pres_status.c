/*
 * pres_status.c: names for the presence model's enums, and the one rule
 * that combines two statuses.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "core.h"
#include "presence/presence.h"

/* Stable names: they appear in logs and in the golden test files, so a
 * renamed entry breaks those files. */
static const char *const pres_status_names[PRES_STATUS_COUNT] = {
    [PRES_UNKNOWN]    = "unknown",     /* nothing known */
    [PRES_OFFLINE]    = "offline",     /* closed, or Teams Offline */
    [PRES_AWAY]       = "away",        /* rpid away, Teams Away */
    [PRES_BRB]        = "brb",         /* Teams BeRightBack */
    [PRES_AVAILABLE]  = "available",   /* open, nothing else said */
    [PRES_BUSY]       = "busy",        /* rpid busy, Teams Busy */
    [PRES_MEETING]    = "meeting",     /* rpid meeting, Teams InAMeeting */
    [PRES_RINGING]    = "ringing",     /* a call is alerting */
    [PRES_IN_CALL]    = "in-call",     /* rpid on-the-phone, Teams InACall */
    [PRES_CONFERENCE] = "conference",  /* Teams InAConferenceCall */
    [PRES_DND]        = "dnd",         /* do not disturb */
};

/* Names of the app session presgw holds through setPresence. */
static const char *const pres_session_names[] = {
    [PRES_SESS_CLEAR]      = "clear",       /* clearPresence */
    [PRES_SESS_AVAILABLE]  = "available",   /* Available/Available */
    [PRES_SESS_IN_CALL]    = "in-call",     /* Busy/InACall */
    [PRES_SESS_CONFERENCE] = "conference",  /* Busy/InAConferenceCall */
    [PRES_SESS_AWAY]       = "away",        /* Away/Away */
};

/* Names of the preferred presence set by setUserPreferredPresence. */
static const char *const pres_pref_names[] = {
    [PRES_PREF_CLEAR] = "clear",   /* clearUserPreferredPresence */
    [PRES_PREF_DND]   = "dnd",     /* DoNotDisturb/DoNotDisturb */
    [PRES_PREF_AWAY]  = "away",    /* Away/Away */
};

#define PRES_NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum pres_status
pres_status_combine(enum pres_status a, enum pres_status b)
{
    /* The enum is declared in display order, so the higher value wins.
     * A value outside the enum counts as nothing known. */
    if ((unsigned)a >= PRES_STATUS_COUNT)
        a = PRES_UNKNOWN;
    if ((unsigned)b >= PRES_STATUS_COUNT)
        b = PRES_UNKNOWN;
    return a > b ? a : b;
}

const char *
pres_status_name(enum pres_status st)
{
    if ((unsigned)st >= PRES_STATUS_COUNT)
        return "invalid";
    return pres_status_names[st];
}

int
pres_status_parse(const char *name)
{
    size_t i;

    if (name == NULL)
        return -1;
    for (i = 0; i < PRES_NELEM(pres_status_names); i++) {
        if (strcasecmp(name, pres_status_names[i]) == 0)
            return (int)i;
    }
    return -1;
}

const char *
pres_session_name(enum pres_session s)
{
    if ((unsigned)s >= PRES_NELEM(pres_session_names))
        return "invalid";
    return pres_session_names[s];
}

const char *
pres_pref_name(enum pres_pref p)
{
    if ((unsigned)p >= PRES_NELEM(pres_pref_names))
        return "invalid";
    return pres_pref_names[p];
}
