/*
 * dialoginfo_parse.c: reads a dialog-info body (RFC 4235), the document
 * behind BLF lamps, into struct dlg_doc.
 *
 * Notifiers bend the schema in several ways (see corpus/NOTES.md): an
 * entity without a scheme, <local> before <state>, padded state text,
 * pvalue for pval, an empty <dialog-info/>.  None of these changes what
 * a lamp should show, so the reader takes what it understands and skips
 * the rest.  Elements are matched by namespace URI and local name, never
 * by prefix.  The libxml2 tree lives only inside presxml_read(), called
 * by dialoginfo_parse().
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "core.h"
#include "presence/presence.h"
#include "presence/presxml.h"

/* RFC 4235 section 4.1; no other namespace has ever been seen. */
#define DINFO_NS "urn:ietf:params:xml:ns:dialog-info"

/* Short texts: state, direction, the state attribute. */
#define DINFO_WORD_MAX 32

/* The values of <state> (RFC 4235 section 3.7.1). */
struct dinfo_state_row {
    const char      *sr_name;
    enum dlg_state   sr_state;
};

static const struct dinfo_state_row dinfo_state_rows[] = {
    /* a request is out or in, no response yet */
    { "trying",     DLG_TRYING },
    /* a provisional response without a to-tag */
    { "proceeding", DLG_PROCEEDING },
    /* a provisional response with a to-tag: it rings */
    { "early",      DLG_EARLY },
    /* a 2xx: the call is up */
    { "confirmed",  DLG_CONFIRMED },
    /* over, or never set up */
    { "terminated", DLG_TERMINATED },
};

/* The direction attribute of <dialog>. */
struct dinfo_dir_row {
    const char          *dr_name;
    enum dlg_direction   dr_dir;
};

static const struct dinfo_dir_row dinfo_dir_rows[] = {
    /* the entity sent the INVITE */
    { "initiator", DLG_DIR_INITIATOR },
    /* the entity received it */
    { "recipient", DLG_DIR_RECIPIENT },
};

/*
 * How much a dialog weighs for a lamp, by state, when it must compete
 * for one of DLG_MAX_DIALOGS places.  The order is that of
 * map_dialog_status(): a call, then something ringing, then the rest.
 */
struct dinfo_rank_row {
    int  rr_any;          /* in either direction */
    int  rr_recipient;    /* when the entity is the recipient */
};

static const struct dinfo_rank_row dinfo_rank_rows[] = {
    /* no state: says nothing */
    [DLG_NONE]       = { 0, 0 },
    /* rings only towards the recipient */
    [DLG_TRYING]     = { 0, 1 },
    /* as trying */
    [DLG_PROCEEDING] = { 0, 1 },
    /* ringing, whichever way */
    [DLG_EARLY]      = { 1, 1 },
    /* a call outweighs everything */
    [DLG_CONFIRMED]  = { 2, 2 },
    /* over */
    [DLG_TERMINATED] = { 0, 0 },
};

#define DINFO_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What presxml_read() says of a body that never gets to dinfo_convert(). */
static const struct presxml_kind dinfo_kind = {
    "dialoginfo",                    /* logs "dialoginfo parse error" */
    "empty dialog-info body",        /* no body */
    "dialog-info body too large",    /* longer than libxml2 takes */
    "dialog-info not well-formed",   /* not XML */
};

/* <state>: the words are lower case in RFC 4235; case is forgiven. */
static enum dlg_state
dinfo_state(const xmlNode *n)
{
    char word[DINFO_WORD_MAX];
    size_t i;

    if (presxml_text(n, word, sizeof(word)) != 0)
        return DLG_NONE;
    for (i = 0; i < DINFO_NELEM(dinfo_state_rows); i++) {
        if (strcasecmp(dinfo_state_rows[i].sr_name, word) == 0)
            return dinfo_state_rows[i].sr_state;
    }
    return DLG_NONE;
}

static enum dlg_direction
dinfo_direction(const xmlNode *dialog)
{
    char word[DINFO_WORD_MAX];
    size_t i;

    if (presxml_attr(dialog, "direction", word, sizeof(word)) != 0)
        return DLG_DIR_NONE;
    for (i = 0; i < DINFO_NELEM(dinfo_dir_rows); i++) {
        if (strcasecmp(dinfo_dir_rows[i].dr_name, word) == 0)
            return dinfo_dir_rows[i].dr_dir;
    }
    return DLG_DIR_NONE;
}

/*
 * <local> or <remote>: the first <identity> and its display name.
 * BroadWorks lists several identities (SIP, then tel); the first is the
 * one to show.  A URI too long to keep whole is left out rather than
 * cut, since a cut URI names somebody else; a long name is cut.
 */
static void
dinfo_party(const xmlNode *party, char *uri, size_t urilen, char *name,
    size_t namelen)
{
    const xmlNode *n;

    for (n = party->children; n != NULL; n = n->next) {
        if (!presxml_is(n, DINFO_NS, "identity"))
            continue;
        if (presxml_text(n, uri, urilen) != 0)
            uri[0] = '\0';
        (void)presxml_attr(n, "display", name, namelen);
        return;
    }
}

/*
 * One <dialog>.  The children come in any order (Asterisk writes <local>
 * before <state>); the first of each kind counts.  Returns the reason
 * when an identifier is too long to keep whole: cutting one could merge
 * two dialogs.
 */
static const char *
dinfo_dialog(const xmlNode *dialog, struct dlg_dialog *d)
{
    const xmlNode *n;
    int have_state = 0, have_local = 0, have_remote = 0;

    memset(d, 0, sizeof(*d));
    if (presxml_attr(dialog, "id", d->dd_id, sizeof(d->dd_id)) != 0 ||
        presxml_attr(dialog, "call-id", d->dd_call_id,
            sizeof(d->dd_call_id)) != 0 ||
        presxml_attr(dialog, "local-tag", d->dd_local_tag,
            sizeof(d->dd_local_tag)) != 0 ||
        presxml_attr(dialog, "remote-tag", d->dd_remote_tag,
            sizeof(d->dd_remote_tag)) != 0)
        return "dialog-info id too long";
    d->dd_direction = dinfo_direction(dialog);

    for (n = dialog->children; n != NULL; n = n->next) {
        if (!have_state && presxml_is(n, DINFO_NS, "state")) {
            /* The event attribute (replaced, rejected, ...) says why a
             * dialog ended; a lamp needs only that it did. */
            d->dd_state = dinfo_state(n);
            have_state = 1;
        } else if (!have_local && presxml_is(n, DINFO_NS, "local")) {
            dinfo_party(n, d->dd_local_uri, sizeof(d->dd_local_uri),
                d->dd_local_name, sizeof(d->dd_local_name));
            have_local = 1;
        } else if (!have_remote && presxml_is(n, DINFO_NS, "remote")) {
            dinfo_party(n, d->dd_remote_uri, sizeof(d->dd_remote_uri),
                d->dd_remote_name, sizeof(d->dd_remote_name));
            have_remote = 1;
        }
    }
    return NULL;
}

static int
dinfo_rank(const struct dlg_dialog *d)
{
    const struct dinfo_rank_row *row;

    if ((unsigned)d->dd_state >= DINFO_NELEM(dinfo_rank_rows))
        return 0;
    row = &dinfo_rank_rows[d->dd_state];
    return d->dd_direction == DLG_DIR_RECIPIENT ? row->rr_recipient
        : row->rr_any;
}

/*
 * Adds d to doc.  Once doc is full, a newcomer takes the place of the
 * lightest dialog kept if it weighs more, so what the lamp shows is the
 * same as if every dialog had been kept.  Returns 1 when a dialog had to
 * be left out.
 */
static int
dinfo_keep(struct dlg_doc *doc, const struct dlg_dialog *d)
{
    size_t i, light = 0;

    if (doc->di_count < DLG_MAX_DIALOGS) {
        doc->di_dialogs[doc->di_count++] = *d;
        return 0;
    }
    for (i = 1; i < DLG_MAX_DIALOGS; i++) {
        if (dinfo_rank(&doc->di_dialogs[i]) <
            dinfo_rank(&doc->di_dialogs[light]))
            light = i;
    }
    if (dinfo_rank(d) > dinfo_rank(&doc->di_dialogs[light]))
        doc->di_dialogs[light] = *d;
    return 1;
}

/*
 * The version and state attributes.  Both are required by RFC 4235, but
 * a missing or unreadable version is read as 0 and anything but
 * "partial" as full state: a full document replaces what the reader
 * knew, which is the safe way to be wrong.  Whether a version goes
 * forward is for the caller to judge.
 */
static void
dinfo_header(const xmlNode *root, struct dlg_doc *doc)
{
    char word[DINFO_WORD_MAX];
    long v;

    if (presxml_attr(root, "version", word, sizeof(word)) == 0 &&
        parse_long(word, 0, LONG_MAX, &v) == 0)
        doc->di_version = (unsigned long)v;
    else
        log_debug("dialoginfo version unreadable entity=%s",
            doc->di_entity);
    doc->di_full = !(presxml_attr(root, "state", word, sizeof(word)) == 0 &&
        strcasecmp(word, "partial") == 0);
}

/* The tree under root into arg, a dlg_doc; NULL or the reason. */
static const char *
dinfo_convert(const xmlNode *root, void *arg)
{
    struct dlg_doc *doc = arg;
    const xmlNode *n;
    struct dlg_dialog d;
    const char *reason;
    size_t dropped = 0;

    if (root == NULL || !presxml_is(root, DINFO_NS, "dialog-info"))
        return "not a dialog-info document";
    /* The entity may lack a scheme (BroadWorks); the request names the
     * resource anyway, so it is kept as written. */
    if (presxml_attr(root, "entity", doc->di_entity,
        sizeof(doc->di_entity)) != 0)
        return "dialog-info entity too long";
    dinfo_header(root, doc);

    for (n = root->children; n != NULL; n = n->next) {
        if (!presxml_is(n, DINFO_NS, "dialog"))
            continue;
        reason = dinfo_dialog(n, &d);
        if (reason != NULL)
            return reason;
        dropped += (size_t)dinfo_keep(doc, &d);
    }
    if (dropped > 0)
        log_debug("dialoginfo dialogs dropped entity=%s kept=%zu "
            "dropped=%zu", doc->di_entity, doc->di_count, dropped);
    return NULL;
}

int
dialoginfo_parse(const char *body, size_t len, struct dlg_doc *doc,
    char *why, size_t whylen)
{
    memset(doc, 0, sizeof(*doc));
    if (presxml_read(body, len, &dinfo_kind, dinfo_convert, doc, why,
        whylen) == 0)
        return 0;
    memset(doc, 0, sizeof(*doc));
    return -1;
}
