/*
 * mapping.h: the rules between what phones say, what presgw asks of
 * Teams, and what Teams says back.  Each rule is one row of a static
 * table in mapping.c, mirrored row by row in docs/mapping.md.
 *
 * Pure functions: no state, callable from anywhere.
 */
#ifndef PRESGW_MAPPING_H
#define PRESGW_MAPPING_H

#include "presence/presence.h"

/* Choices the configuration makes about the phone-to-Teams direction. */
struct map_opts {
    int mo_call_end_clear;   /* call ended: clearPresence, not Available */
    int mo_away_session;     /* away: setPresence Away, not preferred */
};

/* What Teams should hold for one phone-side status. */
struct map_intent {
    enum pres_session mi_session;
    enum pres_pref    mi_pref;
};

/* The status a parsed PIDF document states, by the phone rules. */
enum pres_status map_doc_status(const struct pres_doc *doc);

/* The Teams state wanted for a combined phone-side status. */
void map_phone_intent(enum pres_status local, const struct map_opts *opts,
    struct map_intent *out);

/*
 * The status a Teams availability/activity pair shows to phones.  Values
 * are compared without regard to case; unknown ones give PRES_UNKNOWN.
 */
enum pres_status map_teams_status(const char *availability,
    const char *activity);

/*
 * The status a dialog-info document states: in a call while any dialog
 * is confirmed, ringing while any is early (or proceeding/trying as the
 * recipient), otherwise available.
 */
enum pres_status map_dialog_status(const struct dlg_doc *doc);

#endif
