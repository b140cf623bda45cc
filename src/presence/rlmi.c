/*
 * rlmi.c: the body of a resource list NOTIFY (RFC 4662): multipart/
 * related (RFC 2387) with an application/rlmi+xml root naming each
 * resource, then one part per resource whose state is known, tied to
 * its <instance> by Content-ID (RFC 2392).
 *
 * Written as text into one bounded buffer.  The part bodies come from
 * other users' publications, so they are never trusted to stay clear of
 * the boundary: every candidate is checked against all of them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "core.h"
#include "presence/presence.h"
#include "presence/pres_text.h"

/* The whole body; twenty PIDF resources take about 20 KiB. */
#define RLMI_BODY_MAX (1024 * 1024)

/* Content-Type values of parts, without the line end. */
#define RLMI_TYPE_MAX 128

/* Candidate boundaries tried before giving up. */
#define RLMI_TRIES 8

/*
 * Each resource has one instance, our one back-end subscription to it.
 * RFC 4662 section 5.2 only asks that the id be unique within its
 * resource and stay the same while that subscription lasts.
 */
#define RLMI_INSTANCE_ID "presgw-i"

/* FNV-1a, 64 bits: spreads the inputs over the boundary token. */
#define RLMI_FNV_BASIS UINT64_C(0xcbf29ce484222325)
#define RLMI_FNV_PRIME UINT64_C(0x100000001b3)

/* The names of one build: boundary and Content-IDs share a token. */
struct rlmi_names {
    char  rn_token[17];      /* 16 hex digits */
    char  rn_boundary[40];
    char  rn_root_cid[64];
};

static uint64_t
rlmi_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= RLMI_FNV_PRIME;
    }
    return h;
}

static uint64_t
rlmi_hash_str(uint64_t h, const char *s)
{
    /* The NUL goes in too, so ("ab", "c") and ("a", "bc") differ. */
    return rlmi_hash(h, s, strlen(s) + 1);
}

/*
 * The caller's input may go out: URIs and types cannot break a header
 * line or an attribute, and every part with a body has a type.
 */
static int
rlmi_input_ok(const char *uri, const struct rlmi_part *parts, size_t n)
{
    size_t i;

    if (!pres_text_token(uri, DLG_URI_MAX) || (parts == NULL && n > 0))
        return 0;
    for (i = 0; i < n; i++) {
        if (!pres_text_token(parts[i].rp_uri, DLG_URI_MAX))
            return 0;
        if (parts[i].rp_body != NULL &&
            !pres_text_token(parts[i].rp_type, RLMI_TYPE_MAX))
            return 0;
    }
    return 1;
}

/*
 * Names for try number k.  The first depends only on the list and its
 * version, the later ones on every body as well, so nobody who can
 * publish into the list can foresee, and embed, all of them.
 */
static void
rlmi_name(struct rlmi_names *nm, uint64_t seed, const struct rlmi_part *parts,
    size_t n, unsigned k)
{
    uint64_t h = seed;
    size_t i;

    if (k > 0) {
        h = rlmi_hash(h, &k, sizeof(k));
        for (i = 0; i < n; i++) {
            if (parts[i].rp_body != NULL)
                h = rlmi_hash_str(h, parts[i].rp_body);
        }
    }
    snprintf(nm->rn_token, sizeof(nm->rn_token), "%016" PRIx64, h);
    snprintf(nm->rn_boundary, sizeof(nm->rn_boundary), "presgw-%s",
        nm->rn_token);
    snprintf(nm->rn_root_cid, sizeof(nm->rn_root_cid), "rlmi.%s@presgw",
        nm->rn_token);
}

/* The Content-ID of the part of resource i, without the brackets. */
static void
rlmi_cid(const struct rlmi_names *nm, size_t i, char *out, size_t outlen)
{
    snprintf(out, outlen, "r%zu.%s@presgw", i + 1, nm->rn_token);
}

/*
 * The RLMI document.  A resource whose body we have is active and points
 * at its part; one without is pending, with no cid (RFC 4662 5.2).
 */
static void
rlmi_put_list(struct buf *b, const struct rlmi_names *nm, const char *uri,
    unsigned long version, int full, const struct rlmi_part *parts,
    size_t n)
{
    char cid[64];
    size_t i;

    buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
        "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"");
    buf_put_xml(b, uri);
    buf_printf(b, "\" version=\"%lu\" fullState=\"%s\">\r\n", version,
        full ? "true" : "false");
    for (i = 0; i < n; i++) {
        buf_puts(b, " <resource uri=\"");
        buf_put_xml(b, parts[i].rp_uri);
        buf_puts(b, "\">\r\n  <instance id=\"" RLMI_INSTANCE_ID "\"");
        if (parts[i].rp_body != NULL) {
            rlmi_cid(nm, i, cid, sizeof(cid));
            buf_printf(b, " state=\"active\" cid=\"%s\"/>\r\n", cid);
        } else {
            buf_puts(b, " state=\"pending\"/>\r\n");
        }
        buf_puts(b, " </resource>\r\n");
    }
    buf_puts(b, "</list>\r\n");
}

/* Does the boundary occur in the root document or in any body? */
static int
rlmi_collides(const struct rlmi_names *nm, const char *root,
    const struct rlmi_part *parts, size_t n)
{
    size_t i;

    if (strstr(root, nm->rn_boundary) != NULL)
        return 1;
    for (i = 0; i < n; i++) {
        if (parts[i].rp_body != NULL &&
            strstr(parts[i].rp_body, nm->rn_boundary) != NULL)
            return 1;
    }
    return 0;
}

/* One body part: delimiter, headers, a blank line, the content. */
static void
rlmi_put_part(struct buf *b, const struct rlmi_names *nm, const char *type,
    const char *cid, const char *body)
{
    buf_printf(b, "--%s\r\nContent-Type: %s\r\n"
        "Content-Transfer-Encoding: binary\r\nContent-ID: <%s>\r\n\r\n",
        nm->rn_boundary, type, cid);
    buf_puts(b, body);
    buf_puts(b, "\r\n");
}

/*
 * The root first (RFC 4662 section 5.1 also names it in start=), then
 * the resources in list order.  Delimiters and headers end in CRLF;
 * bodies go out byte for byte.
 */
static void
rlmi_assemble(struct buf *b, const struct rlmi_names *nm, const char *root,
    const struct rlmi_part *parts, size_t n)
{
    char cid[64];
    size_t i;

    rlmi_put_part(b, nm, "application/rlmi+xml", nm->rn_root_cid, root);
    for (i = 0; i < n; i++) {
        if (parts[i].rp_body == NULL)
            continue;
        rlmi_cid(nm, i, cid, sizeof(cid));
        rlmi_put_part(b, nm, parts[i].rp_type, cid, parts[i].rp_body);
    }
    buf_printf(b, "--%s--\r\n", nm->rn_boundary);
}

/*
 * Finds names whose boundary occurs nowhere, with the root document
 * written for them into root.  0, or -1 when none was found or the
 * document outgrew the limit.
 */
static int
rlmi_pick(struct rlmi_names *nm, struct buf *root, const char *uri,
    unsigned long version, int full, const struct rlmi_part *parts,
    size_t n)
{
    uint64_t seed = RLMI_FNV_BASIS;
    unsigned k;

    seed = rlmi_hash_str(seed, uri);
    seed = rlmi_hash(seed, &version, sizeof(version));
    seed = rlmi_hash(seed, &full, sizeof(full));
    for (k = 0; k < RLMI_TRIES; k++) {
        rlmi_name(nm, seed, parts, n, k);
        buf_reset(root);
        rlmi_put_list(root, nm, uri, version, full, parts, n);
        if (root->b_overflow)
            return -1;
        if (!rlmi_collides(nm, root->b_data, parts, n))
            return 0;
    }
    return -1;
}

char *
rlmi_build(const char *uri, unsigned long version, int full,
    const struct rlmi_part *parts, size_t n, char *boundary,
    char *start_cid)
{
    struct rlmi_names nm;
    struct buf root, out;

    if (!rlmi_input_ok(uri, parts, n)) {
        log_warn("rlmi build refused reason=\"bad input\"");
        return NULL;
    }
    buf_init(&root, RLMI_BODY_MAX);
    if (rlmi_pick(&nm, &root, uri, version, full, parts, n) != 0) {
        log_warn("rlmi build failed list=%s resources=%zu "
            "reason=\"no boundary or too large\"", uri, n);
        buf_free(&root);
        return NULL;
    }
    buf_init(&out, RLMI_BODY_MAX);
    rlmi_assemble(&out, &nm, root.b_data, parts, n);
    buf_free(&root);
    if (out.b_overflow) {
        log_warn("rlmi build too large list=%s resources=%zu", uri, n);
        buf_free(&out);
        return NULL;
    }
    xstrlcpy(boundary, nm.rn_boundary, sizeof(nm.rn_boundary));
    xstrlcpy(start_cid, nm.rn_root_cid, sizeof(nm.rn_root_cid));
    return buf_steal(&out);
}
