/*
 * golden_dialog.c: feeds the BLF, feature-sync and resource-list
 * documents of the corpus through presgw's codecs and compares what
 * they make of each with an expectation file.
 *
 * usage: golden_dialog KIND CORPUS-DIR EXPECT-FILE
 *
 * KIND picks the corpus files: "dialog" (dialog-info), "afe"
 * (as-feature-event) or "rls" (resource list NOTIFY bodies).  A .xml
 * file is one body of the kind's type; a .sip file is a whole message,
 * split at the first empty line and typed by its Content-Type; a .mime
 * file is a multipart body without headers, whose boundary is taken from
 * its first delimiter line.  A multipart body yields a row for itself
 * and one per part, named NAME#1, NAME#2, NAME#2.1 for nested ones.
 *
 * The expectation file has one row per file or part, tab separated:
 *
 *     NAME<TAB>OUTCOME
 *
 * where OUTCOME (which holds tabs itself) is one of
 *
 *     dialog<TAB>STATUS<TAB>DETAIL   dialoginfo_parse(), map_dialog_status()
 *     afe<TAB>DETAIL                 afe_parse()
 *     pidf<TAB>STATUS                pidf_parse(), map_doc_status()
 *     rlmi<TAB>DETAIL                a summary of an RLMI list (see below)
 *     multipart<TAB>parts=N          split into N parts, each with a row
 *     skip<TAB>TYPE                  a part presgw has no codec for
 *     CODEC<TAB>reject<TAB>WHY       refused with reason WHY
 *
 * presgw builds RLMI but never reads it, so an RLMI part is only checked
 * for being well-formed and summarised (namespace, version, resources,
 * instances); the parts it points at go through the real codecs.
 * Splitting is deliberately tolerant (Content-Length is ignored, a blank
 * line straight after the delimiter is skipped when headers follow): it
 * stands in for a watcher, and is not presgw code.
 *
 * Blank lines and lines starting with '#' are comments.  A file or part
 * without a row fails; a row nothing matched is reported, not failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core.h"
#include "golden.h"
#include "mapping/mapping.h"
#include "presence/presence.h"

#define GOLDEN_OUT_MAX   2048
#define GOLDEN_TYPE_MAX  512
#define GOLDEN_DEPTH_MAX 4

/* What KIND selects. */
struct golden_kind {
    const char  *gk_name;
    const char  *gk_prefix[2];    /* corpus file name prefixes */
    const char  *gk_type;         /* the media type of a bare .xml file */
};

static const struct golden_kind golden_kinds[] = {
    /* BLF lamps */
    { "dialog", { "dialog-info--", "malformed--dialog-info--" },
        "application/dialog-info+xml" },
    /* handset DND and forwarding */
    { "afe", { "as-feature-event--", "malformed--as-feature-event--" },
        "application/x-as-feature-event+xml" },
    /* resource list NOTIFY bodies */
    { "rls", { "rls--", "malformed--rls--" }, "application/rlmi+xml" },
};

/* The codecs a part can go through, by media type. */
struct golden_codec {
    const char  *gc_type;
    void       (*gc_fn)(const char *body, size_t len, struct buf *out);
};

#define GOLDEN_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const golden_dlg_states[] = {
    [DLG_NONE]       = "none",
    [DLG_TRYING]     = "trying",
    [DLG_PROCEEDING] = "proceeding",
    [DLG_EARLY]      = "early",
    [DLG_CONFIRMED]  = "confirmed",
    [DLG_TERMINATED] = "terminated",
};

static const char *const golden_dlg_dirs[] = {
    [DLG_DIR_NONE]      = NULL,
    [DLG_DIR_INITIATOR] = "initiator",
    [DLG_DIR_RECIPIENT] = "recipient",
};

/* " key=value" when value is not empty; quoted when it is a name. */
static void
golden_field(struct buf *out, const char *key, const char *value, int quote)
{
    if (value == NULL || value[0] == '\0')
        return;
    buf_printf(out, quote ? " %s=\"%s\"" : " %s=%s", key, value);
}

static void
golden_dialog_one(struct buf *out, const struct dlg_dialog *d)
{
    buf_printf(out, "; id=%s state=%s", d->dd_id,
        golden_dlg_states[d->dd_state]);
    golden_field(out, "dir", golden_dlg_dirs[d->dd_direction], 0);
    golden_field(out, "call-id", d->dd_call_id, 0);
    golden_field(out, "local-tag", d->dd_local_tag, 0);
    golden_field(out, "remote-tag", d->dd_remote_tag, 0);
    golden_field(out, "local", d->dd_local_uri, 0);
    golden_field(out, "local-name", d->dd_local_name, 1);
    golden_field(out, "remote", d->dd_remote_uri, 0);
    golden_field(out, "remote-name", d->dd_remote_name, 1);
}

static void
golden_dialog(const char *body, size_t len, struct buf *out)
{
    static struct dlg_doc doc;
    char why[128];
    size_t i;

    if (dialoginfo_parse(body, len, &doc, why, sizeof(why)) != 0) {
        buf_printf(out, "dialog\treject\t%s", why);
        return;
    }
    buf_printf(out, "dialog\t%s\t%s v=%lu entity=%s dialogs=%zu",
        pres_status_name(map_dialog_status(&doc)),
        doc.di_full ? "full" : "partial", doc.di_version, doc.di_entity,
        doc.di_count);
    for (i = 0; i < doc.di_count; i++)
        golden_dialog_one(out, &doc.di_dialogs[i]);
}

static const char *const golden_afe_kinds[] = {
    [AFE_NONE]             = "none",
    [AFE_SET_DND]          = "set-dnd",
    [AFE_SET_FORWARDING]   = "set-forwarding",
    [AFE_DND_EVENT]        = "dnd-event",
    [AFE_FORWARDING_EVENT] = "forwarding-event",
};

static const char *const golden_afe_types[AFE_FWD_COUNT] = {
    [AFE_FWD_IMMEDIATE] = "immediate",
    [AFE_FWD_BUSY]      = "busy",
    [AFE_FWD_NO_ANSWER] = "no-answer",
};

static void
golden_afe(const char *body, size_t len, struct buf *out)
{
    struct afe_request req;
    char why[128];

    if (afe_parse(body, len, &req, why, sizeof(why)) != 0) {
        buf_printf(out, "afe\treject\t%s", why);
        return;
    }
    buf_printf(out, "afe\t%s", golden_afe_kinds[req.ar_kind]);
    if (req.ar_kind == AFE_SET_DND || req.ar_kind == AFE_DND_EVENT)
        buf_printf(out, " device=%s on=%d", req.ar_device, req.ar_dnd_on);
    else if (req.ar_kind != AFE_NONE)
        buf_printf(out, " device=%s type=%s on=%d dn=%s rings=%d",
            req.ar_device, golden_afe_types[req.ar_fwd_type],
            req.ar_fwd_on, req.ar_fwd_dn, req.ar_ring_count);
}

static void
golden_pidf(const char *body, size_t len, struct buf *out)
{
    struct pres_doc doc;
    char why[128];

    if (pidf_parse(body, len, &doc, why, sizeof(why)) != 0)
        buf_printf(out, "pidf\treject\t%s", why);
    else
        buf_printf(out, "pidf\t%s", pres_status_name(map_doc_status(&doc)));
}

/* Is n an element name in the namespace of the list root? */
static int
golden_rlmi_is(const xmlNode *n, const xmlNode *root, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns == root->ns &&
        strcmp((const char *)n->name, name) == 0;
}

/* Counts resources and their instances by state. */
static void
golden_rlmi_count(const xmlNode *root, int *res, int *active, int *pending)
{
    const xmlNode *r, *i;
    xmlChar *state;

    for (r = root->children; r != NULL; r = r->next) {
        if (!golden_rlmi_is(r, root, "resource"))
            continue;
        (*res)++;
        for (i = r->children; i != NULL; i = i->next) {
            if (!golden_rlmi_is(i, root, "instance"))
                continue;
            state = xmlGetNoNsProp(i, (const xmlChar *)"state");
            if (state != NULL && strcmp((const char *)state, "active") == 0)
                (*active)++;
            else if (state != NULL &&
                strcmp((const char *)state, "pending") == 0)
                (*pending)++;
            xmlFree(state);
        }
    }
}

/* A summary of an RLMI document, which no presgw codec reads. */
static void
golden_rlmi(const char *body, size_t len, struct buf *out)
{
    xmlDoc *x = xmlReadMemory(body, (int)len, NULL, NULL,
        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    const xmlNode *root = x != NULL ? xmlDocGetRootElement(x) : NULL;
    xmlChar *ver, *full;
    int res = 0, active = 0, pending = 0;

    if (root == NULL || strcmp((const char *)root->name, "list") != 0 ||
        root->ns == NULL) {
        buf_puts(out, x == NULL ? "rlmi\treject\tnot well-formed"
            : "rlmi\treject\tnot a list");
        xmlFreeDoc(x);
        return;
    }
    golden_rlmi_count(root, &res, &active, &pending);
    ver = xmlGetNoNsProp(root, (const xmlChar *)"version");
    full = xmlGetNoNsProp(root, (const xmlChar *)"fullState");
    buf_printf(out, "rlmi\tns=%s version=%s full=%s resources=%d "
        "active=%d pending=%d", (const char *)root->ns->href,
        ver ? (const char *)ver : "-", full ? (const char *)full : "-",
        res, active, pending);
    xmlFree(ver);
    xmlFree(full);
    xmlFreeDoc(x);
}

static const struct golden_codec golden_codecs[] = {
    /* dialog-info, RFC 4235 */
    { "application/dialog-info+xml",        golden_dialog },
    /* BroadWorks feature key synchronisation */
    { "application/x-as-feature-event+xml", golden_afe },
    /* PIDF, RFC 3863 */
    { "application/pidf+xml",               golden_pidf },
    /* RLMI, RFC 4662 */
    { "application/rlmi+xml",               golden_rlmi },
};

/*
 * The line at p: returns the start of the next line and sets *len to
 * the length of this one without its CRLF or LF.
 */
static const char *
golden_line(const char *p, const char *end, size_t *len)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl != NULL ? nl : end;

    *len = (size_t)(stop - p);
    if (*len > 0 && p[*len - 1] == '\r')
        (*len)--;
    return nl != NULL ? nl + 1 : end;
}

/* Does the line at p start like "Name:" of a header? */
static int
golden_headerish(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] == ':')
            return i > 0;
        if (!(p[i] == '-' || (p[i] >= 'A' && p[i] <= 'Z') ||
            (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            return 0;
    }
    return 0;
}

/* Appends a Content-Type line or its continuation to type. */
static void
golden_type_add(char *type, size_t typelen, const char *p, size_t len)
{
    size_t have = strlen(type);

    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    if (have > 0 && have + 1 < typelen)
        type[have++] = ' ';
    if (have + len >= typelen)
        len = typelen - have - 1;
    memcpy(type + have, p, len);
    type[have + len] = '\0';
}

/*
 * Reads header lines from p up to the empty line that ends them, with
 * folded lines joined, keeping the value of Content-Type in type ("" if
 * there is none).  An empty line right at the start is skipped when a
 * header follows it (BroadWorks).  Returns where the body starts.
 */
static const char *
golden_headers(const char *p, const char *end, char *type, size_t typelen)
{
    const char *next;
    size_t len;
    int in_type = 0;

    type[0] = '\0';
    next = golden_line(p, end, &len);
    if (len == 0 && next < end) {
        (void)golden_line(next, end, &len);
        if (golden_headerish(next, len))
            p = next;
    }
    while (p < end) {
        next = golden_line(p, end, &len);
        if (len == 0)
            return next;
        if (*p == ' ' || *p == '\t') {
            if (in_type)
                golden_type_add(type, typelen, p, len);
        } else {
            in_type = len > 13 && strncasecmp(p, "Content-Type:", 13) == 0;
            if (in_type)
                golden_type_add(type, typelen, p + 13, len - 13);
        }
        p = next;
    }
    return end;
}

/* The boundary parameter of a multipart type into out; -1 if none. */
static int
golden_boundary(const char *type, char *out, size_t outlen)
{
    const char *p = type, *b = NULL;
    size_t n;

    for (; *p != '\0'; p++) {
        if (strncasecmp(p, "boundary=", 9) == 0 &&
            (p == type || p[-1] == ';' || p[-1] == ' '))
            b = p + 9;
    }
    if (b == NULL)
        return -1;
    if (*b == '"')
        n = strcspn(++b, "\"");
    else
        n = strcspn(b, "; \t");
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, b, n);
    out[n] = '\0';
    return 0;
}

/* The first "--x" line after blank lines: the boundary of a .mime. */
static int
golden_guess_boundary(const char *p, const char *end, char *out,
    size_t outlen)
{
    size_t len;

    while (p < end) {
        const char *next = golden_line(p, end, &len);

        if (len > 2 && p[0] == '-' && p[1] == '-' && len - 2 < outlen) {
            memcpy(out, p + 2, len - 2);
            out[len - 2] = '\0';
            return 0;
        }
        if (len != 0)
            return -1;
        p = next;
    }
    return -1;
}

/* The next "--boundary" at the start of a line, at or after p. */
static const char *
golden_delim(const char *start, const char *p, const char *end,
    const char *bnd)
{
    size_t bl = strlen(bnd);

    for (; p + 2 + bl <= end; p++) {
        if ((p == start || p[-1] == '\n') && p[0] == '-' && p[1] == '-' &&
            strncmp(p + 2, bnd, bl) == 0)
            return p;
    }
    return NULL;
}

/* Is the delimiter at d the closing one, "--boundary--"? */
static int
golden_closing(const char *d, const char *end, const char *bnd)
{
    size_t bl = strlen(bnd);

    return d + 2 + bl + 2 <= end && d[2 + bl] == '-' && d[3 + bl] == '-';
}

static void golden_entity(struct golden_set *res, const char *key,
    const char *type, const char *body, size_t len, int depth);

/*
 * One part, from after its delimiter line to the line break before the
 * next delimiter at dnext: its headers, then its content as an entity.
 */
static void
golden_part(struct golden_set *res, const char *key, const char *p,
    const char *dnext, int depth)
{
    char type[GOLDEN_TYPE_MAX];
    const char *body, *stop = dnext;

    if (stop > p && stop[-1] == '\n')
        stop--;
    if (stop > p && stop[-1] == '\r')
        stop--;
    body = golden_headers(p, stop, type, sizeof(type));
    /* RFC 2046 section 5.1: a part without Content-Type is text. */
    golden_entity(res, key, type[0] != '\0' ? type : "text/plain", body,
        (size_t)(stop - body), depth);
}

/*
 * Splits a multipart body.  Parts get their rows in order, after the
 * row of the whole, which says how many there were.
 */
static void
golden_multipart(struct golden_set *res, const char *key, const char *type,
    const char *body, size_t len, int depth)
{
    const char *end = body + len, *d, *next, *p;
    char bnd[128], *sub;
    size_t mark = res->gs_len, n = 0, skip;

    if ((type != NULL ? golden_boundary(type, bnd, sizeof(bnd))
        : golden_guess_boundary(body, end, bnd, sizeof(bnd))) != 0) {
        golden_add(res, key, "multipart\treject\tno boundary");
        return;
    }
    golden_add(res, key, "");
    d = golden_delim(body, body, end, bnd);
    while (d != NULL && !golden_closing(d, end, bnd)) {
        p = golden_line(d, end, &skip);
        next = golden_delim(body, p, end, bnd);
        if (next == NULL)
            break;
        sub = xasprintf("%s%s%zu", key, depth == 0 ? "#" : ".", ++n);
        golden_part(res, sub, p, next, depth + 1);
        free(sub);
        d = next;
    }
    free(res->gs_rows[mark].gr_want);
    res->gs_rows[mark].gr_want = xasprintf("multipart\tparts=%zu", n);
}

/* The media type of type, without parameters, into out. */
static void
golden_media(const char *type, char *out, size_t outlen)
{
    size_t n = strcspn(type, "; \t");

    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, type, n);
    out[n] = '\0';
}

/* One body: multipart, a type with a codec, or something skipped. */
static void
golden_entity(struct golden_set *res, const char *key, const char *type,
    const char *body, size_t len, int depth)
{
    char media[GOLDEN_TYPE_MAX];
    struct buf out;
    size_t i;

    if (depth > GOLDEN_DEPTH_MAX) {
        golden_add(res, key, "multipart\treject\tnested too deep");
        return;
    }
    if (type == NULL || strncasecmp(type, "multipart/", 10) == 0) {
        golden_multipart(res, key, type, body, len, depth);
        return;
    }
    golden_media(type, media, sizeof(media));
    buf_init(&out, GOLDEN_OUT_MAX);
    for (i = 0; i < GOLDEN_NELEM(golden_codecs); i++) {
        if (strcasecmp(golden_codecs[i].gc_type, media) == 0) {
            golden_codecs[i].gc_fn(body, len, &out);
            break;
        }
    }
    if (i == GOLDEN_NELEM(golden_codecs))
        buf_printf(&out, "skip\t%s", media);
    golden_add(res, key, out.b_data != NULL ? out.b_data : "");
    buf_free(&out);
}

/* A .sip file: the body after the first empty line, by Content-Type. */
static void
golden_message(struct golden_set *res, const char *name,
    const struct golden_kind *kind, const char *data, size_t len)
{
    char type[GOLDEN_TYPE_MAX];
    const char *body = golden_headers(data, data + len, type, sizeof(type));

    golden_entity(res, name, type[0] != '\0' ? type : kind->gk_type, body,
        (size_t)(data + len - body), 0);
}

/* Every outcome of one corpus file, by the kind of file it is. */
static void
golden_outcomes(struct golden_set *res, const char *name, const char *data,
    size_t len, const void *arg)
{
    const struct golden_kind *kind = arg;
    const char *ext = strrchr(name, '.');

    if (ext != NULL && strcmp(ext, ".sip") == 0)
        golden_message(res, name, kind, data, len);
    else if (ext != NULL && strcmp(ext, ".mime") == 0)
        golden_entity(res, name, NULL, data, len, 0);
    else
        golden_entity(res, name, kind->gk_type, data, len, 0);
}

static int
golden_wanted(const char *name, const void *arg)
{
    const struct golden_kind *kind = arg;
    size_t i;

    for (i = 0; i < GOLDEN_NELEM(kind->gk_prefix); i++) {
        if (strncmp(name, kind->gk_prefix[i],
            strlen(kind->gk_prefix[i])) == 0)
            return 1;
    }
    return 0;
}

static const struct golden_walk golden_dialog_walk = {
    golden_wanted,      /* the kind's file name prefixes */
    NULL,               /* any row: outcomes are free text */
    golden_outcomes,    /* a row per file and one per part */
};

static const struct golden_kind *
golden_kind(const char *name)
{
    size_t i;

    for (i = 0; i < GOLDEN_NELEM(golden_kinds); i++) {
        if (strcmp(golden_kinds[i].gk_name, name) == 0)
            return &golden_kinds[i];
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const struct golden_kind *kind = argc == 4 ? golden_kind(argv[1]) : NULL;

    if (kind == NULL) {
        fprintf(stderr, "usage: golden_dialog dialog|afe|rls CORPUS-DIR "
            "EXPECT-FILE\n");
        return 2;
    }
    log_init("golden_dialog", 0, LOG_LVL_WARN);
    return golden_run(&golden_dialog_walk, kind, argv[2], argv[3]);
}
