/*
 * test_afe.c: the as-feature-event codec.  Requests a phone sends, the
 * events presgw writes back, and the namespace both must carry.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "presence/presence.h"
#include "testlib.h"

#define ECMA_NS "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
#define ECMA_TYPO "http://www.ecmainternational.org/standards/ecma-323/csta/ed3"
#define AFE_HEAD "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"

static int
parse_ok(const char *text, struct afe_request *req)
{
    char why[64] = "";
    int rc = afe_parse(text, strlen(text), req, why, sizeof(why));

    if (rc != 0)
        fprintf(stderr, "unexpected reject: %s\n", why);
    return rc;
}

static const char *
parse_fail(const char *text)
{
    static char why[64];
    struct afe_request req;

    why[0] = '\0';
    if (afe_parse(text, strlen(text), &req, why, sizeof(why)) == 0)
        return "(accepted)";
    return why;
}

static void
parse_set_dnd_on_and_off(void)
{
    struct afe_request req;

    CHECK(parse_ok(AFE_HEAD "<SetDoNotDisturb xmlns=\"" ECMA_NS "\">\n"
        "   <device>7659366</device>\n"
        "   <doNotDisturbOn>true</doNotDisturbOn>\n"
        "</SetDoNotDisturb>\n", &req) == 0);
    CHECK(req.ar_kind == AFE_SET_DND);
    CHECK_STR(req.ar_device, "7659366");
    CHECK(req.ar_dnd_on == 1);
    CHECK(parse_ok("<SetDoNotDisturb xmlns=\"" ECMA_NS "\">"
        "<device>7659366</device><doNotDisturbOn> false "
        "</doNotDisturbOn></SetDoNotDisturb>", &req) == 0);
    CHECK(req.ar_kind == AFE_SET_DND);
    CHECK(req.ar_dnd_on == 0);
}

static void
parse_set_forwarding_with_empty_ring_count(void)
{
    struct afe_request req;

    CHECK(parse_ok(AFE_HEAD "<SetForwarding xmlns=\"" ECMA_NS "\">\n"
        "   <device>7659366</device>\n"
        "   <activateForward>true</activateForward>\n"
        "   <forwardingType>forwardImmediate</forwardingType>\n"
        "   <forwardDN>2424</forwardDN>\n"
        "   <ringCount></ringCount>\n"
        "</SetForwarding>\n", &req) == 0);
    CHECK(req.ar_kind == AFE_SET_FORWARDING);
    CHECK(req.ar_fwd_type == AFE_FWD_IMMEDIATE);
    CHECK(req.ar_fwd_on == 1);
    CHECK_STR(req.ar_fwd_dn, "2424");
    CHECK(req.ar_ring_count == -1);
}

static void
parse_set_forwarding_no_answer_and_busy(void)
{
    struct afe_request req;

    CHECK(parse_ok("<c:SetForwarding xmlns:c=\"" ECMA_NS "\">"
        "<c:device>100</c:device><c:forwardingType>forwardNoAns"
        "</c:forwardingType><c:activateForward>false</c:activateForward>"
        "<c:ringCount>4</c:ringCount></c:SetForwarding>", &req) == 0);
    CHECK(req.ar_fwd_type == AFE_FWD_NO_ANSWER);
    CHECK(req.ar_fwd_on == 0);
    CHECK(req.ar_fwd_dn[0] == '\0');
    CHECK(req.ar_ring_count == 4);
    CHECK(parse_ok("<SetForwarding xmlns=\"" ECMA_NS "\">"
        "<forwardingType>forwardBusy</forwardingType>"
        "<activateForward>1</activateForward>"
        "<forwardDN>sip:vm@example.com</forwardDN></SetForwarding>",
        &req) == 0);
    CHECK(req.ar_fwd_type == AFE_FWD_BUSY);
    CHECK(req.ar_fwd_on == 1);
    CHECK(req.ar_ring_count == -1);
    CHECK(req.ar_device[0] == '\0');
}

static void
parse_empty_body_asks_for_state(void)
{
    struct afe_request req;

    CHECK(afe_parse("", 0, &req, NULL, 0) == 0);
    CHECK(req.ar_kind == AFE_NONE);
    CHECK(afe_parse(NULL, 0, &req, NULL, 0) == 0);
    CHECK(req.ar_kind == AFE_NONE);
    CHECK(afe_parse("\r\n", 2, &req, NULL, 0) == 0);
    CHECK(req.ar_kind == AFE_NONE);
    CHECK(req.ar_ring_count == -1);
}

static void
parse_rejects_namespace_typo_and_missing_namespace(void)
{
    CHECK_STR(parse_fail("<ForwardingEvent xmlns=\"" ECMA_TYPO "\">"
        "<device>1</device><forwardingType>forwardImmediate"
        "</forwardingType><forwardStatus>false</forwardStatus>"
        "</ForwardingEvent>"), "wrong as-feature-event namespace");
    CHECK_STR(parse_fail("<SetDoNotDisturb><device>1</device>"
        "<doNotDisturbOn>true</doNotDisturbOn></SetDoNotDisturb>"),
        "wrong as-feature-event namespace");
}

static void
parse_rejects_unknown_root(void)
{
    CHECK_STR(parse_fail("<SetCallBack xmlns=\"" ECMA_NS "\"/>"),
        "not an as-feature-event document");
    CHECK_STR(parse_fail("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
        "/>"), "not an as-feature-event document");
}

static void
parse_rejects_bad_values(void)
{
    CHECK_STR(parse_fail("<SetDoNotDisturb xmlns=\"" ECMA_NS "\">"
        "<device>1</device></SetDoNotDisturb>"),
        "as-feature-event on/off missing");
    CHECK_STR(parse_fail("<SetDoNotDisturb xmlns=\"" ECMA_NS "\">"
        "<doNotDisturbOn>maybe</doNotDisturbOn></SetDoNotDisturb>"),
        "as-feature-event on/off missing");
    CHECK_STR(parse_fail("<SetForwarding xmlns=\"" ECMA_NS "\">"
        "<forwardingType>forwardDND</forwardingType>"
        "<activateForward>true</activateForward></SetForwarding>"),
        "unknown forwardingType");
    CHECK_STR(parse_fail("<SetForwarding xmlns=\"" ECMA_NS "\">"
        "<activateForward>true</activateForward></SetForwarding>"),
        "unknown forwardingType");
    CHECK_STR(parse_fail("<SetForwarding xmlns=\"" ECMA_NS "\">"
        "<forwardingType>forwardNoAns</forwardingType>"
        "<activateForward>true</activateForward>"
        "<ringCount>lots</ringCount></SetForwarding>"), "bad ringCount");
    CHECK_STR(parse_fail("<SetForwarding xmlns=\"" ECMA_NS "\">"
        "<forwardingType>forwardNoAns</forwardingType>"
        "<activateForward>true</activateForward>"
        "<ringCount>101</ringCount></SetForwarding>"), "bad ringCount");
}

static void
parse_rejects_overlong_device(void)
{
    char text[1024];
    char dev[DLG_URI_MAX + 1];

    memset(dev, '5', sizeof(dev) - 1);
    dev[sizeof(dev) - 1] = '\0';
    snprintf(text, sizeof(text), "<SetDoNotDisturb xmlns=\"" ECMA_NS "\">"
        "<device>%s</device><doNotDisturbOn>true</doNotDisturbOn>"
        "</SetDoNotDisturb>", dev);
    CHECK_STR(parse_fail(text), "as-feature-event value too long");
}

static void
parse_rejects_dtd_and_broken_xml(void)
{
    CHECK_STR(parse_fail("<!DOCTYPE SetDoNotDisturb [<!ENTITY x SYSTEM "
        "\"file:///etc/passwd\">]><SetDoNotDisturb xmlns=\"" ECMA_NS "\">"
        "<device>&x;</device><doNotDisturbOn>true</doNotDisturbOn>"
        "</SetDoNotDisturb>"), "DTD not allowed");
    CHECK_STR(parse_fail("<SetDoNotDisturb xmlns=\"" ECMA_NS "\">"
        "<device>1</device>"), "as-feature-event not well-formed");
}

static void
build_dnd_has_the_namespace(void)
{
    struct afe_request req;
    char *text = afe_build_dnd("5550100902", 1);

    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(strstr(text, "<DoNotDisturbEvent xmlns=\"" ECMA_NS "\">")
        != NULL);
    CHECK(strstr(text, "<device>5550100902</device>") != NULL);
    CHECK(strstr(text, "<doNotDisturbOn>true</doNotDisturbOn>") != NULL);
    CHECK(parse_ok(text, &req) == 0);
    CHECK(req.ar_kind == AFE_DND_EVENT);
    CHECK_STR(req.ar_device, "5550100902");
    CHECK(req.ar_dnd_on == 1);
    free(text);
}

static void
build_dnd_off_round_trips(void)
{
    struct afe_request req;
    char *text = afe_build_dnd("sip:100@example.com", 0);

    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(parse_ok(text, &req) == 0);
    CHECK(req.ar_kind == AFE_DND_EVENT);
    CHECK_STR(req.ar_device, "sip:100@example.com");
    CHECK(req.ar_dnd_on == 0);
    free(text);
}

static void
build_forwarding_round_trips_every_type(void)
{
    struct afe_request req;
    char *text;
    int t;

    for (t = 0; t < AFE_FWD_COUNT; t++) {
        text = afe_build_forwarding("7659366", (enum afe_fwd_type)t, 1,
            "1001", t == AFE_FWD_NO_ANSWER ? 4 : -1);
        CHECK(text != NULL);
        if (text == NULL)
            continue;
        CHECK(strstr(text, "xmlns=\"" ECMA_NS "\"") != NULL);
        CHECK(parse_ok(text, &req) == 0);
        CHECK(req.ar_kind == AFE_FORWARDING_EVENT);
        CHECK(req.ar_fwd_type == (enum afe_fwd_type)t);
        CHECK(req.ar_fwd_on == 1);
        CHECK_STR(req.ar_fwd_dn, "1001");
        CHECK(req.ar_ring_count == (t == AFE_FWD_NO_ANSWER ? 4 : -1));
        free(text);
    }
}

static void
build_forwarding_leaves_out_ring_count(void)
{
    char *text = afe_build_forwarding("7659366", AFE_FWD_IMMEDIATE, 0, "",
        -1);

    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(strstr(text, "ringCount") == NULL);
    CHECK(strstr(text, "<forwardTo></forwardTo>") != NULL);
    CHECK(strstr(text, "<forwardStatus>false</forwardStatus>") != NULL);
    CHECK(strstr(text, "<forwardingType>forwardImmediate"
        "</forwardingType>") != NULL);
    free(text);
}

static void
build_escapes_and_refuses(void)
{
    struct afe_request req;
    char *text = afe_build_forwarding("a&b", AFE_FWD_BUSY, 1, "<x>", 0);

    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(strstr(text, "<device>a&amp;b</device>") != NULL);
        CHECK(parse_ok(text, &req) == 0);
        CHECK_STR(req.ar_device, "a&b");
        CHECK_STR(req.ar_fwd_dn, "<x>");
        CHECK(req.ar_ring_count == 0);
        free(text);
    }
    CHECK(afe_build_dnd(NULL, 1) == NULL);
    CHECK(afe_build_dnd("100\r\n", 1) == NULL);
    CHECK(afe_build_forwarding("100", AFE_FWD_COUNT, 1, "", -1) == NULL);
    CHECK(afe_build_forwarding("100", AFE_FWD_BUSY, 1, "caf\xc3\xa9", -1)
        == NULL);
    CHECK(afe_build_forwarding("100", AFE_FWD_NO_ANSWER, 1, "", 101)
        == NULL);
}

int
main(void)
{
    log_init("test_afe", 0, LOG_LVL_ERROR);
    TEST_RUN(parse_set_dnd_on_and_off);
    TEST_RUN(parse_set_forwarding_with_empty_ring_count);
    TEST_RUN(parse_set_forwarding_no_answer_and_busy);
    TEST_RUN(parse_empty_body_asks_for_state);
    TEST_RUN(parse_rejects_namespace_typo_and_missing_namespace);
    TEST_RUN(parse_rejects_unknown_root);
    TEST_RUN(parse_rejects_bad_values);
    TEST_RUN(parse_rejects_overlong_device);
    TEST_RUN(parse_rejects_dtd_and_broken_xml);
    TEST_RUN(build_dnd_has_the_namespace);
    TEST_RUN(build_dnd_off_round_trips);
    TEST_RUN(build_forwarding_round_trips_every_type);
    TEST_RUN(build_forwarding_leaves_out_ring_count);
    TEST_RUN(build_escapes_and_refuses);
    return test_done();
}
