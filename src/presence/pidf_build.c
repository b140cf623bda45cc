/*
 * pidf_build.c: writes the PIDF document presgw sends to watchers: one
 * tuple with basic open or closed, and a data-model person carrying the
 * RPID activity (RFC 3863, RFC 4479, RFC 4480).
 *
 * The document is small and fixed in shape, so it is written as text
 * into a bounded buffer; libxml2 is not involved.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "core.h"
#include "presence/presence.h"
#include "presence/pres_text.h"

/* Room for the skeleton, the entity twice and a note, all escaped. */
#define PIDF_BUILD_MAX 8192

/* One status as PIDF.  Statuses RPID has no element for are told apart
 * by the note, which pidf_parse() reads back. */
struct pidf_out_row {
    const char  *or_basic;      /* "open", "closed", NULL for none */
    const char  *or_activity;   /* RPID activity element, or NULL */
    const char  *or_note;       /* default note text */
    const char  *or_cisco;      /* the element Cisco phones light on */
};

static const struct pidf_out_row pidf_out_rows[PRES_STATUS_COUNT] = {
    /* nothing known: <basic> is optional (RFC 3863 4.1.4), so say none */
    [PRES_UNKNOWN]    = { NULL,     NULL,           "Unknown", NULL },
    /* closed is what every watcher understands as offline */
    [PRES_OFFLINE]    = { "closed", NULL,           "Offline", NULL },
    /* RFC 4480 away */
    [PRES_AWAY]       = { "open",   "away",         "Away", "e:away" },
    /* RPID has no "back soon"; away, and the note says the rest */
    [PRES_BRB]        = { "open",   "away",         "Be right back",
                          "e:away" },
    /* open with no activity: reachable */
    [PRES_AVAILABLE]  = { "open",   NULL,           "Available", NULL },
    /* RFC 4480 busy */
    [PRES_BUSY]       = { "open",   "busy",         "Busy", "e:busy" },
    /* RFC 4480 meeting */
    [PRES_MEETING]    = { "open",   "meeting",      "In a meeting",
                          "e:busy" },
    /* RPID has no ringing; on-the-phone would light the lamp too early.
     * Cisco phones blink on their own alerting element. */
    [PRES_RINGING]    = { "open",   NULL,           "Ringing",
                          "ce:alerting" },
    /* RFC 4480 on-the-phone */
    [PRES_IN_CALL]    = { "open",   "on-the-phone", "On the phone",
                          "e:on-the-phone" },
    /* a conference call is a call; the note names the kind */
    [PRES_CONFERENCE] = { "open",   "on-the-phone", "In a conference call",
                          "e:on-the-phone" },
    /* DESIGN 3: busy plus the note, which standard watchers display;
     * Cisco phones have an element of their own */
    [PRES_DND]        = { "open",   "busy",         "Do not disturb",
                          "ce:dnd" },
};

/*
 * The document head of each flavour.  Cisco Enterprise phones light a
 * BLF key only from activities in the old RPID draft namespace and
 * Cisco's own (ce:dnd, ce:alerting); others take standard RPID.
 */
static const char *const pidf_heads[PIDF_FLAVOUR_COUNT] = {
    [PIDF_STANDARD] =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
        "    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
        "    xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n",
    [PIDF_CISCO] =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
        "    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
        "    xmlns:e=\"urn:ietf:params:xml:ns:pidf:status:rpid\"\n"
        "    xmlns:ce=\"urn:cisco:params:xml:ns:pidf:rpid\"\n",
};

/*
 * Copies a caller's note (a Teams status message, say) so that it is
 * valid XML text on one line: control characters become spaces, bytes
 * that are not UTF-8 become '?', and a long note is cut between
 * characters.
 */
static void
pidf_clean_note(const char *in, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, n;

    while (*s != '\0') {
        n = pres_text_utf8_len(s);
        if (o + (n ? n : 1) >= outlen)
            break;
        if (n > 0) {
            memcpy(out + o, s, n);
            o += n;
            s += n;
        } else {
            out[o++] = *s < 0x80 ? ' ' : '?';
            s++;
        }
    }
    out[o] = '\0';
}

static void
pidf_put_tuple(struct buf *b, const struct pidf_out_row *row,
    const char *entity, const char *note)
{
    /* The id is an xs:ID (RFC 3863 schema), which may not start with a
     * digit; strict servers refuse one that does. */
    buf_puts(b, " <tuple id=\"presgw-t\">\n  <status>");
    if (row->or_basic != NULL)
        buf_printf(b, "<basic>%s</basic>", row->or_basic);
    buf_puts(b, "</status>\n");
    /* Jitsi ignores a tuple without a contact. */
    if (entity[0] != '\0') {
        buf_puts(b, "  <contact>");
        buf_put_xml(b, entity);
        buf_puts(b, "</contact>\n");
    }
    buf_puts(b, "  <note>");
    buf_put_xml(b, note);
    buf_puts(b, "</note>\n </tuple>\n");
}

/* The person keeps the default note even when the tuple shows the
 * caller's, so the status survives a free-text note. */
static void
pidf_put_person(struct buf *b, const struct pidf_out_row *row,
    enum pidf_flavour f)
{
    buf_puts(b, " <dm:person id=\"presgw-p\">\n");
    if (f == PIDF_CISCO && row->or_cisco != NULL)
        buf_printf(b, "  <e:activities><%s/></e:activities>\n",
            row->or_cisco);
    else if (f == PIDF_STANDARD && row->or_activity != NULL)
        buf_printf(b, "  <rpid:activities><rpid:%s/></rpid:activities>\n",
            row->or_activity);
    buf_printf(b, "  <dm:note>%s</dm:note>\n </dm:person>\n",
        row->or_note);
}

char *
pidf_build(const char *entity, enum pres_status st, const char *note)
{
    return pidf_build_for(entity, st, note, PIDF_STANDARD);
}

char *
pidf_build_for(const char *entity, enum pres_status st, const char *note,
    enum pidf_flavour f)
{
    const struct pidf_out_row *row;
    char text[PRES_NOTE_MAX];
    struct buf b;

    if (entity == NULL)
        entity = "";
    /* A presentity URI goes out as written: printable ASCII only. */
    if (!pres_text_printable(entity, PRES_ENTITY_MAX)) {
        log_warn("pidf build refused reason=\"bad entity\"");
        return NULL;
    }
    if ((unsigned)st >= PRES_STATUS_COUNT)
        st = PRES_UNKNOWN;
    row = &pidf_out_rows[st];
    text[0] = '\0';
    if (note != NULL)
        pidf_clean_note(note, text, sizeof(text));
    if (text[0] == '\0')
        xstrlcpy(text, row->or_note, sizeof(text));

    buf_init(&b, PIDF_BUILD_MAX);
    if ((unsigned)f >= PIDF_FLAVOUR_COUNT)
        f = PIDF_STANDARD;
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    buf_puts(&b, pidf_heads[f]);
    buf_puts(&b, "    entity=\"");
    buf_put_xml(&b, entity);
    buf_puts(&b, "\">\n");
    pidf_put_tuple(&b, row, entity, text);
    pidf_put_person(&b, row, f);
    buf_puts(&b, "</presence>\n");
    if (b.b_overflow) {
        /* Cannot happen with the limits above; guard all the same. */
        log_error("pidf build overflow entity=%s", entity);
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* User-Agent prefixes that call for a flavour, one row each. */
static const struct {
    const char         *fu_prefix;
    enum pidf_flavour   fu_flavour;
} pidf_flavour_agents[] = {
    /* Cisco Enterprise phones (CP-7821, CP-8845, ...) on third-party
     * call control; Cisco SPA/MPP phones use dialog BLF instead. */
    { "Cisco-CP", PIDF_CISCO },
};

enum pidf_flavour
pidf_flavour_of(const char *user_agent)
{
    size_t i, n;

    if (user_agent == NULL)
        return PIDF_STANDARD;
    for (i = 0; i < sizeof(pidf_flavour_agents) /
        sizeof(pidf_flavour_agents[0]); i++) {
        n = strlen(pidf_flavour_agents[i].fu_prefix);
        if (strncasecmp(user_agent, pidf_flavour_agents[i].fu_prefix, n)
            == 0)
            return pidf_flavour_agents[i].fu_flavour;
    }
    return PIDF_STANDARD;
}
