/*
 * http_int.h: what the listener's files share.
 */
#ifndef PRESGW_HTTP_INT_H
#define PRESGW_HTTP_INT_H

#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core.h"
#include "http/http.h"

/* Room for "[v6 address]:port" and a NUL. */
#define HTTP_PEER_MAX  64

/* What the listener refuses or ends, for its log (http_conn.c). */
enum http_refused {
    HTTP_REFUSED_CONNS,         /* http.max_conns open */
    HTTP_REFUSED_PER_IP,        /* http.max_conns_per_ip from one address */
    HTTP_REFUSED_TIMEOUT,       /* past http.request_timeout */
    HTTP_REFUSED_KINDS
};

struct http_conn;

struct http_server {
    su_root_t          *hs_root;
    struct MHD_Daemon  *hs_daemon;
    su_timer_t         *hs_timer;     /* MHD's next timeout */
    int                 hs_index;     /* su_root registration, 0: none */
    struct htab         hs_routes;    /* struct http_route by path */
    char               *hs_cert;      /* PEM text */
    char               *hs_key;       /* PEM text; wiped when freed */
    size_t              hs_max_body;
    unsigned            hs_max_conns;
    unsigned            hs_max_per_ip;  /* 0: no limit */
    unsigned            hs_request_timeout;     /* s */
    unsigned            hs_conns;     /* open connections */
    struct htab         hs_hosts;     /* struct http_host by address */
    TAILQ_HEAD(, http_conn) hs_deadlines;   /* soonest first */
    su_timer_t         *hs_deadline;  /* the first of hs_deadlines */
    su_timer_t         *hs_summary;   /* ends a window of refusals */
    unsigned            hs_refused[HTTP_REFUSED_KINDS]; /* this window */
    int                 hs_port;
    char                hs_listen[HTTP_PEER_MAX];
};

struct http_route {
    char               *hr_path;
    http_handler       *hr_fn;
    void               *hr_arg;
};

/* http_conn.c: MHD's accept policy: the connection limits. */
enum MHD_Result http_conn_accept(void *cls, const struct sockaddr *sa,
    socklen_t len);

/* http_conn.c: MHD_OPTION_NOTIFY_CONNECTION: counts and times
 * connections. */
void http_conn_notify(void *cls, struct MHD_Connection *conn, void **sctx,
    enum MHD_ConnectionNotificationCode what);

/* http_conn.c: a request of conn was answered; its next one has
 * hs_request_timeout from now. */
void http_conn_answered(struct http_server *hs, struct MHD_Connection *conn);

/* http_conn.c: logs a refusal, or counts it for the summary. */
void http_conn_refused(struct http_server *hs, enum http_refused why,
    const char *peer);

/* http_conn.c: frees what is left once MHD has stopped. */
void http_conn_cleanup(struct http_server *hs);

/* MHD's access handler (http_req.c): collects, refuses or dispatches. */
enum MHD_Result http_req_access(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **ctx);

/* MHD_OPTION_NOTIFY_COMPLETED: frees what http_req_access kept. */
void http_req_completed(void *cls, struct MHD_Connection *conn,
    void **ctx, enum MHD_RequestTerminationCode why);

/* Writes sa as "1.2.3.4:5" or "[::1]:5" into out; "?" if it cannot. */
void http_peer_format(const struct sockaddr *sa, char *out, size_t outlen);

/* Writes the address of sa alone, "1.2.3.4" or "::1"; "?" if it cannot. */
void http_host_format(const struct sockaddr *sa, char *out, size_t outlen);

/*
 * Copies s into out for a log line: at most outlen-1 bytes, with every
 * byte that is not printable ASCII, or is a space, a quote or a
 * backslash, written as '_'.  A request path is the client's text; it
 * must not break a log line or forge another.
 */
void http_log_safe(const char *s, char *out, size_t outlen);

#endif
