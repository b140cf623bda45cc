/*
 * test_rlmi.c: the resource list NOTIFY body.  The body is split again
 * here, as a watcher would, to check its structure: delimiters and CRLF,
 * the root part first, each cid in the list naming exactly one part, a
 * pending resource without a part, and a boundary found in no body.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core.h"
#include "mapping/mapping.h"
#include "presence/presence.h"
#include "testlib.h"

#define MAX_PARTS 8

static const char pidf_bob[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
    " entity=\"sip:bob@example.com\">\n"
    " <tuple id=\"t\"><status><basic>open</basic></status></tuple>\n"
    "</presence>\n";

static const char dialog_carol[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\""
    " version=\"3\" state=\"full\" entity=\"sip:carol@example.com\">\n"
    " <dialog id=\"x\"><state>confirmed</state></dialog>\n"
    "</dialog-info>\n";

/* One body part as a watcher sees it. */
struct part {
    char  *p_headers;     /* the header lines, CRLF-separated */
    char  *p_body;
};

struct split {
    struct part  s_parts[MAX_PARTS];
    size_t       s_count;
    int          s_closed;     /* the close delimiter was seen */
};

static void
split_free(struct split *sp)
{
    size_t i;

    for (i = 0; i < sp->s_count; i++) {
        free(sp->s_parts[i].p_headers);
        free(sp->s_parts[i].p_body);
    }
    memset(sp, 0, sizeof(*sp));
}

/*
 * Splits text at "--boundary" lines (RFC 2046 section 5.1.1): the body
 * must begin with a delimiter, each part runs up to CRLF before the
 * next, and headers end at the first empty line.  -1 on any deviation.
 */
static int
split_body(const char *text, const char *boundary, struct split *sp)
{
    char delim[80], *next_delim;
    const char *p = text, *end, *hend;

    memset(sp, 0, sizeof(*sp));
    snprintf(delim, sizeof(delim), "--%s", boundary);
    next_delim = xasprintf("\r\n%s", delim);
    if (strncmp(p, delim, strlen(delim)) != 0)
        goto fail;
    p += strlen(delim);
    while (strncmp(p, "\r\n", 2) == 0 && sp->s_count < MAX_PARTS) {
        p += 2;
        end = strstr(p, next_delim);
        hend = strstr(p, "\r\n\r\n");
        if (end == NULL || hend == NULL || hend > end)
            goto fail;
        sp->s_parts[sp->s_count].p_headers = xstrndup(p,
            (size_t)(hend - p));
        sp->s_parts[sp->s_count].p_body = xstrndup(hend + 4,
            (size_t)(end - hend - 4));
        sp->s_count++;
        p = end + strlen(next_delim);
    }
    sp->s_closed = strcmp(p, "--\r\n") == 0;
    free(next_delim);
    return sp->s_closed ? 0 : -1;
fail:
    free(next_delim);
    return -1;
}

/* A part whose Content-ID is <cid>, or NULL. */
static const struct part *
part_by_cid(const struct split *sp, const char *cid)
{
    char want[128];
    size_t i;

    snprintf(want, sizeof(want), "Content-ID: <%s>", cid);
    for (i = 0; i < sp->s_count; i++) {
        if (strstr(sp->s_parts[i].p_headers, want) != NULL)
            return &sp->s_parts[i];
    }
    return NULL;
}

/* The cid attribute of the instance of resource uri in the root. */
static int
cid_of(const char *root, const char *uri, char *out, size_t outlen)
{
    char want[256];
    const char *p, *q;

    snprintf(want, sizeof(want), "<resource uri=\"%s\">", uri);
    p = strstr(root, want);
    if (p == NULL)
        return -1;
    q = strstr(p, "</resource>");
    p = strstr(p, "cid=\"");
    if (p == NULL || q == NULL || p > q)
        return -1;
    p += 5;
    q = strchr(p, '"');
    if (q == NULL || (size_t)(q - p) >= outlen)
        return -1;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return 0;
}

/* Is the root document well-formed RLMI? */
static int
root_is_rlmi(const char *root)
{
    xmlDoc *x = xmlReadMemory(root, (int)strlen(root), NULL, NULL,
        XML_PARSE_NONET);
    const xmlNode *r;
    int ok;

    if (x == NULL)
        return 0;
    r = xmlDocGetRootElement(x);
    ok = r != NULL && strcmp((const char *)r->name, "list") == 0 &&
        r->ns != NULL && strcmp((const char *)r->ns->href,
            "urn:ietf:params:xml:ns:rlmi") == 0;
    xmlFreeDoc(x);
    return ok;
}

static char *
build_three(struct split *sp, char *boundary, char *start)
{
    static const struct rlmi_part parts[] = {
        { "sip:bob@example.com", "application/pidf+xml", pidf_bob },
        { "sip:dave@example.com", "application/pidf+xml", NULL },
        { "sip:carol@example.com", "application/dialog-info+xml",
            dialog_carol },
    };
    char *text = rlmi_build("sip:buddies@example.com", 2, 1, parts, 3,
        boundary, start);

    CHECK(text != NULL);
    if (text == NULL)
        return NULL;
    CHECK(split_body(text, boundary, sp) == 0);
    return text;
}

static void
structure_root_first_and_crlf(void)
{
    char boundary[40], start[64];
    struct split sp;
    char *text = build_three(&sp, boundary, start);
    char want[128];
    size_t i;

    if (text == NULL)
        return;
    CHECK(sp.s_count == 3);
    CHECK(sp.s_closed);
    CHECK(strlen(boundary) > 0 && strlen(boundary) <= 70);
    snprintf(want, sizeof(want), "Content-ID: <%s>", start);
    if (sp.s_count > 0) {
        CHECK(strstr(sp.s_parts[0].p_headers,
            "Content-Type: application/rlmi+xml") != NULL);
        CHECK(strstr(sp.s_parts[0].p_headers, want) != NULL);
        CHECK(root_is_rlmi(sp.s_parts[0].p_body));
        CHECK(strstr(sp.s_parts[0].p_body, "uri=\"sip:buddies@example.com\""
            " version=\"2\" fullState=\"true\"") != NULL);
    }
    /* Header lines end in CRLF: no bare LF among them. */
    for (i = 0; i < sp.s_count; i++) {
        const char *h = sp.s_parts[i].p_headers;
        const char *lf;

        for (lf = strchr(h, '\n'); lf != NULL; lf = strchr(lf + 1, '\n'))
            CHECK(lf > h && lf[-1] == '\r');
    }
    split_free(&sp);
    free(text);
}

static void
structure_cids_match_parts(void)
{
    char boundary[40], start[64], cid[64];
    struct split sp;
    const struct part *p;
    struct pres_doc pd;
    static struct dlg_doc dd;
    char *text = build_three(&sp, boundary, start);

    if (text == NULL || sp.s_count < 3) {
        split_free(&sp);
        free(text);
        return;
    }
    CHECK(cid_of(sp.s_parts[0].p_body, "sip:bob@example.com", cid,
        sizeof(cid)) == 0);
    p = part_by_cid(&sp, cid);
    CHECK(p != NULL && p == &sp.s_parts[1]);
    if (p != NULL) {
        CHECK(strstr(p->p_headers, "Content-Type: application/pidf+xml")
            != NULL);
        CHECK_STR(p->p_body, pidf_bob);
        CHECK(pidf_parse(p->p_body, strlen(p->p_body), &pd, NULL, 0) == 0);
        CHECK(map_doc_status(&pd) == PRES_AVAILABLE);
    }
    CHECK(cid_of(sp.s_parts[0].p_body, "sip:carol@example.com", cid,
        sizeof(cid)) == 0);
    p = part_by_cid(&sp, cid);
    CHECK(p != NULL && p == &sp.s_parts[2]);
    if (p != NULL) {
        CHECK(dialoginfo_parse(p->p_body, strlen(p->p_body), &dd, NULL, 0)
            == 0);
        CHECK(map_dialog_status(&dd) == PRES_IN_CALL);
    }
    split_free(&sp);
    free(text);
}

static void
structure_pending_resource_has_no_part(void)
{
    char boundary[40], start[64], cid[64];
    struct split sp;
    char *text = build_three(&sp, boundary, start);

    if (text == NULL || sp.s_count < 1) {
        split_free(&sp);
        free(text);
        return;
    }
    CHECK(strstr(sp.s_parts[0].p_body, "<resource uri=\"sip:dave@"
        "example.com\">\r\n  <instance id=\"presgw-i\" state=\"pending\"/>")
        != NULL);
    CHECK(cid_of(sp.s_parts[0].p_body, "sip:dave@example.com", cid,
        sizeof(cid)) == -1);
    split_free(&sp);
    free(text);
}

static void
boundary_avoids_the_bodies(void)
{
    struct rlmi_part part = { "sip:eve@example.com", "text/plain", "x" };
    char boundary[40], start[64], first[40];
    char *body, *text;
    struct split sp;

    /* The first candidate depends on the list alone; put it in a body
     * and the build must pick another. */
    text = rlmi_build("sip:l@example.com", 9, 0, &part, 1, first, start);
    CHECK(text != NULL);
    free(text);
    body = xasprintf("before\r\n--%s\r\nafter", first);
    part.rp_body = body;
    text = rlmi_build("sip:l@example.com", 9, 0, &part, 1, boundary, start);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(strcmp(boundary, first) != 0);
        CHECK(strstr(body, boundary) == NULL);
        CHECK(split_body(text, boundary, &sp) == 0);
        CHECK(sp.s_count == 2);
        if (sp.s_count == 2)
            CHECK_STR(sp.s_parts[1].p_body, body);
        CHECK(strstr(text, "fullState=\"false\"") != NULL);
        split_free(&sp);
    }
    free(text);
    free(body);
}

static void
empty_list_is_root_only(void)
{
    char boundary[40], start[64];
    struct split sp;
    char *text = rlmi_build("sip:l@example.com", 0, 1, NULL, 0, boundary,
        start);

    CHECK(text != NULL);
    if (text == NULL)
        return;
    CHECK(split_body(text, boundary, &sp) == 0);
    CHECK(sp.s_count == 1);
    if (sp.s_count == 1)
        CHECK(root_is_rlmi(sp.s_parts[0].p_body));
    split_free(&sp);
    free(text);
}

static void
refuses_bad_input(void)
{
    struct rlmi_part part = { "sip:a@example.com", "application/pidf+xml",
        pidf_bob };
    char boundary[40], start[64];

    CHECK(rlmi_build("sip:l\r\nX: y", 1, 1, &part, 1, boundary, start)
        == NULL);
    CHECK(rlmi_build(NULL, 1, 1, &part, 1, boundary, start) == NULL);
    CHECK(rlmi_build("sip:l@example.com", 1, 1, NULL, 1, boundary, start)
        == NULL);
    part.rp_type = "text/plain\r\nContent-ID: <evil>";
    CHECK(rlmi_build("sip:l@example.com", 1, 1, &part, 1, boundary, start)
        == NULL);
    part.rp_type = NULL;
    CHECK(rlmi_build("sip:l@example.com", 1, 1, &part, 1, boundary, start)
        == NULL);
    part.rp_uri = "";
    part.rp_body = NULL;
    CHECK(rlmi_build("sip:l@example.com", 1, 1, &part, 1, boundary, start)
        == NULL);
}

static void
refuses_past_one_mebibyte(void)
{
    struct rlmi_part parts[2];
    char boundary[40], start[64];
    size_t half = 600 * 1024;
    char *big = xmalloc(half + 1);
    char *text;

    memset(big, 'a', half);
    big[half] = '\0';
    parts[0].rp_uri = "sip:a@example.com";
    parts[0].rp_type = "text/plain";
    parts[0].rp_body = big;
    parts[1] = parts[0];
    parts[1].rp_uri = "sip:b@example.com";
    /* One such part fits, two do not. */
    text = rlmi_build("sip:l@example.com", 1, 1, parts, 1, boundary, start);
    CHECK(text != NULL);
    free(text);
    CHECK(rlmi_build("sip:l@example.com", 1, 1, parts, 2, boundary, start)
        == NULL);
    free(big);
}

int
main(void)
{
    log_init("test_rlmi", 0, LOG_LVL_ERROR);
    TEST_RUN(structure_root_first_and_crlf);
    TEST_RUN(structure_cids_match_parts);
    TEST_RUN(structure_pending_resource_has_no_part);
    TEST_RUN(boundary_avoids_the_bodies);
    TEST_RUN(empty_list_is_root_only);
    TEST_RUN(refuses_bad_input);
    TEST_RUN(refuses_past_one_mebibyte);
    return test_done();
}
