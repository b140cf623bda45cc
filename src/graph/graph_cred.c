/*
 * graph_cred.c: the credential of a token request (graph_cred.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"
#include "graph/graph_cred.h"
#include "crypto/crypto.h"

/* RFC 7523 section 2.2. */
#define GRAPH_CRED_ASSERTION_TYPE \
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static int
graph_cred_assertion(const struct graph_conf *c, const char *token_url,
    time_t now, struct buf *body, char **err)
{
    struct crypto_key *k;
    char *jwt;

    k = crypto_key_load(c->gc_client_cert_file, c->gc_client_key_file, err);
    if (k == NULL)
        return -1;
    jwt = crypto_client_assertion(k, c->gc_client_id, token_url, now, err);
    crypto_key_free(k);
    if (jwt == NULL)
        return -1;
    log_add_secret(jwt);
    buf_puts(body, "&client_assertion_type=");
    graph_http_escape(body, GRAPH_CRED_ASSERTION_TYPE);
    buf_puts(body, "&client_assertion=");
    graph_http_escape(body, jwt);
    explicit_bzero(jwt, strlen(jwt));
    free(jwt);
    return 0;
}

int
graph_cred_append(const struct graph_conf *c, const char *token_url,
    time_t now, struct buf *body, char **err)
{
    if (c->gc_client_cert_file != NULL && c->gc_client_cert_file[0] != '\0')
        return graph_cred_assertion(c, token_url, now, body, err);
    buf_puts(body, "&client_secret=");
    graph_http_escape(body, c->gc_client_secret);
    return 0;
}
