/*
 * dialoginfo_build.c: writes the dialog-info document (RFC 4235) presgw
 * sends to BLF watchers: full state, one dialog, its state showing the
 * presentity's status.
 *
 * Phones are fussy about the shape: Bria, Aastra and Yealink need a
 * <dialog> in every NOTIFY, Grandstream needs its id, Polycom pickup
 * needs call-id and tags, and Yealink shows who is talking only from the
 * identities.  The document is written as text into a
 * bounded buffer; libxml2 is not involved.
 */
#include "config.h"

#include <string.h>

#include "core.h"
#include "presence/presence.h"
#include "presence/pres_text.h"

/* The skeleton plus every field of struct dlg_dialog, all escaped. */
#define DINFO_BUILD_MAX 16384

/*
 * The id when the caller knows no real dialog.  RFC 4235 makes it an
 * xs:string, so Yealink's "0000" would be as valid; a fixed name keeps
 * the id the same from one state to the next, as Asterisk does, so a
 * phone sees one pseudo-dialog change state rather than dialogs come
 * and go, and it steers clear of the xs:ID rule (no leading digit) that
 * strict parsers apply to ids elsewhere.
 */
#define DINFO_DEFAULT_ID "presgw-d"

/* One status as a dialog. */
struct dinfo_out_row {
    enum dlg_state      or_state;
    enum dlg_direction  or_dir;     /* DLG_DIR_NONE: the caller's, if any */
};

static const struct dinfo_out_row dinfo_out_rows[PRES_STATUS_COUNT] = {
    /* nothing known: a lamp cannot say "unknown", so idle */
    [PRES_UNKNOWN]    = { DLG_TERMINATED, DLG_DIR_NONE },
    /* dialog-info has no offline; a call would fail, not ring busy */
    [PRES_OFFLINE]    = { DLG_TERMINATED, DLG_DIR_NONE },
    /* away from the desk, but the phone is free */
    [PRES_AWAY]       = { DLG_TERMINATED, DLG_DIR_NONE },
    /* as away */
    [PRES_BRB]        = { DLG_TERMINATED, DLG_DIR_NONE },
    /* idle */
    [PRES_AVAILABLE]  = { DLG_TERMINATED, DLG_DIR_NONE },
    /* busy by hand: colleagues should not call, so the lamp is red */
    [PRES_BUSY]       = { DLG_CONFIRMED,  DLG_DIR_NONE },
    /* in a meeting: red as well, for now (docs/mapping.md) */
    [PRES_MEETING]    = { DLG_CONFIRMED,  DLG_DIR_NONE },
    /* blinks; recipient is what makes phones offer pickup */
    [PRES_RINGING]    = { DLG_EARLY,      DLG_DIR_RECIPIENT },
    /* in a call */
    [PRES_IN_CALL]    = { DLG_CONFIRMED,  DLG_DIR_NONE },
    /* a conference call is a call */
    [PRES_CONFERENCE] = { DLG_CONFIRMED,  DLG_DIR_NONE },
    /* red, the way Auerswald phones show a DND colleague */
    [PRES_DND]        = { DLG_CONFIRMED,  DLG_DIR_NONE },
};

enum dlg_state
dialoginfo_state_of(enum pres_status st)
{
    if ((int)st < 0 || st >= PRES_STATUS_COUNT)
        return DLG_TERMINATED;
    return dinfo_out_rows[st].or_state;
}

/* The words RFC 4235 writes for our enums. */
static const char *const dinfo_state_words[] = {
    [DLG_NONE]       = "terminated",   /* never written; a safe default */
    [DLG_TRYING]     = "trying",
    [DLG_PROCEEDING] = "proceeding",
    [DLG_EARLY]      = "early",
    [DLG_CONFIRMED]  = "confirmed",
    [DLG_TERMINATED] = "terminated",
};

static const char *const dinfo_dir_words[] = {
    [DLG_DIR_NONE]      = NULL,         /* the attribute is left out */
    [DLG_DIR_INITIATOR] = "initiator",
    [DLG_DIR_RECIPIENT] = "recipient",
};

#define DINFO_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Appends a display name escaped for an attribute: control characters
 * become spaces and bytes that are not UTF-8 become '?', so a name from
 * any source yields a well-formed document.
 */
static void
dinfo_put_name(struct buf *b, const char *name)
{
    const unsigned char *s = (const unsigned char *)name;
    char one[5];
    size_t n;

    while (*s != '\0') {
        n = pres_text_utf8_len(s);
        if (n == 0) {
            buf_puts(b, *s < 0x80 ? " " : "?");
            s++;
            continue;
        }
        memcpy(one, s, n);
        one[n] = '\0';
        buf_put_xml(b, one);
        s += n;
    }
}

/* ' name="value"' when value may go out, else nothing. */
static void
dinfo_put_attr(struct buf *b, const char *name, const char *value)
{
    if (!pres_text_token(value, DLG_ID_MAX))
        return;
    buf_printf(b, " %s=\"", name);
    buf_put_xml(b, value);
    buf_puts(b, "\"");
}

/* <local> or <remote> with one identity, when there is a URI to give. */
static void
dinfo_put_party(struct buf *b, const char *tag, const char *uri,
    const char *name)
{
    if (!pres_text_token(uri, DLG_URI_MAX))
        return;
    buf_printf(b, "  <%s>\n   <identity", tag);
    if (name[0] != '\0') {
        buf_puts(b, " display=\"");
        dinfo_put_name(b, name);
        buf_puts(b, "\"");
    }
    buf_puts(b, ">");
    buf_put_xml(b, uri);
    buf_printf(b, "</identity>\n  </%s>\n", tag);
}

/*
 * The one <dialog>.  RFC 4235's schema puts <state> first, then the
 * parties.  The row's direction wins (ringing is always towards the
 * presentity); otherwise the real dialog's, when there is one.
 */
static void
dinfo_put_dialog(struct buf *b, const struct dinfo_out_row *row,
    const struct dlg_dialog *dlg)
{
    enum dlg_direction dir = row->or_dir;
    const char *id = DINFO_DEFAULT_ID;

    if (dlg != NULL && pres_text_token(dlg->dd_id, DLG_ID_MAX))
        id = dlg->dd_id;
    if (dir == DLG_DIR_NONE && dlg != NULL &&
        (unsigned)dlg->dd_direction < DINFO_NELEM(dinfo_dir_words))
        dir = dlg->dd_direction;

    buf_puts(b, " <dialog id=\"");
    buf_put_xml(b, id);
    buf_puts(b, "\"");
    if (dlg != NULL) {
        dinfo_put_attr(b, "call-id", dlg->dd_call_id);
        dinfo_put_attr(b, "local-tag", dlg->dd_local_tag);
        dinfo_put_attr(b, "remote-tag", dlg->dd_remote_tag);
    }
    if (dinfo_dir_words[dir] != NULL)
        buf_printf(b, " direction=\"%s\"", dinfo_dir_words[dir]);
    buf_printf(b, ">\n  <state>%s</state>\n",
        dinfo_state_words[row->or_state]);
    if (dlg != NULL) {
        dinfo_put_party(b, "local", dlg->dd_local_uri, dlg->dd_local_name);
        dinfo_put_party(b, "remote", dlg->dd_remote_uri,
            dlg->dd_remote_name);
    }
    buf_puts(b, " </dialog>\n");
}

char *
dialoginfo_build(const char *entity, unsigned long version,
    enum pres_status st, const struct dlg_dialog *dlg)
{
    struct buf b;

    /* RFC 4235 requires the entity; servers that sent entity="" left
     * phones guessing whose lamp it was. */
    if (!pres_text_token(entity, PRES_ENTITY_MAX)) {
        log_warn("dialoginfo build refused reason=\"bad entity\"");
        return NULL;
    }
    if ((unsigned)st >= PRES_STATUS_COUNT)
        st = PRES_UNKNOWN;

    buf_init(&b, DINFO_BUILD_MAX);
    buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\""
        " version=\"%lu\" state=\"full\" entity=\"", version);
    buf_put_xml(&b, entity);
    buf_puts(&b, "\">\n");
    dinfo_put_dialog(&b, &dinfo_out_rows[st], dlg);
    buf_puts(&b, "</dialog-info>\n");
    if (b.b_overflow) {
        /* The limit fits every field at its longest; guard all the same. */
        log_error("dialoginfo build overflow entity=%s", entity);
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}
