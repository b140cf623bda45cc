/*
 * presxml.h: the guarded libxml2 reading behind pidf_parse(),
 * dialoginfo_parse() and afe_parse(), and the node helpers they share.
 * Internal to src/presence; the module's interface is presence.h.
 *
 * The libxml2 tree never outlives presxml_read(): the parser's convert
 * function sees the root element while the document is alive, copies
 * what it needs into its own model, and the document is freed before
 * presxml_read() returns.
 */
#ifndef PRESGW_PRESXML_H
#define PRESGW_PRESXML_H

#include <stddef.h>

#include <libxml/tree.h>

/*
 * What presxml_read() says about one kind of document.  Each parser
 * spells its reasons out whole, so grep finds them where they belong.
 */
struct presxml_kind {
    const char  *pk_log;         /* subsystem of the debug log: "pidf" */
    const char  *pk_empty;       /* reason: no body at all */
    const char  *pk_too_large;   /* reason: more than libxml2 can take */
    const char  *pk_malformed;   /* reason: not well-formed XML */
};

/*
 * Parses body (len bytes) with no network, no DTD and no entity
 * substitution, then hands the root element (NULL if the document has
 * none) and arg to convert, which returns NULL or the reason it refuses
 * the document.  A DOCTYPE of any kind is refused as "DTD not allowed".
 * libxml2's messages go to the debug log, never to stderr.
 * Returns 0 when convert accepted the document; otherwise -1, with the
 * reason copied into why when why is not NULL.  The event loop only.
 */
int presxml_read(const char *body, size_t len,
    const struct presxml_kind *kind,
    const char *(*convert)(const xmlNode *root, void *arg), void *arg,
    char *why, size_t whylen);

/* Is n in the namespace with URI ns?  Prefixes do not matter. */
int presxml_in_ns(const xmlNode *n, const char *ns);

/* Is n the element name in the namespace with URI ns? */
int presxml_is(const xmlNode *n, const char *ns, const char *name);

/*
 * The text content of n without surrounding white space into out, cut
 * at a UTF-8 character boundary if it does not fit; "" when there is
 * none.  Returns 0, or -1 when it was cut.
 */
int presxml_text(const xmlNode *n, char *out, size_t outlen);

/*
 * The value of attribute name (in no namespace) of n, trimmed and cut
 * as by presxml_text(); "" when absent.  Returns 0, or -1 when cut.
 */
int presxml_attr(const xmlNode *n, const char *name, char *out,
    size_t outlen);

#endif
