/*
 * gateway_http.h: presgwd's HTTP listener as the configuration asks for
 * it, kept across reloads that leave its settings alone, and its routes
 * (/healthz).
 *
 * Event loop thread only.
 */
#ifndef PRESGW_GATEWAY_HTTP_H
#define PRESGW_GATEWAY_HTTP_H

#define SU_ROOT_MAGIC_T void
#include <sofia-sip/su_wait.h>

struct conf;
struct health;
struct gateway_http;

/* No listener yet; /healthz will report h (which stays the caller's). */
struct gateway_http *gateway_http_new(su_root_t *root, struct health *h);

/*
 * Makes the listener what c says: none when http.listen is empty, the
 * running one when no http setting (nor the certificate or key file)
 * changed, else a new one that replaces it.  If a new one cannot start,
 * the old one stays, the reason is logged and -1 returned.
 */
int gateway_http_apply(struct gateway_http *gh, const struct conf *c);

/*
 * Serves Graph's change notifications on notify_path and lifecycle_path
 * (copied), on this listener and every later one.
 */
struct graph;
void gateway_http_set_graph(struct gateway_http *gh, struct graph *g,
    const char *notify_path, const char *lifecycle_path);

/* The port served, or 0 when there is no listener. */
int gateway_http_port(const struct gateway_http *gh);

/* Closes the listener and frees gh; accepts NULL. */
void gateway_http_free(struct gateway_http *gh);

#endif
