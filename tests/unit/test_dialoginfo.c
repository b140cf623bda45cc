/*
 * test_dialoginfo.c: the dialog-info codec and the BLF mapping.  Parsing
 * checks each state and the tolerated deviations, and the documents
 * refused; building checks that every status reads back as the lamp it
 * should light, with identities and escapes intact.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "mapping/mapping.h"
#include "presence/presence.h"
#include "testlib.h"

#define DI_OPEN(ver, state) \
    "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\"" \
    " version=\"" ver "\" state=\"" state "\"" \
    " entity=\"sip:alice@example.com\">"
#define DI_CLOSE "</dialog-info>"

/* Big enough to keep off the stack of every test. */
static struct dlg_doc doc;

static int
parse_ok(const char *text)
{
    char why[64] = "";
    int rc = dialoginfo_parse(text, strlen(text), &doc, why, sizeof(why));

    if (rc != 0)
        fprintf(stderr, "unexpected reject: %s\n", why);
    return rc;
}

static const char *
parse_fail(const char *text)
{
    static char why[64];

    why[0] = '\0';
    if (dialoginfo_parse(text, strlen(text), &doc, why, sizeof(why)) == 0)
        return "(accepted)";
    return why;
}

/* One dialog in the given state and direction attribute text. */
static enum pres_status
status_of(const char *state, const char *dir)
{
    char text[512];

    snprintf(text, sizeof(text), DI_OPEN("1", "full")
        "<dialog id=\"d\"%s><state>%s</state></dialog>" DI_CLOSE,
        dir, state);
    if (parse_ok(text) != 0)
        return PRES_STATUS_COUNT;
    return map_dialog_status(&doc);
}

static void
parse_each_state(void)
{
    static const struct {
        const char      *word;
        enum dlg_state   state;
    } rows[] = {
        { "trying",     DLG_TRYING },
        { "proceeding", DLG_PROCEEDING },
        { "early",      DLG_EARLY },
        { "confirmed",  DLG_CONFIRMED },
        { "terminated", DLG_TERMINATED },
        { "on-fire",    DLG_NONE },
    };
    char text[512];
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        snprintf(text, sizeof(text), DI_OPEN("3", "full")
            "<dialog id=\"x\"><state>%s</state></dialog>" DI_CLOSE,
            rows[i].word);
        CHECK(parse_ok(text) == 0);
        CHECK(doc.di_count == 1);
        CHECK(doc.di_dialogs[0].dd_state == rows[i].state);
    }
}

static void
parse_header_and_attributes(void)
{
    const char *text = "<?xml version=\"1.0\"?>\n"
        DI_OPEN("5", "full")
        "<dialog id=\"zx1\" call-id=\"a84b@pc\" local-tag=\"192\""
        " remote-tag=\"873\" direction=\"initiator\">"
        "<state>confirmed</state></dialog>" DI_CLOSE;
    const struct dlg_dialog *d = &doc.di_dialogs[0];

    CHECK(parse_ok(text) == 0);
    CHECK_STR(doc.di_entity, "sip:alice@example.com");
    CHECK(doc.di_version == 5);
    CHECK(doc.di_full == 1);
    CHECK(doc.di_count == 1);
    CHECK_STR(d->dd_id, "zx1");
    CHECK_STR(d->dd_call_id, "a84b@pc");
    CHECK_STR(d->dd_local_tag, "192");
    CHECK_STR(d->dd_remote_tag, "873");
    CHECK(d->dd_direction == DLG_DIR_INITIATOR);
    CHECK(d->dd_state == DLG_CONFIRMED);
}

static void
parse_padded_state_text(void)
{
    CHECK(parse_ok(DI_OPEN("1", "full") "<dialog id=\"a\"><state>\n"
        "   terminated \n</state></dialog>" DI_CLOSE) == 0);
    CHECK(doc.di_dialogs[0].dd_state == DLG_TERMINATED);
}

static void
parse_local_before_state(void)
{
    const struct dlg_dialog *d = &doc.di_dialogs[0];

    CHECK(parse_ok(DI_OPEN("1", "full")
        "<dialog id=\"presence\" direction=\"recipient\">"
        "<local><identity>sip:presence@127.0.0.1</identity>"
        "<target uri=\"sip:presence@127.0.0.1\"/></local>"
        "<state>early</state></dialog>" DI_CLOSE) == 0);
    CHECK(d->dd_state == DLG_EARLY);
    CHECK(d->dd_direction == DLG_DIR_RECIPIENT);
    CHECK_STR(d->dd_local_uri, "sip:presence@127.0.0.1");
    CHECK(map_dialog_status(&doc) == PRES_RINGING);
}

static void
parse_identities_and_display_names(void)
{
    const struct dlg_dialog *d = &doc.di_dialogs[0];

    /* Two local identities (BroadWorks): the first is kept.  A newline
     * inside an attribute reads as a space (XML 1.0 section 3.3.3). */
    CHECK(parse_ok(DI_OPEN("7", "full")
        "<dialog id=\"bG9j\"><state>confirmed</state>"
        "<local><identity display=\"Broadsoft\nSIP2\">"
        "sip:t2@as.example.net</identity>"
        "<identity>tel:+15550101412</identity></local>"
        "<remote><identity display=\"Cathy Jones\">\n"
        "   sip:cjones@example.net\n  </identity></remote>"
        "</dialog>" DI_CLOSE) == 0);
    CHECK_STR(d->dd_local_uri, "sip:t2@as.example.net");
    CHECK_STR(d->dd_local_name, "Broadsoft SIP2");
    CHECK_STR(d->dd_remote_uri, "sip:cjones@example.net");
    CHECK_STR(d->dd_remote_name, "Cathy Jones");
}

static void
parse_replaced_event_and_pvalue(void)
{
    CHECK(parse_ok(DI_OPEN("3", "full") "<dialog id=\"presence\">"
        "<state event=\"replaced\">confirmed</state>"
        "<local><target uri=\"sip:p@127.0.0.1\">"
        "<param pname=\"+sip.rendering\" pvalue=\"no\"/>"
        "</target></local></dialog>" DI_CLOSE) == 0);
    CHECK(doc.di_dialogs[0].dd_state == DLG_CONFIRMED);
    CHECK(doc.di_dialogs[0].dd_local_uri[0] == '\0');
    CHECK(map_dialog_status(&doc) == PRES_IN_CALL);
}

static void
parse_prefixed_namespace(void)
{
    CHECK(parse_ok("<d:dialog-info xmlns:d=\"urn:ietf:params:xml:ns:"
        "dialog-info\" version=\"2\" state=\"full\" entity=\"sip:a@b\">"
        "<d:dialog id=\"1\"><d:state>confirmed</d:state></d:dialog>"
        "</d:dialog-info>") == 0);
    CHECK(doc.di_count == 1);
    CHECK(doc.di_dialogs[0].dd_state == DLG_CONFIRMED);
}

static void
parse_other_namespace_elements_are_skipped(void)
{
    CHECK(parse_ok(DI_OPEN("2", "full")
        "<x:dialog xmlns:x=\"http://example.com/x\" id=\"9\">"
        "<x:state>confirmed</x:state></x:dialog>"
        "<dialog id=\"1\"><x:state xmlns:x=\"http://example.com/x\">"
        "confirmed</x:state><state>terminated</state></dialog>"
        DI_CLOSE) == 0);
    CHECK(doc.di_count == 1);
    CHECK(doc.di_dialogs[0].dd_state == DLG_TERMINATED);
}

static void
parse_two_dialogs_confirmed_wins(void)
{
    CHECK(parse_ok(DI_OPEN("1", "full")
        "<dialog id=\"65626\" direction=\"initiator\">"
        "<state>confirmed</state></dialog>"
        "<dialog id=\"65622\"><state>terminated</state></dialog>"
        "<dialog id=\"65623\" direction=\"recipient\">"
        "<state>early</state></dialog>" DI_CLOSE) == 0);
    CHECK(doc.di_count == 3);
    CHECK_STR(doc.di_dialogs[1].dd_id, "65622");
    CHECK(map_dialog_status(&doc) == PRES_IN_CALL);
}

static void
parse_partial_state(void)
{
    CHECK(parse_ok(DI_OPEN("4", "partial")
        "<dialog id=\"65644\"><state>terminated</state></dialog>"
        DI_CLOSE) == 0);
    CHECK(doc.di_full == 0);
    CHECK(doc.di_version == 4);
    CHECK(doc.di_count == 1);
}

static void
parse_empty_dialog_info_has_no_dialogs(void)
{
    CHECK(parse_ok(DI_OPEN("21", "full") DI_CLOSE) == 0);
    CHECK(doc.di_count == 0);
    CHECK(doc.di_full == 1);
    CHECK(map_dialog_status(&doc) == PRES_AVAILABLE);
    CHECK(parse_ok("<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
        "dialog-info\"/>") == 0);
    CHECK(doc.di_count == 0);
    CHECK(doc.di_entity[0] == '\0');
}

static void
parse_entity_without_scheme(void)
{
    CHECK(parse_ok("<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
        "dialog-info\" version=\"0\" state=\"full\""
        " entity=\"alice@example.com\"><dialog id=\"as7\""
        " direction=\"initiator\"><state>trying</state></dialog>"
        "</dialog-info>") == 0);
    CHECK_STR(doc.di_entity, "alice@example.com");
    CHECK(doc.di_dialogs[0].dd_state == DLG_TRYING);
}

static void
parse_lenient_header(void)
{
    /* No version, no state: version 0, full state. */
    CHECK(parse_ok("<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
        "dialog-info\" entity=\"sip:a@b\"/>") == 0);
    CHECK(doc.di_version == 0);
    CHECK(doc.di_full == 1);
    CHECK(parse_ok(DI_OPEN("x7", "bogus") DI_CLOSE) == 0);
    CHECK(doc.di_version == 0);
    CHECK(doc.di_full == 1);
    CHECK(parse_ok(DI_OPEN(" 123456 ", "PARTIAL") DI_CLOSE) == 0);
    CHECK(doc.di_version == 123456);
    CHECK(doc.di_full == 0);
}

static void
parse_dialog_without_id_is_kept(void)
{
    CHECK(parse_ok(DI_OPEN("1", "full")
        "<dialog><state>confirmed</state></dialog>" DI_CLOSE) == 0);
    CHECK(doc.di_count == 1);
    CHECK(doc.di_dialogs[0].dd_id[0] == '\0');
    CHECK(map_dialog_status(&doc) == PRES_IN_CALL);
}

static void
parse_keeps_the_dialogs_that_matter_past_the_limit(void)
{
    struct buf b;
    int i;

    /* DLG_MAX_DIALOGS terminated dialogs, then a confirmed one: the
     * confirmed one must not be lost, as the lamp depends on it. */
    buf_init(&b, 65536);
    buf_puts(&b, DI_OPEN("1", "full"));
    for (i = 0; i < DLG_MAX_DIALOGS + 3; i++)
        buf_printf(&b, "<dialog id=\"t%d\"><state>terminated</state>"
            "</dialog>", i);
    buf_puts(&b, "<dialog id=\"c\"><state>confirmed</state></dialog>");
    buf_puts(&b, DI_CLOSE);
    CHECK(dialoginfo_parse(b.b_data, b.b_len, &doc, NULL, 0) == 0);
    CHECK(doc.di_count == DLG_MAX_DIALOGS);
    CHECK(map_dialog_status(&doc) == PRES_IN_CALL);
    buf_free(&b);
}

static void
parse_rejects_dtd(void)
{
    CHECK_STR(parse_fail("<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE dialog-info [\n"
        " <!ENTITY a \"aaaaaaaaaa\">\n"
        " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
        "]>\n" DI_OPEN("1", "full")
        "<dialog id=\"&b;\"><state>early</state></dialog>" DI_CLOSE),
        "DTD not allowed");
    CHECK_STR(parse_fail("<!DOCTYPE dialog-info SYSTEM "
        "\"http://198.51.100.1/d.dtd\">" DI_OPEN("1", "full") DI_CLOSE),
        "DTD not allowed");
    CHECK_STR(parse_fail("<!DOCTYPE d [<!ENTITY x SYSTEM "
        "\"file:///etc/passwd\">]>" DI_OPEN("1", "full")
        "<dialog id=\"&x;\"/>" DI_CLOSE), "DTD not allowed");
}

static void
parse_rejects_not_well_formed(void)
{
    CHECK_STR(parse_fail(DI_OPEN("1", "full") "<dialog id=\"a\">"),
        "dialog-info not well-formed");
    CHECK_STR(parse_fail("<?xml version=\"1.0\" <?xml version=\"1.0\"?>"
        DI_OPEN("1", "full") DI_CLOSE), "dialog-info not well-formed");
    CHECK_STR(parse_fail("<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
        "dialog-info\"version=\"1\"/>"), "dialog-info not well-formed");
    CHECK_STR(parse_fail("<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
        "dialog-info\" xmlns=\"urn:ietf:params:xml:ns:dialog-info\"/>"),
        "dialog-info not well-formed");
    CHECK_STR(parse_fail(DI_OPEN("1", "full") "<d:dialog/>" DI_CLOSE),
        "dialog-info not well-formed");
}

static void
parse_rejects_other_documents(void)
{
    CHECK_STR(parse_fail("<dialog-info version=\"1\"/>"),
        "not a dialog-info document");
    CHECK_STR(parse_fail("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
        " entity=\"sip:a@b\"/>"), "not a dialog-info document");
    CHECK_STR(parse_fail("<dialog xmlns=\"urn:ietf:params:xml:ns:"
        "dialog-info\" id=\"a\"/>"), "not a dialog-info document");
}

static void
parse_rejects_empty_and_overlong(void)
{
    char text[1024];
    char longer[DLG_ID_MAX + 1];
    char why[64];

    CHECK(dialoginfo_parse("", 0, &doc, why, sizeof(why)) == -1);
    CHECK_STR(why, "empty dialog-info body");
    CHECK(dialoginfo_parse(NULL, 0, &doc, why, sizeof(why)) == -1);
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    snprintf(text, sizeof(text), DI_OPEN("1", "full")
        "<dialog id=\"d\" call-id=\"%s\"/>" DI_CLOSE, longer);
    CHECK_STR(parse_fail(text), "dialog-info id too long");
    CHECK(doc.di_count == 0);
}

static void
parse_drops_overlong_identity_uri(void)
{
    char text[1024];
    char longer[DLG_URI_MAX + 1];

    memset(longer, 'u', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    snprintf(text, sizeof(text), DI_OPEN("1", "full")
        "<dialog id=\"d\"><state>early</state><remote><identity>sip:%s"
        "</identity></remote></dialog>" DI_CLOSE, longer);
    CHECK(parse_ok(text) == 0);
    CHECK(doc.di_dialogs[0].dd_remote_uri[0] == '\0');
    CHECK(doc.di_dialogs[0].dd_state == DLG_EARLY);
}

static void
map_each_state_and_direction(void)
{
    CHECK(status_of("confirmed", "") == PRES_IN_CALL);
    CHECK(status_of("confirmed", " direction=\"initiator\"")
        == PRES_IN_CALL);
    CHECK(status_of("early", " direction=\"recipient\"") == PRES_RINGING);
    CHECK(status_of("early", " direction=\"initiator\"") == PRES_RINGING);
    CHECK(status_of("early", "") == PRES_RINGING);
    CHECK(status_of("proceeding", " direction=\"recipient\"")
        == PRES_RINGING);
    CHECK(status_of("trying", " direction=\"recipient\"") == PRES_RINGING);
    CHECK(status_of("trying", " direction=\"initiator\"")
        == PRES_AVAILABLE);
    CHECK(status_of("proceeding", "") == PRES_AVAILABLE);
    CHECK(status_of("terminated", " direction=\"recipient\"")
        == PRES_AVAILABLE);
    CHECK(status_of("nonsense", "") == PRES_AVAILABLE);
}

static void
map_ringing_beats_terminated_but_not_confirmed(void)
{
    CHECK(parse_ok(DI_OPEN("1", "full")
        "<dialog id=\"a\"><state>terminated</state></dialog>"
        "<dialog id=\"b\" direction=\"recipient\"><state>early</state>"
        "</dialog>" DI_CLOSE) == 0);
    CHECK(map_dialog_status(&doc) == PRES_RINGING);
    CHECK(parse_ok(DI_OPEN("1", "full")
        "<dialog id=\"b\" direction=\"recipient\"><state>early</state>"
        "</dialog><dialog id=\"c\"><state>confirmed</state></dialog>"
        DI_CLOSE) == 0);
    CHECK(map_dialog_status(&doc) == PRES_IN_CALL);
}

static void
map_empty_and_null(void)
{
    struct dlg_doc *empty = calloc(1, sizeof(*empty));

    CHECK(empty != NULL);
    if (empty != NULL)
        CHECK(map_dialog_status(empty) == PRES_AVAILABLE);
    free(empty);
    CHECK(map_dialog_status(NULL) == PRES_UNKNOWN);
}

/* What dialoginfo_build() promises per status, read back as a lamp. */
static enum pres_status
lamp_for(enum pres_status st)
{
    switch (st) {
    case PRES_BUSY:
    case PRES_MEETING:
    case PRES_IN_CALL:
    case PRES_CONFERENCE:
    case PRES_DND:
        return PRES_IN_CALL;
    case PRES_RINGING:
        return PRES_RINGING;
    default:
        return PRES_AVAILABLE;
    }
}

static void
build_round_trips_every_status(void)
{
    char *text;
    int st;

    for (st = 0; st < PRES_STATUS_COUNT; st++) {
        text = dialoginfo_build("sip:alice@example.com", 7,
            (enum pres_status)st, NULL);
        CHECK(text != NULL);
        if (text == NULL)
            continue;
        CHECK(parse_ok(text) == 0);
        CHECK_STR(doc.di_entity, "sip:alice@example.com");
        CHECK(doc.di_version == 7);
        CHECK(doc.di_full == 1);
        CHECK(doc.di_count == 1);
        CHECK(doc.di_dialogs[0].dd_id[0] != '\0');
        if (map_dialog_status(&doc) != lamp_for((enum pres_status)st))
            fprintf(stderr, "round trip %s gave %s\n",
                pres_status_name((enum pres_status)st),
                pres_status_name(map_dialog_status(&doc)));
        CHECK(map_dialog_status(&doc) == lamp_for((enum pres_status)st));
        free(text);
    }
}

static void
build_shape_for_phones(void)
{
    char *idle = dialoginfo_build("sip:100@example.com", 0, PRES_AVAILABLE,
        NULL);
    char *ring = dialoginfo_build("sip:100@example.com", 1, PRES_RINGING,
        NULL);

    CHECK(idle != NULL && ring != NULL);
    if (idle == NULL || ring == NULL) {
        free(idle);
        free(ring);
        return;
    }
    CHECK(strstr(idle, "encoding=\"UTF-8\"") != NULL);
    CHECK(strstr(idle, "xmlns=\"urn:ietf:params:xml:ns:dialog-info\""
        " version=\"0\" state=\"full\" entity=\"sip:100@example.com\"")
        != NULL);
    CHECK(strstr(idle, "<dialog id=\"presgw-d\">") != NULL);
    CHECK(strstr(idle, "<state>terminated</state>") != NULL);
    CHECK(strstr(ring, "<dialog id=\"presgw-d\" direction=\"recipient\">")
        != NULL);
    CHECK(strstr(ring, "<state>early</state>") != NULL);
    /* Small enough to leave room for headers in a UDP NOTIFY. */
    CHECK(strlen(ring) < 400);
    free(idle);
    free(ring);
}

static void
fill_dialog(struct dlg_dialog *d)
{
    memset(d, 0, sizeof(*d));
    xstrlcpy(d->dd_id, "call-7", sizeof(d->dd_id));
    xstrlcpy(d->dd_call_id, "a84b<&>@pc33", sizeof(d->dd_call_id));
    xstrlcpy(d->dd_local_tag, "1928", sizeof(d->dd_local_tag));
    xstrlcpy(d->dd_remote_tag, "8736", sizeof(d->dd_remote_tag));
    d->dd_direction = DLG_DIR_INITIATOR;
    xstrlcpy(d->dd_local_uri, "sip:alice@example.com",
        sizeof(d->dd_local_uri));
    xstrlcpy(d->dd_local_name, "Alice \"Al\" & Co",
        sizeof(d->dd_local_name));
    xstrlcpy(d->dd_remote_uri, "sip:bob@example.net?x=<1>",
        sizeof(d->dd_remote_uri));
    xstrlcpy(d->dd_remote_name, "B\xc3\xb6" "b\x01\xff",
        sizeof(d->dd_remote_name));
}

static void
build_carries_dialog_and_identities(void)
{
    struct dlg_dialog d;
    const struct dlg_dialog *got = &doc.di_dialogs[0];
    char *text;

    fill_dialog(&d);
    text = dialoginfo_build("sip:alice@example.com", 3, PRES_IN_CALL, &d);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(strstr(text, "call-id=\"a84b&lt;&amp;&gt;@pc33\"") != NULL);
    CHECK(parse_ok(text) == 0);
    CHECK_STR(got->dd_id, "call-7");
    CHECK_STR(got->dd_call_id, "a84b<&>@pc33");
    CHECK_STR(got->dd_local_tag, "1928");
    CHECK_STR(got->dd_remote_tag, "8736");
    CHECK(got->dd_direction == DLG_DIR_INITIATOR);
    CHECK(got->dd_state == DLG_CONFIRMED);
    CHECK_STR(got->dd_local_uri, "sip:alice@example.com");
    CHECK_STR(got->dd_local_name, "Alice \"Al\" & Co");
    CHECK_STR(got->dd_remote_uri, "sip:bob@example.net?x=<1>");
    /* A control character becomes a space, a stray byte a '?'. */
    CHECK_STR(got->dd_remote_name, "B\xc3\xb6" "b ?");
    free(text);
}

static void
build_ringing_is_towards_the_entity(void)
{
    struct dlg_dialog d;
    char *text;

    fill_dialog(&d);
    text = dialoginfo_build("sip:alice@example.com", 4, PRES_RINGING, &d);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(parse_ok(text) == 0);
    CHECK(doc.di_dialogs[0].dd_direction == DLG_DIR_RECIPIENT);
    CHECK(doc.di_dialogs[0].dd_state == DLG_EARLY);
    free(text);
}

static void
build_leaves_out_what_cannot_go_out(void)
{
    struct dlg_dialog d;
    char *text;

    memset(&d, 0, sizeof(d));
    xstrlcpy(d.dd_id, "bad\nid", sizeof(d.dd_id));
    xstrlcpy(d.dd_call_id, "caf\xc3\xa9", sizeof(d.dd_call_id));
    xstrlcpy(d.dd_remote_name, "Nobody", sizeof(d.dd_remote_name));
    text = dialoginfo_build("sip:a@example.com", 1, PRES_BUSY, &d);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(strstr(text, "<dialog id=\"presgw-d\">") != NULL);
    CHECK(strstr(text, "call-id") == NULL);
    CHECK(strstr(text, "<remote>") == NULL);
    CHECK(parse_ok(text) == 0);
    free(text);
}

static void
build_refuses_bad_entity(void)
{
    char ent[PRES_ENTITY_MAX + 8];

    memset(ent, 'a', sizeof(ent) - 1);
    ent[sizeof(ent) - 1] = '\0';
    CHECK(dialoginfo_build(ent, 1, PRES_AVAILABLE, NULL) == NULL);
    CHECK(dialoginfo_build("sip:a\n@b", 1, PRES_AVAILABLE, NULL) == NULL);
    CHECK(dialoginfo_build("", 1, PRES_AVAILABLE, NULL) == NULL);
    CHECK(dialoginfo_build(NULL, 1, PRES_AVAILABLE, NULL) == NULL);
}

static void
build_out_of_range_status_is_idle(void)
{
    char *text = dialoginfo_build("sip:a@example.com", 1,
        (enum pres_status)99, NULL);

    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(strstr(text, "<state>terminated</state>") != NULL);
    free(text);
}

int
main(void)
{
    log_init("test_dialoginfo", 0, LOG_LVL_ERROR);
    TEST_RUN(parse_each_state);
    TEST_RUN(parse_header_and_attributes);
    TEST_RUN(parse_padded_state_text);
    TEST_RUN(parse_local_before_state);
    TEST_RUN(parse_identities_and_display_names);
    TEST_RUN(parse_replaced_event_and_pvalue);
    TEST_RUN(parse_prefixed_namespace);
    TEST_RUN(parse_other_namespace_elements_are_skipped);
    TEST_RUN(parse_two_dialogs_confirmed_wins);
    TEST_RUN(parse_partial_state);
    TEST_RUN(parse_empty_dialog_info_has_no_dialogs);
    TEST_RUN(parse_entity_without_scheme);
    TEST_RUN(parse_lenient_header);
    TEST_RUN(parse_dialog_without_id_is_kept);
    TEST_RUN(parse_keeps_the_dialogs_that_matter_past_the_limit);
    TEST_RUN(parse_rejects_dtd);
    TEST_RUN(parse_rejects_not_well_formed);
    TEST_RUN(parse_rejects_other_documents);
    TEST_RUN(parse_rejects_empty_and_overlong);
    TEST_RUN(parse_drops_overlong_identity_uri);
    TEST_RUN(map_each_state_and_direction);
    TEST_RUN(map_ringing_beats_terminated_but_not_confirmed);
    TEST_RUN(map_empty_and_null);
    TEST_RUN(build_round_trips_every_status);
    TEST_RUN(build_shape_for_phones);
    TEST_RUN(build_carries_dialog_and_identities);
    TEST_RUN(build_ringing_is_towards_the_entity);
    TEST_RUN(build_leaves_out_what_cannot_go_out);
    TEST_RUN(build_refuses_bad_entity);
    TEST_RUN(build_out_of_range_status_is_idle);
    return test_done();
}
