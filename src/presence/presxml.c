/*
 * presxml.c: reads a presence document with libxml2, guarded against
 * what an XML body can do to its reader, for the parsers of PIDF,
 * dialog-info and as-feature-event.  Each of them walks its own
 * elements; the reading, the refusals and the reasons for them live
 * here once.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "core.h"
#include "presence/presxml.h"

/*
 * No network, no DTD loading, no entity substitution.  A DOCTYPE is
 * refused outright by presxml_on_doctype() before its internal subset
 * is read, which is what stops billion-laughs and XXE documents.
 */
#define PRESXML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS)

/* Parser-side state shared with the libxml2 callbacks. */
struct presxml_ctx {
    int     pc_dtd;          /* a DOCTYPE was met; parsing stopped there */
    int     pc_err_line;     /* first libxml2 error, for the debug log */
    char    pc_err[96];
};

/* libxml2's global error handlers, saved around one parse. */
struct presxml_quiet {
    xmlStructuredErrorFunc   pq_serror;
    void                    *pq_sctx;
    xmlGenericErrorFunc      pq_gerror;
    void                    *pq_gctx;
};

static void
presxml_on_error(void *data, xmlErrorPtr err)
{
    struct presxml_ctx *pc = data;
    size_t n;

    if (pc == NULL || err == NULL || pc->pc_err[0] != '\0')
        return;
    pc->pc_err_line = err->line;
    xstrlcpy(pc->pc_err, err->message ? err->message : "?",
        sizeof(pc->pc_err));
    n = strlen(pc->pc_err);
    while (n > 0 && pc->pc_err[n - 1] == '\n')
        pc->pc_err[--n] = '\0';
}

static void
presxml_on_generic(void *data, const char *msg, ...)
{
    (void)data;
    (void)msg;
}

/*
 * libxml2 reports through process-wide handlers.  They point at us for
 * the length of one parse, so nothing reaches stderr, and are put back
 * afterwards for whoever else uses libxml2 in the process.
 */
static void
presxml_quiet_begin(struct presxml_quiet *q, struct presxml_ctx *pc)
{
    q->pq_serror = xmlStructuredError;
    q->pq_sctx = xmlStructuredErrorContext;
    q->pq_gerror = xmlGenericError;
    q->pq_gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(pc, presxml_on_error);
    xmlSetGenericErrorFunc(pc, presxml_on_generic);
}

static void
presxml_quiet_end(const struct presxml_quiet *q)
{
    xmlSetStructuredErrorFunc(q->pq_sctx, q->pq_serror);
    xmlSetGenericErrorFunc(q->pq_gctx, q->pq_gerror);
}

/* SAX hook for <!DOCTYPE ...>: none of our documents has a DTD. */
static void
presxml_on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
    const xmlChar *sys_id)
{
    xmlParserCtxt *ctxt = ctx;
    struct presxml_ctx *pc = ctxt->_private;

    (void)name;
    (void)ext_id;
    (void)sys_id;
    pc->pc_dtd = 1;
    xmlStopParser(ctxt);
}

/*
 * Runs libxml2 over body with our options and hooks.  Returns the tree,
 * or NULL when it is not well-formed, the parser could not start, or a
 * DOCTYPE stopped it (pc->pc_dtd says which).
 */
static xmlDoc *
presxml_run_parser(const char *body, size_t len, struct presxml_ctx *pc)
{
    xmlParserCtxt *ctxt;
    xmlDoc *xdoc;
    int wf;

    ctxt = xmlCreateMemoryParserCtxt(body, (int)len);
    if (ctxt == NULL)
        return NULL;
    if (xmlCtxtUseOptions(ctxt, PRESXML_OPTIONS) != 0) {
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    ctxt->sax->internalSubset = presxml_on_doctype;
    ctxt->sax->externalSubset = presxml_on_doctype;
    ctxt->_private = pc;
    wf = xmlParseDocument(ctxt) == 0 && ctxt->wellFormed &&
        ctxt->nsWellFormed;
    xdoc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);

    /* The hook sees every DOCTYPE; the check on the tree is a backstop. */
    if (xdoc != NULL && (xdoc->intSubset != NULL || xdoc->extSubset != NULL))
        pc->pc_dtd = 1;
    if (wf && !pc->pc_dtd)
        return xdoc;
    xmlFreeDoc(xdoc);
    return NULL;
}

/* Body to tree: NULL with *out set, or the reason with *out NULL. */
static const char *
presxml_parse(const char *body, size_t len, const struct presxml_kind *kind,
    xmlDoc **out)
{
    struct presxml_ctx pc;
    struct presxml_quiet q;

    memset(&pc, 0, sizeof(pc));
    xmlInitParser();
    presxml_quiet_begin(&q, &pc);
    *out = presxml_run_parser(body, len, &pc);
    presxml_quiet_end(&q);
    if (*out != NULL)
        return NULL;
    if (pc.pc_err[0] != '\0')
        log_debug("%s parse error line=%d msg=\"%s\"", kind->pk_log,
            pc.pc_err_line, pc.pc_err);
    return pc.pc_dtd ? "DTD not allowed" : kind->pk_malformed;
}

int
presxml_read(const char *body, size_t len,
    const struct presxml_kind *kind,
    const char *(*convert)(const xmlNode *root, void *arg), void *arg,
    char *why, size_t whylen)
{
    const char *reason;
    xmlDoc *xdoc = NULL;

    if (body == NULL || len == 0)
        reason = kind->pk_empty;
    else if (len > INT_MAX)
        reason = kind->pk_too_large;
    else
        reason = presxml_parse(body, len, kind, &xdoc);
    if (reason == NULL) {
        reason = convert(xmlDocGetRootElement(xdoc), arg);
        xmlFreeDoc(xdoc);
    }
    if (reason == NULL)
        return 0;
    if (why != NULL && whylen > 0)
        xstrlcpy(why, reason, whylen);
    return -1;
}

int
presxml_in_ns(const xmlNode *n, const char *ns)
{
    return n->ns != NULL && n->ns->href != NULL &&
        strcmp((const char *)n->ns->href, ns) == 0;
}

int
presxml_is(const xmlNode *n, const char *ns, const char *name)
{
    return n->type == XML_ELEMENT_NODE && presxml_in_ns(n, ns) &&
        strcmp((const char *)n->name, name) == 0;
}

static int
presxml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Copies x, a string from libxml2, without leading and trailing white
 * space into out, cut at a UTF-8 character boundary if it does not fit,
 * and frees it; NULL gives "".  Returns 0, or -1 when the text was cut,
 * so the caller can refuse what must not be cut.
 */
static int
presxml_take(xmlChar *x, char *out, size_t outlen)
{
    const char *s = (const char *)x;
    size_t len, n;

    out[0] = '\0';
    if (x == NULL)
        return 0;
    while (presxml_space(*s))
        s++;
    len = strlen(s);
    while (len > 0 && presxml_space(s[len - 1]))
        len--;
    n = len < outlen ? len : outlen - 1;
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, s, n);
    out[n] = '\0';
    xmlFree(x);
    return len < outlen ? 0 : -1;
}

int
presxml_text(const xmlNode *n, char *out, size_t outlen)
{
    return presxml_take(xmlNodeGetContent(n), out, outlen);
}

int
presxml_attr(const xmlNode *n, const char *name, char *out, size_t outlen)
{
    return presxml_take(xmlGetNoNsProp(n, (const xmlChar *)name), out,
        outlen);
}
