/*
 * http.h: the HTTP listener on the event loop (libmicrohttpd in
 * external-epoll mode under su_root).  It serves Graph change
 * notifications and /healthz, over HTTPS directly (certificate and key
 * from files) or plain HTTP behind a TLS proxy.
 *
 * A handler answers at once; work that takes longer is for the handler
 * to put off (su_timer at 0) after copying what it needs.  Bodies larger
 * than hc_max_body get 413 before any handler runs.
 */
#ifndef PRESGW_HTTP_H
#define PRESGW_HTTP_H

#define SU_ROOT_MAGIC_T void
#include <sofia-sip/su_wait.h>

#include <stddef.h>
#include <sys/socket.h>

struct http_conf {
    const char *hc_listen;     /* "127.0.0.1:8443", "[::1]:8443" */
    const char *hc_cert_file;  /* PEM; NULL or "" for plain HTTP */
    const char *hc_key_file;   /* PEM */
    long        hc_max_body;   /* bytes, per request */
    long        hc_max_conns;  /* connections at once */
    long        hc_timeout;    /* idle connection, s */
    long        hc_max_conns_per_ip;   /* from one address; 0: any */
    long        hc_request_timeout;    /* one request, whole, s */
};

/* One request, valid during the handler call only. */
struct http_req {
    const char *hq_method;     /* "GET", "POST" */
    const char *hq_path;       /* without the query string */
    const char *hq_body;       /* NUL-terminated; "" when none */
    size_t      hq_body_len;
    const char *hq_peer;       /* "127.0.0.1:40000", for logs */
    void       *hq_conn;       /* the listener's own */
};

/* What a handler answers; the listener copies hp_body. */
struct http_reply {
    int         hp_status;
    const char *hp_type;       /* Content-Type; NULL: none */
    const char *hp_body;       /* NULL: empty */
    size_t      hp_len;        /* 0 with a body: strlen(hp_body) */
};

typedef void http_handler(void *arg, const struct http_req *rq,
    struct http_reply *rp);

struct http_server;

/* Starts listening; NULL with a message in *err (caller frees). */
struct http_server *http_create(su_root_t *root, const struct http_conf *c,
    char **err);

/* Closes every connection and frees hs; accepts NULL. */
void http_destroy(struct http_server *hs);

/*
 * Serves path (exact match, no query) with fn; a later call for the same
 * path replaces the handler.  Unknown paths get 404, a method a handler
 * refuses is its own business (405).
 */
void http_route(struct http_server *hs, const char *path, http_handler *fn,
    void *arg);

/* A query parameter, URL-decoded, or NULL. */
const char *http_req_query(const struct http_req *rq, const char *name);

/* A request header (case-insensitive name), or NULL. */
const char *http_req_header(const struct http_req *rq, const char *name);

/* The port actually bound (for a listen address with port 0). */
int http_port(const struct http_server *hs);

/*
 * Parses a listen address, "127.0.0.1:8080" or "[::1]:8080" (numeric
 * only; port 0 asks for any free port) into *sa and *len.  0 on success,
 * -1 if s is not such an address.  Any context; the configuration checks
 * http.listen with it.
 */
int http_listen_parse(const char *s, struct sockaddr_storage *sa,
    socklen_t *len);

#endif
