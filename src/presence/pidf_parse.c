/*
 * pidf_parse.c: reads a PIDF body (RFC 3863) with RPID (RFC 4480) and the
 * data model (RFC 4479) into struct pres_doc.
 *
 * Phones write PIDF in many dialects (see corpus/NOTES.md), so elements
 * are matched by namespace URI and local name, never by prefix, and
 * anything we do not know is skipped.  The libxml2 tree lives only inside
 * presxml_read(), called by pidf_parse(): it is converted to our model
 * and freed before returning.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "core.h"
#include "presence/presence.h"
#include "presence/presxml.h"

/* Short texts such as <basic> and <im:im> values. */
#define PIDF_WORD_MAX 32

/* The namespaces we read; every other one is skipped. */
enum pidf_ns {
    PIDF_NS_OTHER = 0,
    PIDF_NS_PIDF,     /* presence, tuple, status, basic, note */
    PIDF_NS_DM,       /* person, note */
    PIDF_NS_RPID,     /* activities and their values */
    PIDF_NS_CISCO,    /* Cisco's own activity values */
    PIDF_NS_IM        /* the im status of the RFC 3863 examples */
};

struct pidf_ns_row {
    const char    *nr_uri;
    enum pidf_ns   nr_ns;
};

static const struct pidf_ns_row pidf_ns_rows[] = {
    /* RFC 3863 */
    { "urn:ietf:params:xml:ns:pidf",             PIDF_NS_PIDF },
    /* the CPIM PIDF drafts before RFC 3863 */
    { "urn:ietf:params:xml:ns:cpim-pidf",        PIDF_NS_PIDF },
    /* the same, as spelled in draft examples, with a trailing colon */
    { "urn:ietf:params:xml:ns:cpim-pidf:",       PIDF_NS_PIDF },
    /* RFC 4479 data model: person, device */
    { "urn:ietf:params:xml:ns:pidf:data-model",  PIDF_NS_DM },
    /* RFC 4480 */
    { "urn:ietf:params:xml:ns:pidf:rpid",        PIDF_NS_RPID },
    /* the RPID draft namespace, which Cisco phones still use */
    { "urn:ietf:params:xml:ns:pidf:status:rpid", PIDF_NS_RPID },
    /* Cisco extensions: ce:dnd, ce:alerting */
    { "urn:cisco:params:xml:ns:pidf:rpid",       PIDF_NS_CISCO },
    /* RFC 3863 examples, snom: <im:im>busy</im:im> */
    { "urn:ietf:params:xml:ns:pidf:im",          PIDF_NS_IM },
    /* the same in the CPIM draft */
    { "urn:ietf:params:xml:ns:cpim-pidf:im",     PIDF_NS_IM },
};

/* Activity elements, by namespace and local name. */
struct pidf_act_row {
    enum pidf_ns   ar_ns;
    const char    *ar_name;
    unsigned       ar_act;
};

static const struct pidf_act_row pidf_act_rows[] = {
    /* RFC 4480 3.2: in a call */
    { PIDF_NS_RPID,  "on-the-phone",      PRES_ACT_ON_THE_PHONE },
    /* busy, without saying why */
    { PIDF_NS_RPID,  "busy",              PRES_ACT_BUSY },
    /* away from the phone */
    { PIDF_NS_RPID,  "away",              PRES_ACT_AWAY },
    /* in a meeting */
    { PIDF_NS_RPID,  "meeting",           PRES_ACT_MEETING },
    /* a calendar appointment: reads as a meeting to a caller */
    { PIDF_NS_RPID,  "appointment",       PRES_ACT_MEETING },
    /* giving a talk: a meeting, not a reason to force DND on Teams */
    { PIDF_NS_RPID,  "presentation",      PRES_ACT_MEETING },
    /* meals take the person away from the desk */
    { PIDF_NS_RPID,  "meal",              PRES_ACT_AWAY },
    /* as meal */
    { PIDF_NS_RPID,  "breakfast",         PRES_ACT_AWAY },
    /* as meal */
    { PIDF_NS_RPID,  "dinner",            PRES_ACT_AWAY },
    /* days off */
    { PIDF_NS_RPID,  "vacation",          PRES_ACT_OFFWORK },
    /* as vacation */
    { PIDF_NS_RPID,  "holiday",           PRES_ACT_OFFWORK },
    /* left for good */
    { PIDF_NS_RPID,  "permanent-absence", PRES_ACT_OFFWORK },
    /* Cisco: the DND key (PUBLISH with dndControl=0) */
    { PIDF_NS_CISCO, "dnd",               PRES_ACT_DND },
    /* Cisco: a call is ringing */
    { PIDF_NS_CISCO, "alerting",          PRES_ACT_ALERTING },
};

/*
 * Notes that carry state.  Several phones and PBXs say "busy" only in a
 * note (Zoiper, Asterisk's hold and ringing); the whole trimmed note must
 * match, without regard to case, so free text never matches by accident.
 */
struct pidf_note_row {
    const char    *nt_text;
    unsigned       nt_act;
};

static const struct pidf_note_row pidf_note_rows[] = {
    /* Asterisk in use, Zoiper, pidf_build() */
    { "On the phone",          PRES_ACT_ON_THE_PHONE },
    /* common client wording */
    { "In a call",             PRES_ACT_ON_THE_PHONE },
    /* common client wording */
    { "On a call",             PRES_ACT_ON_THE_PHONE },
    /* Asterisk ONHOLD: only the note tells hold from in use */
    { "On hold",               PRES_ACT_HOLD },
    /* Asterisk RINGING */
    { "Ringing",               PRES_ACT_ALERTING },
    /* Kamailio tests, pidf_build() */
    { "Busy",                  PRES_ACT_BUSY },
    /* pidf_build() for DND */
    { "Do not disturb",        PRES_ACT_DND },
    /* short form */
    { "Don't disturb",         PRES_ACT_DND },
    /* phone display text */
    { "DND",                   PRES_ACT_DND },
    /* pidf_build() for a conference */
    { "In a conference call",  PRES_ACT_CONFERENCE },
    /* short form */
    { "In a conference",       PRES_ACT_CONFERENCE },
    /* pidf_build() for a meeting */
    { "In a meeting",          PRES_ACT_MEETING },
    /* short form */
    { "Meeting",               PRES_ACT_MEETING },
    /* Linphone, pidf_build() */
    { "Away",                  PRES_ACT_AWAY },
    /* snom presence menu */
    { "Lunch",                 PRES_ACT_AWAY },
    /* long form */
    { "Out to lunch",          PRES_ACT_AWAY },
    /* pidf_build() for BRB */
    { "Be right back",         PRES_ACT_BRB },
    /* short form */
    { "BRB",                   PRES_ACT_BRB },
    /* Outlook wording */
    { "Out of office",         PRES_ACT_OFFWORK },
    /* short form */
    { "On vacation",           PRES_ACT_OFFWORK },
};

#define PIDF_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What presxml_read() says of a body that never gets to pidf_convert(). */
static const struct presxml_kind pidf_kind = {
    "pidf",                    /* logs "pidf parse error" */
    "empty PIDF body",         /* no body */
    "PIDF body too large",     /* longer than libxml2 takes */
    "PIDF not well-formed",    /* not XML */
};

/* What one parse has seen so far. */
struct pidf_scan {
    struct pres_doc *ps_doc;
    int              ps_open;     /* some tuple said open */
    int              ps_closed;   /* some tuple said closed */
};

static enum pidf_ns
pidf_ns_of(const xmlNode *n)
{
    size_t i;

    for (i = 0; i < PIDF_NELEM(pidf_ns_rows); i++) {
        if (presxml_in_ns(n, pidf_ns_rows[i].nr_uri))
            return pidf_ns_rows[i].nr_ns;
    }
    return PIDF_NS_OTHER;
}

/* Is n the element {ns}name? */
static int
pidf_is(const xmlNode *n, enum pidf_ns ns, const char *name)
{
    return n->type == XML_ELEMENT_NODE && pidf_ns_of(n) == ns &&
        strcmp((const char *)n->name, name) == 0;
}

static unsigned
pidf_act_lookup(enum pidf_ns ns, const char *name)
{
    size_t i;

    for (i = 0; i < PIDF_NELEM(pidf_act_rows); i++) {
        if (pidf_act_rows[i].ar_ns == ns &&
            strcmp(pidf_act_rows[i].ar_name, name) == 0)
            return pidf_act_rows[i].ar_act;
    }
    return 0;
}

static unsigned
pidf_note_lookup(const char *text)
{
    size_t i;

    for (i = 0; i < PIDF_NELEM(pidf_note_rows); i++) {
        if (strcasecmp(pidf_note_rows[i].nt_text, text) == 0)
            return pidf_note_rows[i].nt_act;
    }
    return 0;
}

/* A note anywhere we read notes: keep the first, learn from each. */
static void
pidf_take_note(const xmlNode *n, struct pidf_scan *ps)
{
    char text[PRES_NOTE_MAX];

    (void)presxml_text(n, text, sizeof(text));
    if (text[0] == '\0')
        return;
    ps->ps_doc->pd_acts |= pidf_note_lookup(text);
    if (ps->ps_doc->pd_note[0] == '\0')
        xstrlcpy(ps->ps_doc->pd_note, text, sizeof(ps->ps_doc->pd_note));
}

/*
 * <rpid:activities>: each child element names one activity.  Text mixed
 * in among them (OpenSIPS writes "<rpid:away/>away") is ignored; the
 * element says it already.
 */
static void
pidf_scan_activities(const xmlNode *acts, struct pidf_scan *ps)
{
    const xmlNode *n;

    for (n = acts->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (pidf_is(n, PIDF_NS_RPID, "note"))
            pidf_take_note(n, ps);
        else
            ps->ps_doc->pd_acts |= pidf_act_lookup(pidf_ns_of(n),
                (const char *)n->name);
    }
}

/* <status> of a tuple: basic, the im extension, old-style activities. */
static void
pidf_scan_status(const xmlNode *status, struct pidf_scan *ps)
{
    const xmlNode *n;
    char word[PIDF_WORD_MAX];

    for (n = status->children; n != NULL; n = n->next) {
        if (pidf_is(n, PIDF_NS_PIDF, "basic")) {
            /* RFC 3863 allows only open and closed; "none", "unknown"
             * or Cisco's "open|closed" template say nothing. */
            (void)presxml_text(n, word, sizeof(word));
            if (strcasecmp(word, "open") == 0)
                ps->ps_open = 1;
            else if (strcasecmp(word, "closed") == 0)
                ps->ps_closed = 1;
        } else if (pidf_is(n, PIDF_NS_IM, "im")) {
            /* The im values read as RPID activity names ("busy"). */
            (void)presxml_text(n, word, sizeof(word));
            ps->ps_doc->pd_acts |= pidf_act_lookup(PIDF_NS_RPID, word);
        } else if (pidf_is(n, PIDF_NS_RPID, "activities")) {
            /* The RPID drafts put activities inside the status. */
            pidf_scan_activities(n, ps);
        }
    }
}

static void
pidf_scan_tuple(const xmlNode *tuple, struct pidf_scan *ps)
{
    const xmlNode *n;

    for (n = tuple->children; n != NULL; n = n->next) {
        if (pidf_is(n, PIDF_NS_PIDF, "status"))
            pidf_scan_status(n, ps);
        else if (pidf_is(n, PIDF_NS_PIDF, "note"))
            pidf_take_note(n, ps);
    }
}

/* <dm:person>, or <person> in the PIDF namespace as some stacks write. */
static void
pidf_scan_person(const xmlNode *person, struct pidf_scan *ps)
{
    const xmlNode *n;

    for (n = person->children; n != NULL; n = n->next) {
        if (pidf_is(n, PIDF_NS_RPID, "activities"))
            pidf_scan_activities(n, ps);
        else if (pidf_is(n, PIDF_NS_DM, "note") ||
            pidf_is(n, PIDF_NS_PIDF, "note"))
            pidf_take_note(n, ps);
    }
}

/* The tree under root into arg, a pres_doc; NULL or the reason. */
static const char *
pidf_convert(const xmlNode *root, void *arg)
{
    struct pres_doc *doc = arg;
    const xmlNode *n;
    struct pidf_scan ps;

    if (root == NULL || !pidf_is(root, PIDF_NS_PIDF, "presence"))
        return "not a PIDF document";
    /* The entity may be missing (RFC 4479's own example) or lack a
     * scheme (OpenSIPS, BroadWorks); the caller knows the presentity
     * from the request anyway.  One too long to keep whole is refused. */
    if (presxml_attr(root, "entity", doc->pd_entity,
        sizeof(doc->pd_entity)) != 0)
        return "PIDF entity too long";

    memset(&ps, 0, sizeof(ps));
    ps.ps_doc = doc;
    for (n = root->children; n != NULL; n = n->next) {
        if (pidf_is(n, PIDF_NS_PIDF, "tuple"))
            pidf_scan_tuple(n, &ps);
        else if (pidf_is(n, PIDF_NS_PIDF, "note"))
            pidf_take_note(n, &ps);
        else if (pidf_is(n, PIDF_NS_DM, "person") ||
            pidf_is(n, PIDF_NS_PIDF, "person"))
            pidf_scan_person(n, &ps);
    }

    /* RFC 3863 4.1.4: open if any tuple is open. */
    if (ps.ps_open)
        doc->pd_basic = PRES_BASIC_OPEN;
    else if (ps.ps_closed)
        doc->pd_basic = PRES_BASIC_CLOSED;
    else
        doc->pd_basic = PRES_BASIC_NONE;
    return NULL;
}

int
pidf_parse(const char *body, size_t len, struct pres_doc *doc,
    char *why, size_t whylen)
{
    memset(doc, 0, sizeof(*doc));
    if (presxml_read(body, len, &pidf_kind, pidf_convert, doc, why,
        whylen) == 0)
        return 0;
    memset(doc, 0, sizeof(*doc));
    return -1;
}
