/*
 * graph_cred.h: the application's credential in a token request
 * (graph-api.md 4.1): the client secret, or a client assertion (RFC 7523)
 * signed with the certificate's key.  Used by graph_token.c and its unit
 * test; runs on the event loop thread.
 */
#ifndef PRESGW_GRAPH_CRED_H
#define PRESGW_GRAPH_CRED_H

#include <time.h>

#include "core.h"
#include "graph/graph.h"

/*
 * Appends "&client_secret=..." or "&client_assertion_type=...&
 * client_assertion=..." to a form body.  The assertion's audience is
 * token_url and it is good from now for ten minutes; it is registered
 * with the log as a secret.  The key files are read on every call, so a
 * renewed certificate is taken up without a reload.  0, or -1 with a
 * message in *err (the caller frees it; no key material in it).
 */
int graph_cred_append(const struct graph_conf *c, const char *token_url,
    time_t now, struct buf *body, char **err);

#endif
