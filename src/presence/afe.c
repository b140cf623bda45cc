/*
 * afe.c: the as-feature-event bodies of BroadWorks device feature key
 * synchronisation, which carry ECMA-323 (CSTA XML, edition 3) elements:
 * a phone asks with SetDoNotDisturb or SetForwarding in a SUBSCRIBE, the
 * server answers with DoNotDisturbEvent or ForwardingEvent in a NOTIFY.
 *
 * Both directions live in one file because they share the element names
 * and limits, and a body we build must read back the same.  The libxml2
 * tree lives only inside presxml_read(), called by afe_parse().
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "core.h"
#include "presence/presence.h"
#include "presence/pres_text.h"
#include "presence/presxml.h"

/*
 * The ECMA-323 edition 3 namespace, the only one accepted and written.
 * Polycom phones reboot on a body without it and stop reading one with
 * another.  Vendor documents also show "ecmainternational" without the
 * hyphen; no phone is known to send it, and reading it would let such a
 * typo in our own output pass the round-trip tests, so it is refused.
 */
#define AFE_NS "http://www.ecma-international.org/standards/ecma-323/csta/ed3"

/* The BroadWorks notes give 1 to 100 rings; a 0 is read as written
 * rather than refusing the whole request over it. */
#define AFE_RING_MAX 100

/* Room for the skeleton and two escaped values of DLG_URI_MAX. */
#define AFE_BUILD_MAX 4096

/* Short texts: booleans, forwarding types, ring counts. */
#define AFE_WORD_MAX 32

/*
 * The documents, by root element.  The set requests and the events say
 * the same things under different element names.
 */
struct afe_root_row {
    const char     *rr_root;
    enum afe_kind   rr_kind;
    const char     *rr_on;      /* the on/off element */
    const char     *rr_dn;      /* the destination, NULL for DND */
};

static const struct afe_root_row afe_root_rows[] = {
    /* phone to server: the DND key was pressed */
    { "SetDoNotDisturb",   AFE_SET_DND,          "doNotDisturbOn",  NULL },
    /* phone to server: a forwarding was set or cleared */
    { "SetForwarding",     AFE_SET_FORWARDING,   "activateForward",
        "forwardDN" },
    /* server to phone: the DND state */
    { "DoNotDisturbEvent", AFE_DND_EVENT,        "doNotDisturbOn",  NULL },
    /* server to phone: one forwarding's state */
    { "ForwardingEvent",   AFE_FORWARDING_EVENT, "forwardStatus",
        "forwardTo" },
};

/* forwardingType values; other CSTA types are not synchronised. */
static const char *const afe_fwd_names[AFE_FWD_COUNT] = {
    [AFE_FWD_IMMEDIATE] = "forwardImmediate",  /* unconditional */
    [AFE_FWD_BUSY]      = "forwardBusy",       /* when busy */
    [AFE_FWD_NO_ANSWER] = "forwardNoAns",      /* after ringCount rings */
};

#define AFE_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * What presxml_read() says of a body that never gets to afe_convert().
 * afe_parse() takes an empty body as a request for state before that,
 * so the reason for one is never given.
 */
static const struct presxml_kind afe_kind = {
    "afe",                                /* logs "afe parse error" */
    "empty as-feature-event body",        /* no body: see above */
    "as-feature-event body too large",    /* longer than libxml2 takes */
    "as-feature-event not well-formed",   /* not XML */
};

static int
afe_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Phones send an empty body, or a bare line end, to ask for state. */
static int
afe_blank(const char *body, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!afe_space(body[i]))
            return 0;
    }
    return 1;
}

/* The first child {ECMA-323}name of parent, or NULL. */
static const xmlNode *
afe_child(const xmlNode *parent, const char *name)
{
    const xmlNode *n;

    for (n = parent->children; n != NULL; n = n->next) {
        if (presxml_is(n, AFE_NS, name))
            return n;
    }
    return NULL;
}

/* xs:boolean, forgiving case: 1 or 0, -1 when absent or not one. */
static int
afe_bool(const xmlNode *parent, const char *name)
{
    const xmlNode *n = afe_child(parent, name);
    char word[AFE_WORD_MAX];

    if (n == NULL || presxml_text(n, word, sizeof(word)) != 0)
        return -1;
    if (strcasecmp(word, "true") == 0 || strcmp(word, "1") == 0)
        return 1;
    if (strcasecmp(word, "false") == 0 || strcmp(word, "0") == 0)
        return 0;
    return -1;
}

/*
 * A text child into out, trimmed; absent or empty is "".  -1 when it is
 * too long to keep whole: a cut device or number would name another one.
 */
static int
afe_value(const xmlNode *parent, const char *name, char *out, size_t outlen)
{
    const xmlNode *n = afe_child(parent, name);

    out[0] = '\0';
    return n == NULL ? 0 : presxml_text(n, out, outlen);
}

/*
 * The forwarding part: type, destination and ring count.  ringCount may
 * be absent or empty (BroadWorks sends <ringCount></ringCount> for an
 * immediate forward); both read as -1.
 */
static const char *
afe_forwarding(const xmlNode *root, const struct afe_root_row *row,
    struct afe_request *req)
{
    char word[AFE_WORD_MAX];
    long rings;
    size_t i;

    if (afe_value(root, "forwardingType", word, sizeof(word)) != 0)
        return "unknown forwardingType";
    for (i = 0; i < AFE_NELEM(afe_fwd_names); i++) {
        if (strcmp(afe_fwd_names[i], word) == 0)
            break;
    }
    if (i == AFE_NELEM(afe_fwd_names))
        return "unknown forwardingType";
    req->ar_fwd_type = (enum afe_fwd_type)i;
    if (afe_value(root, row->rr_dn, req->ar_fwd_dn,
        sizeof(req->ar_fwd_dn)) != 0)
        return "as-feature-event value too long";
    if (afe_value(root, "ringCount", word, sizeof(word)) != 0)
        return "bad ringCount";
    if (word[0] == '\0')
        return NULL;
    if (parse_long(word, 0, AFE_RING_MAX, &rings) != 0)
        return "bad ringCount";
    req->ar_ring_count = (int)rings;
    return NULL;
}

/* Which document this is, by root name, then its namespace. */
static const char *
afe_root(const xmlNode *root, const struct afe_root_row **out)
{
    size_t i;

    *out = NULL;
    if (root == NULL)
        return "not an as-feature-event document";
    for (i = 0; i < AFE_NELEM(afe_root_rows); i++) {
        if (strcmp((const char *)root->name, afe_root_rows[i].rr_root) == 0)
            break;
    }
    if (i == AFE_NELEM(afe_root_rows))
        return "not an as-feature-event document";
    if (!presxml_in_ns(root, AFE_NS))
        return "wrong as-feature-event namespace";
    *out = &afe_root_rows[i];
    return NULL;
}

/* The tree under root into arg, an afe_request; NULL or the reason. */
static const char *
afe_convert(const xmlNode *root, void *arg)
{
    struct afe_request *req = arg;
    const struct afe_root_row *row;
    const char *reason;
    int on;

    reason = afe_root(root, &row);
    if (reason != NULL)
        return reason;
    req->ar_kind = row->rr_kind;
    /* The device is opaque to BroadWorks and may be absent. */
    if (afe_value(root, "device", req->ar_device,
        sizeof(req->ar_device)) != 0)
        return "as-feature-event value too long";
    on = afe_bool(root, row->rr_on);
    if (on < 0)
        return "as-feature-event on/off missing";
    if (row->rr_dn == NULL) {
        req->ar_dnd_on = on;
        return NULL;
    }
    req->ar_fwd_on = on;
    return afe_forwarding(root, row, req);
}

int
afe_parse(const char *body, size_t len, struct afe_request *req,
    char *why, size_t whylen)
{
    memset(req, 0, sizeof(*req));
    req->ar_ring_count = -1;
    if (body == NULL || afe_blank(body, len))
        return 0;
    if (presxml_read(body, len, &afe_kind, afe_convert, req, why,
        whylen) == 0)
        return 0;
    memset(req, 0, sizeof(*req));
    req->ar_ring_count = -1;
    return -1;
}

/*
 * The opening shared by both events.  The declaration says ISO-8859-1
 * as the BroadWorks and Polycom examples do; our content is ASCII, so
 * the bytes are the same in either encoding.
 */
static void
afe_put_head(struct buf *b, const char *root, const char *device)
{
    buf_printf(b, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
        "<%s xmlns=\"%s\">\n<device>", root, AFE_NS);
    buf_put_xml(b, device);
    buf_puts(b, "</device>\n");
}

/* The finished body, or NULL (logged) if it outgrew its buffer. */
static char *
afe_finish(struct buf *b, const char *root)
{
    if (b->b_overflow) {
        log_error("afe build overflow root=%s", root);
        buf_free(b);
        return NULL;
    }
    return buf_steal(b);
}

/*
 * Device numbers and forwarding targets are digits or SIP URIs, so the
 * builders take printable ASCII only, and refuse anything else rather
 * than mend it: a phone would dial what we write.
 */
char *
afe_build_dnd(const char *device, int on)
{
    struct buf b;

    if (!pres_text_printable(device, DLG_URI_MAX)) {
        log_warn("afe build refused reason=\"bad device\"");
        return NULL;
    }
    buf_init(&b, AFE_BUILD_MAX);
    afe_put_head(&b, "DoNotDisturbEvent", device);
    buf_printf(&b, "<doNotDisturbOn>%s</doNotDisturbOn>\n"
        "</DoNotDisturbEvent>\n", on ? "true" : "false");
    return afe_finish(&b, "DoNotDisturbEvent");
}

char *
afe_build_forwarding(const char *device, enum afe_fwd_type type,
    int on, const char *dn, int ring_count)
{
    struct buf b;

    if (dn == NULL)
        dn = "";
    if (!pres_text_printable(device, DLG_URI_MAX) ||
        !pres_text_printable(dn, DLG_URI_MAX) ||
        (unsigned)type >= AFE_FWD_COUNT || ring_count > AFE_RING_MAX) {
        log_warn("afe build refused reason=\"bad forwarding\"");
        return NULL;
    }
    buf_init(&b, AFE_BUILD_MAX);
    afe_put_head(&b, "ForwardingEvent", device);
    buf_printf(&b, "<forwardingType>%s</forwardingType>\n"
        "<forwardStatus>%s</forwardStatus>\n<forwardTo>",
        afe_fwd_names[type], on ? "true" : "false");
    buf_put_xml(&b, dn);
    buf_puts(&b, "</forwardTo>\n");
    if (ring_count >= 0)
        buf_printf(&b, "<ringCount>%d</ringCount>\n", ring_count);
    buf_puts(&b, "</ForwardingEvent>\n");
    return afe_finish(&b, "ForwardingEvent");
}
