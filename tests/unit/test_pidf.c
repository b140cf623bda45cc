/*
 * test_pidf.c: the PIDF codec.  Parsing checks the facts each dialect
 * states and the documents refused; building checks that every status
 * survives a round trip through pidf_parse().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/xmlerror.h>

#include "core.h"
#include "mapping/mapping.h"
#include "presence/presence.h"
#include "testlib.h"

#define PIDF_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* Parses text, expecting success. */
static int
parse_ok(const char *text, struct pres_doc *doc)
{
    char why[64] = "";
    int rc = pidf_parse(text, strlen(text), doc, why, sizeof(why));

    if (rc != 0)
        fprintf(stderr, "unexpected reject: %s\n", why);
    return rc;
}

/* Parses text, expecting a reject; returns the reason. */
static const char *
parse_fail(const char *text)
{
    static char why[64];
    struct pres_doc doc;

    why[0] = '\0';
    if (pidf_parse(text, strlen(text), &doc, why, sizeof(why)) == 0)
        return "(accepted)";
    return why;
}

static void
parse_minimal_open_is_available(void)
{
    struct pres_doc doc;
    const char *text = PIDF_HEAD
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
        " entity=\"sip:alice@example.com\">"
        "<tuple id=\"t1\"><status><basic>open</basic></status></tuple>"
        "</presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK_STR(doc.pd_entity, "sip:alice@example.com");
    CHECK(doc.pd_basic == PRES_BASIC_OPEN);
    CHECK(doc.pd_acts == 0);
    CHECK(map_doc_status(&doc) == PRES_AVAILABLE);
}

static void
parse_closed_is_offline(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='sip:b@x'>"
        "<tuple id='a'><status><basic>closed</basic></status></tuple>"
        "<tuple id='b'><status><basic>closed</basic></status></tuple>"
        "</presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_basic == PRES_BASIC_CLOSED);
    CHECK(map_doc_status(&doc) == PRES_OFFLINE);
}

static void
parse_any_open_tuple_makes_open(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='sip:b@x'>"
        "<tuple id='a'><status><basic>closed</basic></status></tuple>"
        "<tuple id='b'><status><basic>open</basic></status></tuple>"
        "</presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_basic == PRES_BASIC_OPEN);
}

static void
parse_invalid_basic_is_none(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='sip:b@x'>"
        "<tuple id='a'><status><basic>unknown</basic></status></tuple>"
        "</presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_basic == PRES_BASIC_NONE);
    CHECK(map_doc_status(&doc) == PRES_UNKNOWN);
}

static void
parse_rpid_on_the_phone_is_in_call(void)
{
    struct pres_doc doc;
    const char *text = PIDF_HEAD
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
        "  xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
        "  xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
        "  entity=\"sip:alice@example.com\">\n"
        " <tuple id=\"t1\"><status><basic>open</basic></status></tuple>\n"
        " <dm:person id=\"p1\">\n"
        "  <rpid:activities><rpid:on-the-phone/></rpid:activities>\n"
        " </dm:person>\n"
        "</presence>\n";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_acts == PRES_ACT_ON_THE_PHONE);
    CHECK(map_doc_status(&doc) == PRES_IN_CALL);
}

static void
parse_cisco_dnd_with_old_rpid_namespace(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
        "  xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
        "  xmlns:e=\"urn:ietf:params:xml:ns:pidf:status:rpid\"\n"
        "  xmlns:ce=\"urn:cisco:params:xml:ns:pidf:rpid\"\n"
        "  entity=\"sip:1004@example.com\">\n"
        " <dm:person><e:activities><ce:dnd/></e:activities></dm:person>\n"
        " <tuple id=\"x1004\"><status><basic>open</basic></status></tuple>\n"
        "</presence>\n";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_acts == PRES_ACT_DND);
    CHECK(map_doc_status(&doc) == PRES_DND);
}

static void
parse_cisco_alerting_is_ringing(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
        "  xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
        "  xmlns:e=\"urn:ietf:params:xml:ns:pidf:status:rpid\"\n"
        "  xmlns:ce=\"urn:cisco:params:xml:ns:pidf:rpid\"\n"
        "  entity=\"sip:1004@example.com\">\n"
        " <dm:person><e:activities><ce:alerting/></e:activities>"
        "</dm:person>\n"
        " <tuple id=\"x1004\"><status><basic>open</basic></status></tuple>\n"
        "</presence>\n";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(map_doc_status(&doc) == PRES_RINGING);
}

static void
parse_note_only_on_the_phone_is_in_call(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
        " entity=\"sip:100@example.com;transport=TCP\">"
        "<tuple id=\"z1\"><status><basic>open</basic></status>"
        "<note>  on the PHONE  </note></tuple></presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK_STR(doc.pd_note, "on the PHONE");
    CHECK(doc.pd_acts == PRES_ACT_ON_THE_PHONE);
    CHECK(map_doc_status(&doc) == PRES_IN_CALL);
}

static void
parse_free_text_note_sets_nothing(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"a\">"
        "<tuple id=\"z1\"><status><basic>open</basic></status>"
        "<note>Busy until the phone stops ringing</note></tuple>"
        "</presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_acts == 0);
    CHECK(map_doc_status(&doc) == PRES_AVAILABLE);
}

static void
parse_prefixed_namespace(void)
{
    struct pres_doc doc;
    const char *text =
        "<impp:presence xmlns:impp=\"urn:ietf:params:xml:ns:pidf\"\n"
        "    xmlns:x=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
        "    xmlns:r=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
        "    entity=\"pres:someone@example.com\">\n"
        " <impp:tuple id=\"m\"><impp:status><impp:basic>open</impp:basic>"
        "</impp:status></impp:tuple>\n"
        " <x:person><r:activities><r:away/></r:activities></x:person>\n"
        "</impp:presence>\n";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK_STR(doc.pd_entity, "pres:someone@example.com");
    CHECK(doc.pd_basic == PRES_BASIC_OPEN);
    CHECK(map_doc_status(&doc) == PRES_AWAY);
}

static void
parse_matches_namespace_not_prefix(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
        "    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
        "    xmlns:rpid=\"http://example.com/not-rpid\" entity=\"a\">\n"
        " <tuple id=\"t\"><status><basic>open</basic></status></tuple>\n"
        " <dm:person><rpid:activities><rpid:busy/></rpid:activities>"
        "</dm:person>\n"
        "</presence>\n";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_acts == 0);
}

static void
parse_person_in_pidf_namespace(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
        "    xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"a\">\n"
        " <tuple id=\"t\"><status><basic>open</basic></status></tuple>\n"
        " <person><rpid:activities><rpid:busy/></rpid:activities>"
        "<note>Busy</note></person>\n"
        "</presence>\n";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_acts == PRES_ACT_BUSY);
    CHECK_STR(doc.pd_note, "Busy");
    CHECK(map_doc_status(&doc) == PRES_BUSY);
}

static void
parse_iso_8859_1_note(void)
{
    struct pres_doc doc;
    const char *text =
        "<?xml version='1.0' encoding='ISO-8859-1'?>"
        "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'>"
        "<tuple id='t'><status><basic>open</basic></status>"
        "<note>Caf\xe9</note></tuple></presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK_STR(doc.pd_note, "Caf\xc3\xa9");
}

static void
parse_hold_note_counts_as_call(void)
{
    struct pres_doc doc;
    const char *text =
        "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'>"
        "<note>On hold</note>"
        "<tuple id='t'><status><basic>open</basic></status></tuple>"
        "</presence>";

    CHECK(parse_ok(text, &doc) == 0);
    CHECK(doc.pd_acts == PRES_ACT_HOLD);
    CHECK(map_doc_status(&doc) == PRES_IN_CALL);
}

static void
parse_rejects_dtd(void)
{
    const char *laughs =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE presence [\n"
        " <!ENTITY a \"aaaaaaaaaa\">\n"
        " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
        "]>\n"
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"&b;\"/>";
    const char *external =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE presence SYSTEM \"http://198.51.100.1/x.dtd\">\n"
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"a\"/>";

    CHECK_STR(parse_fail(laughs), "DTD not allowed");
    CHECK_STR(parse_fail(external), "DTD not allowed");
}

static void
parse_rejects_not_well_formed(void)
{
    CHECK_STR(parse_fail("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
        " entity=\"a\"><tuple id=\"t\"><status><basic>open</basic>"
        "</status>"), "PIDF not well-formed");
    CHECK_STR(parse_fail("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
        "entity=\"a\"/>"), "PIDF not well-formed");
    CHECK_STR(parse_fail("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\">"
        "<x:busy/></presence>"), "PIDF not well-formed");
    CHECK_STR(parse_fail("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\">"
        "&undefined;</presence>"), "PIDF not well-formed");
    CHECK_STR(parse_fail("not xml at all"), "PIDF not well-formed");
}

static void
parse_rejects_other_roots(void)
{
    CHECK_STR(parse_fail("<presence><presentity uri=\"sip:a@b\"/>"
        "</presence>"), "not a PIDF document");
    CHECK_STR(parse_fail("<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
        "dialog-info\" version=\"0\" state=\"full\" entity=\"sip:a@b\"/>"),
        "not a PIDF document");
    CHECK_STR(parse_fail("<pidf:tuple xmlns:pidf=\"urn:ietf:params:xml:"
        "ns:pidf\" id=\"t\"/>"), "not a PIDF document");
}

static void
parse_rejects_empty_body(void)
{
    struct pres_doc doc;
    char why[64];

    CHECK(pidf_parse("", 0, &doc, why, sizeof(why)) == -1);
    CHECK_STR(why, "empty PIDF body");
    CHECK(pidf_parse(NULL, 0, &doc, why, sizeof(why)) == -1);
}

static void
parse_rejects_overlong_entity(void)
{
    char text[1024];
    char ent[PRES_ENTITY_MAX + 1];

    memset(ent, 'a', sizeof(ent) - 1);
    ent[sizeof(ent) - 1] = '\0';
    snprintf(text, sizeof(text), "<presence xmlns=\"urn:ietf:params:xml:"
        "ns:pidf\" entity=\"sip:%s\"/>", ent);
    CHECK_STR(parse_fail(text), "PIDF entity too long");
}

static void
parse_cuts_long_note_between_characters(void)
{
    struct buf b;
    struct pres_doc doc;
    int i;

    buf_init(&b, 4096);
    buf_puts(&b, "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\">"
        "<note>xy");
    for (i = 0; i < 100; i++)
        buf_puts(&b, "\xc3\xa9");   /* two bytes each */
    buf_puts(&b, "</note></presence>");
    CHECK(pidf_parse(b.b_data, b.b_len, &doc, NULL, 0) == 0);
    CHECK(strlen(doc.pd_note) == PRES_NOTE_MAX - 2);
    CHECK(doc.pd_entity[0] == '\0');
    buf_free(&b);
}

static int generic_calls;

static void
count_generic(void *data, const char *msg, ...)
{
    (void)data;
    (void)msg;
    generic_calls++;
}

static void
count_structured(void *data, xmlErrorPtr err)
{
    (void)data;
    (void)err;
    generic_calls++;
}

static void
parse_leaves_libxml_error_handlers_alone(void)
{
    static int marker;

    xmlSetGenericErrorFunc(&marker, count_generic);
    xmlSetStructuredErrorFunc(&marker, count_structured);
    generic_calls = 0;
    CHECK_STR(parse_fail("<presence><broken></presence>"),
        "PIDF not well-formed");
    CHECK(generic_calls == 0);
    CHECK(xmlGenericError == count_generic);
    CHECK(xmlGenericErrorContext == &marker);
    CHECK(xmlStructuredError == count_structured);
    CHECK(xmlStructuredErrorContext == &marker);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlSetGenericErrorFunc(NULL, NULL);
}

static void
build_round_trips_every_status(void)
{
    struct pres_doc doc;
    char why[64];
    char *text;
    int st;

    for (st = 0; st < PRES_STATUS_COUNT; st++) {
        text = pidf_build("sip:alice@example.com", (enum pres_status)st,
            NULL);
        CHECK(text != NULL);
        if (text == NULL)
            continue;
        CHECK(pidf_parse(text, strlen(text), &doc, why, sizeof(why)) == 0);
        CHECK_STR(doc.pd_entity, "sip:alice@example.com");
        if (map_doc_status(&doc) != (enum pres_status)st)
            fprintf(stderr, "round trip %s gave %s\n",
                pres_status_name((enum pres_status)st),
                pres_status_name(map_doc_status(&doc)));
        CHECK(map_doc_status(&doc) == (enum pres_status)st);
        free(text);
    }
}

static void
build_keeps_status_under_a_custom_note(void)
{
    struct pres_doc doc;
    char *text = pidf_build("sip:a@example.com", PRES_DND, "Back at 3");

    CHECK(text != NULL);
    CHECK(pidf_parse(text, strlen(text), &doc, NULL, 0) == 0);
    CHECK_STR(doc.pd_note, "Back at 3");
    CHECK(map_doc_status(&doc) == PRES_DND);
    free(text);
}

static void
build_escapes_entity_and_note(void)
{
    struct pres_doc doc;
    char *text = pidf_build("sip:<a&b\"c>@example.com", PRES_AVAILABLE,
        "Tom & \"Jerry\" <x>");

    CHECK(text != NULL);
    CHECK(strstr(text, "sip:&lt;a&amp;b&quot;c&gt;@example.com") != NULL);
    CHECK(pidf_parse(text, strlen(text), &doc, NULL, 0) == 0);
    CHECK_STR(doc.pd_entity, "sip:<a&b\"c>@example.com");
    CHECK_STR(doc.pd_note, "Tom & \"Jerry\" <x>");
    free(text);
}

static void
build_cleans_control_and_bad_bytes_in_note(void)
{
    struct pres_doc doc;
    char *text = pidf_build("sip:a@example.com", PRES_BUSY,
        "a\x01" "b\xff" "c\xed\xa0\x80" "d\xc3\xa9");

    CHECK(text != NULL);
    CHECK(pidf_parse(text, strlen(text), &doc, NULL, 0) == 0);
    CHECK_STR(doc.pd_note, "a b?c???d\xc3\xa9");
    free(text);
}

static void
build_shape_for_watchers(void)
{
    char *text = pidf_build("sip:a@example.com", PRES_IN_CALL, NULL);

    CHECK(text != NULL);
    CHECK(strstr(text, "encoding=\"UTF-8\"") != NULL);
    CHECK(strstr(text, "<tuple id=\"presgw-t\">") != NULL);
    CHECK(strstr(text, "<contact>sip:a@example.com</contact>") != NULL);
    CHECK(strstr(text, "<basic>open</basic>") != NULL);
    CHECK(strstr(text, "<rpid:on-the-phone/>") != NULL);
    CHECK(strstr(text, "<note>On the phone</note>") != NULL);
    free(text);
}

static void
build_refuses_bad_entity(void)
{
    char ent[PRES_ENTITY_MAX + 8];

    memset(ent, 'a', sizeof(ent) - 1);
    ent[sizeof(ent) - 1] = '\0';
    CHECK(pidf_build(ent, PRES_AVAILABLE, NULL) == NULL);
    CHECK(pidf_build("sip:a\n@b", PRES_AVAILABLE, NULL) == NULL);
}

static void
status_names_round_trip(void)
{
    int st;

    for (st = 0; st < PRES_STATUS_COUNT; st++)
        CHECK(pres_status_parse(pres_status_name((enum pres_status)st))
            == st);
    CHECK(pres_status_parse("nonsense") == -1);
    CHECK_STR(pres_status_name(PRES_IN_CALL), "in-call");
    CHECK_STR(pres_session_name(PRES_SESS_CONFERENCE), "conference");
    CHECK_STR(pres_pref_name(PRES_PREF_DND), "dnd");
}

static void
status_combine_takes_higher(void)
{
    CHECK(pres_status_combine(PRES_AVAILABLE, PRES_IN_CALL) == PRES_IN_CALL);
    CHECK(pres_status_combine(PRES_DND, PRES_IN_CALL) == PRES_DND);
    CHECK(pres_status_combine(PRES_AWAY, PRES_UNKNOWN) == PRES_AWAY);
    CHECK(pres_status_combine(PRES_BRB, PRES_AWAY) == PRES_BRB);
}

static void
cisco_flavour_round_trips_and_uses_cisco_elements(void)
{
    static const enum pres_status cases[] = {
        PRES_IN_CALL, PRES_DND, PRES_RINGING, PRES_OFFLINE, PRES_AVAILABLE,
        PRES_BUSY, PRES_AWAY
    };
    struct pres_doc doc;
    char why[96];
    size_t i;
    char *b;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b = pidf_build_for("sip:bob@example.com", cases[i], NULL,
            PIDF_CISCO);
        CHECK(b != NULL);
        if (b == NULL)
            continue;
        CHECK(strstr(b, "urn:ietf:params:xml:ns:pidf:status:rpid") != NULL);
        CHECK(strstr(b, "rpid:activities") == NULL);
        CHECK(pidf_parse(b, strlen(b), &doc, why, sizeof(why)) == 0);
        CHECK(map_doc_status(&doc) == cases[i]);
        if (cases[i] == PRES_DND)
            CHECK(strstr(b, "<ce:dnd/>") != NULL);
        if (cases[i] == PRES_RINGING)
            CHECK(strstr(b, "<ce:alerting/>") != NULL);
        free(b);
    }
}

static void
flavour_follows_user_agent(void)
{
    CHECK(pidf_flavour_of("Cisco-CP8845/12.8.1") == PIDF_CISCO);
    CHECK(pidf_flavour_of("cisco-cp7960g/8.0") == PIDF_CISCO);
    CHECK(pidf_flavour_of("Cisco/SPA504G-7.6.2") == PIDF_STANDARD);
    CHECK(pidf_flavour_of("Yealink SIP-T46G") == PIDF_STANDARD);
    CHECK(pidf_flavour_of(NULL) == PIDF_STANDARD);
}

int
main(void)
{
    log_init("test_pidf", 0, LOG_LVL_ERROR);
    TEST_RUN(parse_minimal_open_is_available);
    TEST_RUN(parse_closed_is_offline);
    TEST_RUN(parse_any_open_tuple_makes_open);
    TEST_RUN(parse_invalid_basic_is_none);
    TEST_RUN(parse_rpid_on_the_phone_is_in_call);
    TEST_RUN(parse_cisco_dnd_with_old_rpid_namespace);
    TEST_RUN(parse_cisco_alerting_is_ringing);
    TEST_RUN(parse_note_only_on_the_phone_is_in_call);
    TEST_RUN(parse_free_text_note_sets_nothing);
    TEST_RUN(parse_prefixed_namespace);
    TEST_RUN(parse_matches_namespace_not_prefix);
    TEST_RUN(parse_person_in_pidf_namespace);
    TEST_RUN(parse_iso_8859_1_note);
    TEST_RUN(parse_hold_note_counts_as_call);
    TEST_RUN(parse_rejects_dtd);
    TEST_RUN(parse_rejects_not_well_formed);
    TEST_RUN(parse_rejects_other_roots);
    TEST_RUN(parse_rejects_empty_body);
    TEST_RUN(parse_rejects_overlong_entity);
    TEST_RUN(parse_cuts_long_note_between_characters);
    TEST_RUN(parse_leaves_libxml_error_handlers_alone);
    TEST_RUN(build_round_trips_every_status);
    TEST_RUN(build_keeps_status_under_a_custom_note);
    TEST_RUN(build_escapes_entity_and_note);
    TEST_RUN(build_cleans_control_and_bad_bytes_in_note);
    TEST_RUN(build_shape_for_watchers);
    TEST_RUN(build_refuses_bad_entity);
    TEST_RUN(status_names_round_trip);
    TEST_RUN(status_combine_takes_higher);
    TEST_RUN(cisco_flavour_round_trips_and_uses_cisco_elements);
    TEST_RUN(flavour_follows_user_agent);
    return test_done();
}
