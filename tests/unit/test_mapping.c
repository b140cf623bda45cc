/*
 * test_mapping.c: the mapping tables, row by row, as docs/mapping.md
 * states them.
 */
#include "config.h"

#include <string.h>

#include "core.h"
#include "mapping/mapping.h"
#include "testlib.h"

struct teams_case {
    const char        *tc_avail;
    const char        *tc_activity;
    enum pres_status   tc_want;
};

/* DESIGN.md section 3, Teams to phone, every pair it names. */
static const struct teams_case teams_cases[] = {
    { "Available",       "Available",               PRES_AVAILABLE },
    { "AvailableIdle",   "Available",               PRES_AVAILABLE },
    { "Available",       "OutOfOffice",             PRES_AVAILABLE },
    { "Busy",            "InACall",                 PRES_IN_CALL },
    { "Busy",            "InAConferenceCall",       PRES_CONFERENCE },
    { "Busy",            "InAMeeting",              PRES_MEETING },
    { "Busy",            "Busy",                    PRES_BUSY },
    { "BusyIdle",        "BusyIdle",                PRES_BUSY },
    { "BusyIdle",        "InACall",                 PRES_IN_CALL },
    { "DoNotDisturb",    "DoNotDisturb",            PRES_DND },
    { "DoNotDisturb",    "Presenting",              PRES_DND },
    { "DoNotDisturb",    "Focusing",                PRES_DND },
    { "DoNotDisturb",    "UrgentInterruptionsOnly", PRES_DND },
    { "Away",            "Away",                    PRES_AWAY },
    { "BeRightBack",     "BeRightBack",             PRES_BRB },
    { "Offline",         "OffWork",                 PRES_OFFLINE },
    { "Offline",         "Offline",                 PRES_OFFLINE },
    { "PresenceUnknown", "PresenceUnknown",         PRES_OFFLINE },
};

static void
teams_pairs_follow_design_table(void)
{
    size_t i;
    enum pres_status got;

    for (i = 0; i < sizeof(teams_cases) / sizeof(teams_cases[0]); i++) {
        got = map_teams_status(teams_cases[i].tc_avail,
            teams_cases[i].tc_activity);
        if (got != teams_cases[i].tc_want)
            fprintf(stderr, "%s/%s gave %s\n", teams_cases[i].tc_avail,
                teams_cases[i].tc_activity, pres_status_name(got));
        CHECK(got == teams_cases[i].tc_want);
    }
}

static void
teams_values_ignore_case(void)
{
    CHECK(map_teams_status("busy", "inacall") == PRES_IN_CALL);
    CHECK(map_teams_status("doNotDisturb", "presenting") == PRES_DND);
    CHECK(map_teams_status("BERIGHTBACK", NULL) == PRES_BRB);
}

static void
teams_missing_activity_uses_availability(void)
{
    CHECK(map_teams_status("Busy", NULL) == PRES_BUSY);
    CHECK(map_teams_status("Available", NULL) == PRES_AVAILABLE);
    CHECK(map_teams_status("Offline", NULL) == PRES_OFFLINE);
}

static void
teams_unknown_values_are_unknown(void)
{
    CHECK(map_teams_status(NULL, NULL) == PRES_UNKNOWN);
    CHECK(map_teams_status(NULL, "InACall") == PRES_UNKNOWN);
    CHECK(map_teams_status("Sleeping", "Dreaming") == PRES_UNKNOWN);
    CHECK(map_teams_status("", "") == PRES_UNKNOWN);
}

struct intent_case {
    enum pres_status   ic_status;
    int                ic_call_end_clear;
    int                ic_away_session;
    enum pres_session  ic_session;
    enum pres_pref     ic_pref;
};

#define AVAIL PRES_SESS_AVAILABLE
#define CLEAR PRES_SESS_CLEAR

/* Every status with each of the four option settings. */
static const struct intent_case intent_cases[] = {
    { PRES_UNKNOWN,    0, 0, AVAIL,                PRES_PREF_CLEAR },
    { PRES_UNKNOWN,    1, 0, CLEAR,                PRES_PREF_CLEAR },
    { PRES_UNKNOWN,    0, 1, AVAIL,                PRES_PREF_CLEAR },
    { PRES_UNKNOWN,    1, 1, CLEAR,                PRES_PREF_CLEAR },
    { PRES_OFFLINE,    0, 0, CLEAR,                PRES_PREF_CLEAR },
    { PRES_OFFLINE,    1, 0, CLEAR,                PRES_PREF_CLEAR },
    { PRES_OFFLINE,    0, 1, CLEAR,                PRES_PREF_CLEAR },
    { PRES_OFFLINE,    1, 1, CLEAR,                PRES_PREF_CLEAR },
    { PRES_AWAY,       0, 0, AVAIL,                PRES_PREF_AWAY },
    { PRES_AWAY,       1, 0, CLEAR,                PRES_PREF_AWAY },
    { PRES_AWAY,       0, 1, PRES_SESS_AWAY,       PRES_PREF_CLEAR },
    { PRES_AWAY,       1, 1, PRES_SESS_AWAY,       PRES_PREF_CLEAR },
    { PRES_BRB,        0, 0, AVAIL,                PRES_PREF_AWAY },
    { PRES_BRB,        1, 0, CLEAR,                PRES_PREF_AWAY },
    { PRES_BRB,        0, 1, PRES_SESS_AWAY,       PRES_PREF_CLEAR },
    { PRES_BRB,        1, 1, PRES_SESS_AWAY,       PRES_PREF_CLEAR },
    { PRES_AVAILABLE,  0, 0, AVAIL,                PRES_PREF_CLEAR },
    { PRES_AVAILABLE,  1, 0, CLEAR,                PRES_PREF_CLEAR },
    { PRES_AVAILABLE,  0, 1, AVAIL,                PRES_PREF_CLEAR },
    { PRES_AVAILABLE,  1, 1, CLEAR,                PRES_PREF_CLEAR },
    { PRES_BUSY,       0, 0, AVAIL,                PRES_PREF_CLEAR },
    { PRES_BUSY,       1, 0, CLEAR,                PRES_PREF_CLEAR },
    { PRES_BUSY,       0, 1, AVAIL,                PRES_PREF_CLEAR },
    { PRES_BUSY,       1, 1, CLEAR,                PRES_PREF_CLEAR },
    { PRES_MEETING,    0, 0, AVAIL,                PRES_PREF_CLEAR },
    { PRES_MEETING,    1, 0, CLEAR,                PRES_PREF_CLEAR },
    { PRES_MEETING,    0, 1, AVAIL,                PRES_PREF_CLEAR },
    { PRES_MEETING,    1, 1, CLEAR,                PRES_PREF_CLEAR },
    { PRES_RINGING,    0, 0, AVAIL,                PRES_PREF_CLEAR },
    { PRES_RINGING,    1, 0, CLEAR,                PRES_PREF_CLEAR },
    { PRES_RINGING,    0, 1, AVAIL,                PRES_PREF_CLEAR },
    { PRES_RINGING,    1, 1, CLEAR,                PRES_PREF_CLEAR },
    { PRES_IN_CALL,    0, 0, PRES_SESS_IN_CALL,    PRES_PREF_CLEAR },
    { PRES_IN_CALL,    1, 0, PRES_SESS_IN_CALL,    PRES_PREF_CLEAR },
    { PRES_IN_CALL,    0, 1, PRES_SESS_IN_CALL,    PRES_PREF_CLEAR },
    { PRES_IN_CALL,    1, 1, PRES_SESS_IN_CALL,    PRES_PREF_CLEAR },
    { PRES_CONFERENCE, 0, 0, PRES_SESS_CONFERENCE, PRES_PREF_CLEAR },
    { PRES_CONFERENCE, 1, 0, PRES_SESS_CONFERENCE, PRES_PREF_CLEAR },
    { PRES_CONFERENCE, 0, 1, PRES_SESS_CONFERENCE, PRES_PREF_CLEAR },
    { PRES_CONFERENCE, 1, 1, PRES_SESS_CONFERENCE, PRES_PREF_CLEAR },
    { PRES_DND,        0, 0, AVAIL,                PRES_PREF_DND },
    { PRES_DND,        1, 0, CLEAR,                PRES_PREF_DND },
    { PRES_DND,        0, 1, AVAIL,                PRES_PREF_DND },
    { PRES_DND,        1, 1, CLEAR,                PRES_PREF_DND },
};

static void
phone_intent_for_every_status_and_option(void)
{
    const struct intent_case *c;
    struct map_opts opts;
    struct map_intent got;
    size_t i;
    int seen[PRES_STATUS_COUNT] = { 0 };

    for (i = 0; i < sizeof(intent_cases) / sizeof(intent_cases[0]); i++) {
        c = &intent_cases[i];
        opts.mo_call_end_clear = c->ic_call_end_clear;
        opts.mo_away_session = c->ic_away_session;
        map_phone_intent(c->ic_status, &opts, &got);
        if (got.mi_session != c->ic_session || got.mi_pref != c->ic_pref)
            fprintf(stderr, "%s clear=%d session=%d gave %s/%s\n",
                pres_status_name(c->ic_status), c->ic_call_end_clear,
                c->ic_away_session, pres_session_name(got.mi_session),
                pres_pref_name(got.mi_pref));
        CHECK(got.mi_session == c->ic_session);
        CHECK(got.mi_pref == c->ic_pref);
        seen[c->ic_status]++;
    }
    for (i = 0; i < PRES_STATUS_COUNT; i++)
        CHECK(seen[i] == 4);
}

static void
phone_intent_without_opts_uses_defaults(void)
{
    struct map_intent got;

    map_phone_intent(PRES_AVAILABLE, NULL, &got);
    CHECK(got.mi_session == PRES_SESS_AVAILABLE);
    CHECK(got.mi_pref == PRES_PREF_CLEAR);
    map_phone_intent(PRES_AWAY, NULL, &got);
    CHECK(got.mi_pref == PRES_PREF_AWAY);
}

static enum pres_status
doc_status(enum pres_basic basic, unsigned acts)
{
    struct pres_doc doc;

    memset(&doc, 0, sizeof(doc));
    doc.pd_basic = basic;
    doc.pd_acts = acts;
    return map_doc_status(&doc);
}

static void
doc_status_follows_precedence(void)
{
    unsigned all = PRES_ACT_DND | PRES_ACT_CONFERENCE |
        PRES_ACT_ON_THE_PHONE | PRES_ACT_ALERTING | PRES_ACT_MEETING |
        PRES_ACT_BUSY | PRES_ACT_BRB | PRES_ACT_AWAY | PRES_ACT_OFFWORK;

    /* Take the winner away one at a time; the next in line shows. */
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_DND);
    all &= ~PRES_ACT_DND;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_CONFERENCE);
    all &= ~PRES_ACT_CONFERENCE;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_IN_CALL);
    all &= ~PRES_ACT_ON_THE_PHONE;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_RINGING);
    all &= ~PRES_ACT_ALERTING;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_MEETING);
    all &= ~PRES_ACT_MEETING;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_BUSY);
    all &= ~PRES_ACT_BUSY;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_BRB);
    all &= ~PRES_ACT_BRB;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_AWAY);
    all &= ~PRES_ACT_AWAY;
    CHECK(doc_status(PRES_BASIC_OPEN, all) == PRES_AWAY);
    CHECK(doc_status(PRES_BASIC_OPEN, 0) == PRES_AVAILABLE);
    CHECK(doc_status(PRES_BASIC_CLOSED, 0) == PRES_OFFLINE);
    CHECK(doc_status(PRES_BASIC_NONE, 0) == PRES_UNKNOWN);
}

static void
doc_hold_counts_as_call(void)
{
    CHECK(doc_status(PRES_BASIC_OPEN, PRES_ACT_HOLD) == PRES_IN_CALL);
    CHECK(doc_status(PRES_BASIC_OPEN, PRES_ACT_HOLD | PRES_ACT_ALERTING)
        == PRES_IN_CALL);
}

static void
doc_activity_beats_closed(void)
{
    /* CUCM publishes closed with busy while its user is busy. */
    CHECK(doc_status(PRES_BASIC_CLOSED, PRES_ACT_BUSY) == PRES_BUSY);
    CHECK(doc_status(PRES_BASIC_NONE, PRES_ACT_DND) == PRES_DND);
}

int
main(void)
{
    log_init("test_mapping", 0, LOG_LVL_WARN);
    TEST_RUN(teams_pairs_follow_design_table);
    TEST_RUN(teams_values_ignore_case);
    TEST_RUN(teams_missing_activity_uses_availability);
    TEST_RUN(teams_unknown_values_are_unknown);
    TEST_RUN(phone_intent_for_every_status_and_option);
    TEST_RUN(phone_intent_without_opts_uses_defaults);
    TEST_RUN(doc_status_follows_precedence);
    TEST_RUN(doc_hold_counts_as_call);
    TEST_RUN(doc_activity_beats_closed);
    return test_done();
}
