/*
 * afe.c: the as-feature-event bodies of BroadWorks device feature key
 * synchronisation, which carry ECMA-323 (CSTA XML, edition 3) elements:
 * a phone asks with SetDoNotDisturb or SetForwarding in a SUBSCRIBE, the
 * server answers with DoNotDisturbEvent or ForwardingEvent in a NOTIFY.
 *
 * Both directions live in one file because they share the element names
 * and limits, and a body we build must read back the same.  The libxml2
 * tree lives only inside afe_parse().
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "core.h"
#include "presence/presence.h"

/* As for PIDF: no network, no entities, DOCTYPE refused by a hook. */
#define AFE_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS)

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

/* Parser-side state shared with the libxml2 callbacks. */
struct afe_ctx {
    int     ac_dtd;          /* a DOCTYPE was met; parsing stopped there */
    int     ac_err_line;     /* first libxml2 error, for the debug log */
    char    ac_err[96];
};

/* libxml2's global error handlers, saved around one parse. */
struct afe_quiet {
    xmlStructuredErrorFunc   aq_serror;
    void                    *aq_sctx;
    xmlGenericErrorFunc      aq_gerror;
    void                    *aq_gctx;
};

static void
afe_on_error(void *data, xmlErrorPtr err)
{
    struct afe_ctx *ac = data;
    size_t n;

    if (ac == NULL || err == NULL || ac->ac_err[0] != '\0')
        return;
    ac->ac_err_line = err->line;
    xstrlcpy(ac->ac_err, err->message ? err->message : "?",
        sizeof(ac->ac_err));
    n = strlen(ac->ac_err);
    while (n > 0 && ac->ac_err[n - 1] == '\n')
        ac->ac_err[--n] = '\0';
}

static void
afe_on_generic(void *data, const char *msg, ...)
{
    (void)data;
    (void)msg;
}

/* libxml2 messages come to us for one parse, never to stderr. */
static void
afe_quiet_begin(struct afe_quiet *q, struct afe_ctx *ac)
{
    q->aq_serror = xmlStructuredError;
    q->aq_sctx = xmlStructuredErrorContext;
    q->aq_gerror = xmlGenericError;
    q->aq_gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(ac, afe_on_error);
    xmlSetGenericErrorFunc(ac, afe_on_generic);
}

static void
afe_quiet_end(const struct afe_quiet *q)
{
    xmlSetStructuredErrorFunc(q->aq_sctx, q->aq_serror);
    xmlSetGenericErrorFunc(q->aq_gctx, q->aq_gerror);
}

/* SAX hook for <!DOCTYPE ...>: these bodies have no DTD to read. */
static void
afe_on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
    const xmlChar *sys_id)
{
    xmlParserCtxt *ctxt = ctx;
    struct afe_ctx *ac = ctxt->_private;

    (void)name;
    (void)ext_id;
    (void)sys_id;
    ac->ac_dtd = 1;
    xmlStopParser(ctxt);
}

/* The tree, or NULL when not well-formed or stopped at a DOCTYPE. */
static xmlDoc *
afe_run_parser(const char *body, size_t len, struct afe_ctx *ac)
{
    xmlParserCtxt *ctxt;
    xmlDoc *xdoc;
    int wf;

    ctxt = xmlCreateMemoryParserCtxt(body, (int)len);
    if (ctxt == NULL)
        return NULL;
    if (xmlCtxtUseOptions(ctxt, AFE_XML_OPTIONS) != 0) {
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    ctxt->sax->internalSubset = afe_on_doctype;
    ctxt->sax->externalSubset = afe_on_doctype;
    ctxt->_private = ac;
    wf = xmlParseDocument(ctxt) == 0 && ctxt->wellFormed &&
        ctxt->nsWellFormed;
    xdoc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);

    /* The hook catches every DOCTYPE; the tree check is a second net. */
    if (xdoc != NULL && (xdoc->intSubset != NULL || xdoc->extSubset != NULL))
        ac->ac_dtd = 1;
    if (wf && !ac->ac_dtd)
        return xdoc;
    xmlFreeDoc(xdoc);
    return NULL;
}

/* Body to tree: NULL with *out set, or the reason with *out NULL. */
static const char *
afe_read(const char *body, size_t len, xmlDoc **out)
{
    struct afe_ctx ac;
    struct afe_quiet q;

    memset(&ac, 0, sizeof(ac));
    xmlInitParser();
    afe_quiet_begin(&q, &ac);
    *out = afe_run_parser(body, len, &ac);
    afe_quiet_end(&q);
    if (*out != NULL)
        return NULL;
    if (ac.ac_err[0] != '\0')
        log_debug("afe parse error line=%d msg=\"%s\"", ac.ac_err_line,
            ac.ac_err);
    return ac.ac_dtd ? "DTD not allowed" : "as-feature-event not well-formed";
}

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

/*
 * The text of n without surrounding white space into out.  Returns -1
 * when it does not fit: a cut device or number would name another one.
 */
static int
afe_text(const xmlNode *n, char *out, size_t outlen)
{
    xmlChar *x = xmlNodeGetContent(n);
    const char *s;
    size_t len;

    out[0] = '\0';
    if (x == NULL)
        return 0;
    s = (const char *)x;
    while (afe_space(*s))
        s++;
    len = strlen(s);
    while (len > 0 && afe_space(s[len - 1]))
        len--;
    if (len < outlen) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    xmlFree(x);
    return len < outlen ? 0 : -1;
}

/* The first child {ECMA-323}name of parent, or NULL. */
static const xmlNode *
afe_child(const xmlNode *parent, const char *name)
{
    const xmlNode *n;

    for (n = parent->children; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
            n->ns->href != NULL &&
            strcmp((const char *)n->ns->href, AFE_NS) == 0 &&
            strcmp((const char *)n->name, name) == 0)
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

    if (n == NULL || afe_text(n, word, sizeof(word)) != 0)
        return -1;
    if (strcasecmp(word, "true") == 0 || strcmp(word, "1") == 0)
        return 1;
    if (strcasecmp(word, "false") == 0 || strcmp(word, "0") == 0)
        return 0;
    return -1;
}

/* A text child into out; absent or empty is "".  -1 when too long. */
static int
afe_value(const xmlNode *parent, const char *name, char *out, size_t outlen)
{
    const xmlNode *n = afe_child(parent, name);

    out[0] = '\0';
    return n == NULL ? 0 : afe_text(n, out, outlen);
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
    if (root->ns == NULL || root->ns->href == NULL ||
        strcmp((const char *)root->ns->href, AFE_NS) != 0)
        return "wrong as-feature-event namespace";
    *out = &afe_root_rows[i];
    return NULL;
}

/* The tree to our model; NULL on success, else the reason. */
static const char *
afe_convert(const xmlDoc *xdoc, struct afe_request *req)
{
    const xmlNode *root = xmlDocGetRootElement(xdoc);
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
    const char *reason;
    xmlDoc *xdoc = NULL;

    memset(req, 0, sizeof(*req));
    req->ar_ring_count = -1;
    if (body == NULL || afe_blank(body, len))
        return 0;
    if (len > INT_MAX)
        reason = "as-feature-event body too large";
    else
        reason = afe_read(body, len, &xdoc);
    if (reason == NULL) {
        reason = afe_convert(xdoc, req);
        xmlFreeDoc(xdoc);
    }
    if (reason == NULL)
        return 0;

    memset(req, 0, sizeof(*req));
    req->ar_ring_count = -1;
    if (why != NULL && whylen > 0)
        xstrlcpy(why, reason, whylen);
    return -1;
}

/*
 * Device numbers and forwarding targets are digits or SIP URIs: printable
 * ASCII shorter than DLG_URI_MAX.  Anything else is refused rather than
 * mended, since a phone would dial what we write.
 */
static int
afe_value_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL || strlen(s) >= DLG_URI_MAX)
        return 0;
    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p >= 0x7F)
            return 0;
    }
    return 1;
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

char *
afe_build_dnd(const char *device, int on)
{
    struct buf b;

    if (!afe_value_ok(device)) {
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
    if (!afe_value_ok(device) || !afe_value_ok(dn) ||
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
