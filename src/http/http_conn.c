/*
 * http_conn.c: the listener's connections: how many at once, how many
 * from one address, and how long one may take over a request.
 *
 * http.timeout is MHD's idle timeout: a client that sends a byte now and
 * then is never idle, so a few dozen slow clients could hold every place
 * (http.max_conns) for ever.  Two limits stop that.  An address may hold
 * at most http.max_conns_per_ip connections.  And a connection has
 * http.request_timeout seconds for each request, from when it opens or
 * its last answer went out: past that, its socket is shut down and MHD,
 * reading the end of it, closes the connection.  The connections wait in
 * a list in the order of their deadlines (all are the same length), and
 * one timer is set for the first.
 *
 * Refusals are logged the first of each kind in a window of
 * HTTP_SUMMARY_MS, the others counted and summed up in one line when the
 * window ends, so a flood of connections cannot flood the log.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct http_server;
#define SU_TIMER_ARG_T  struct http_server
#include "http/http_int.h"

/* The window in which refusals of one kind are counted, not logged. */
#define HTTP_SUMMARY_MS     10000

struct http_conn {
    char                    hn_host[HTTP_PEER_MAX];  /* address only */
    char                    hn_peer[HTTP_PEER_MAX];  /* with the port */
    int                     hn_fd;
    int64_t                 hn_deadline;    /* ms */
    int                     hn_listed;      /* in hs_deadlines */
    TAILQ_ENTRY(http_conn)  hn_link;
};

/* Connections from one address. */
struct http_host {
    char                    hh_host[HTTP_PEER_MAX];
    unsigned                hh_n;
};

static const char *const http_refusal_names[HTTP_REFUSED_KINDS] = {
    [HTTP_REFUSED_CONNS] = "connection-limit",
    [HTTP_REFUSED_PER_IP] = "per-address-limit",
    [HTTP_REFUSED_TIMEOUT] = "request-timeout",
};

static void http_conn_arm(struct http_server *hs);

static void
http_summary(su_root_magic_t *magic, su_timer_t *t, struct http_server *hs)
{
    char line[256];
    size_t n = 0, i;
    unsigned more = 0;

    (void)magic;
    (void)t;
    line[0] = '\0';
    for (i = 0; i < HTTP_REFUSED_KINDS; i++) {
        if (hs->hs_refused[i] > 1)
            more += hs->hs_refused[i] - 1;
        if (hs->hs_refused[i] > 0 && n < sizeof(line))
            n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%u",
                http_refusal_names[i], hs->hs_refused[i]);
        hs->hs_refused[i] = 0;
    }
    if (more > 0)
        log_info("http refused-summary listen=%s seconds=%d%s",
            hs->hs_listen, HTTP_SUMMARY_MS / 1000, line);
}

void
http_conn_refused(struct http_server *hs, enum http_refused why,
    const char *peer)
{
    unsigned any = 0, i;

    for (i = 0; i < HTTP_REFUSED_KINDS; i++)
        any += hs->hs_refused[i];
    if (any == 0 && su_timer_set_interval(hs->hs_summary, http_summary, hs,
        HTTP_SUMMARY_MS) < 0)
        log_warn("http timer-failed listen=%s", hs->hs_listen);
    if (hs->hs_refused[why]++ > 0)
        return;
    switch (why) {
    case HTTP_REFUSED_CONNS:
        log_info("http refused reason=connection-limit max_conns=%u "
            "peer=%s", hs->hs_max_conns, peer);
        break;
    case HTTP_REFUSED_PER_IP:
        log_info("http refused reason=per-address-limit "
            "max_conns_per_ip=%u peer=%s", hs->hs_max_per_ip, peer);
        break;
    default:
        log_info("http closed reason=request-timeout request_timeout=%u "
            "peer=%s", hs->hs_request_timeout, peer);
        break;
    }
}

/*
 * MHD's accept policy.  MHD at its own limit stops accepting and leaves
 * new connections waiting in the kernel's queue, unanswered; this
 * refuses them at once instead.
 */
enum MHD_Result
http_conn_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    struct http_server *hs = cls;
    const struct http_host *h;
    char peer[HTTP_PEER_MAX], host[HTTP_PEER_MAX];

    (void)len;
    http_peer_format(sa, peer, sizeof(peer));
    if (hs->hs_conns >= hs->hs_max_conns) {
        http_conn_refused(hs, HTTP_REFUSED_CONNS, peer);
        return MHD_NO;
    }
    http_host_format(sa, host, sizeof(host));
    h = htab_get(&hs->hs_hosts, host);
    if (hs->hs_max_per_ip > 0 && h != NULL &&
        h->hh_n >= hs->hs_max_per_ip) {
        http_conn_refused(hs, HTTP_REFUSED_PER_IP, peer);
        return MHD_NO;
    }
    return MHD_YES;
}

static void
http_host_add(struct http_server *hs, const char *host, int delta)
{
    struct http_host *h = htab_get(&hs->hs_hosts, host);

    if (h == NULL) {
        if (delta < 0)
            return;
        h = xcalloc(1, sizeof(*h));
        xstrlcpy(h->hh_host, host, sizeof(h->hh_host));
        htab_put(&hs->hs_hosts, h->hh_host, h);
    }
    if (delta > 0) {
        h->hh_n++;
    } else if (--h->hh_n == 0) {
        htab_del(&hs->hs_hosts, h->hh_host);
        free(h);
    }
}

/* Puts hn at the end of the list with a deadline from now. */
static void
http_conn_list(struct http_server *hs, struct http_conn *hn)
{
    if (hn->hn_listed)
        TAILQ_REMOVE(&hs->hs_deadlines, hn, hn_link);
    hn->hn_deadline = clock_now_ms() +
        (int64_t)hs->hs_request_timeout * 1000;
    TAILQ_INSERT_TAIL(&hs->hs_deadlines, hn, hn_link);
    hn->hn_listed = 1;
    if (TAILQ_FIRST(&hs->hs_deadlines) == hn)
        http_conn_arm(hs);
}

static void
http_conn_unlist(struct http_server *hs, struct http_conn *hn)
{
    if (!hn->hn_listed)
        return;
    TAILQ_REMOVE(&hs->hs_deadlines, hn, hn_link);
    hn->hn_listed = 0;
}

static struct http_conn *
http_conn_new(struct MHD_Connection *conn)
{
    struct http_conn *hn = xcalloc(1, sizeof(*hn));
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa = NULL;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL)
        sa = ci->client_addr;
    http_peer_format(sa, hn->hn_peer, sizeof(hn->hn_peer));
    http_host_format(sa, hn->hn_host, sizeof(hn->hn_host));
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    hn->hn_fd = ci != NULL ? ci->connect_fd : -1;
    return hn;
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection opens or closes. */
void
http_conn_notify(void *cls, struct MHD_Connection *conn, void **sctx,
    enum MHD_ConnectionNotificationCode what)
{
    struct http_server *hs = cls;
    struct http_conn *hn = *sctx;

    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        hn = http_conn_new(conn);
        *sctx = hn;
        hs->hs_conns++;
        http_host_add(hs, hn->hn_host, 1);
        http_conn_list(hs, hn);
        return;
    }
    if (hs->hs_conns > 0)
        hs->hs_conns--;
    if (hn == NULL)
        return;
    http_host_add(hs, hn->hn_host, -1);
    http_conn_unlist(hs, hn);
    free(hn);
    *sctx = NULL;
}

void
http_conn_answered(struct http_server *hs, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci != NULL && ci->socket_context != NULL)
        http_conn_list(hs, ci->socket_context);
}

/* Ends the connections past their deadline. */
static void
http_conn_expire(su_root_magic_t *magic, su_timer_t *t,
    struct http_server *hs)
{
    struct http_conn *hn;
    int64_t now = clock_now_ms();

    (void)magic;
    (void)t;
    while ((hn = TAILQ_FIRST(&hs->hs_deadlines)) != NULL &&
        hn->hn_deadline <= now) {
        http_conn_unlist(hs, hn);
        http_conn_refused(hs, HTTP_REFUSED_TIMEOUT, hn->hn_peer);
        /* MHD reads the end of the stream and closes the connection. */
        if (hn->hn_fd >= 0)
            shutdown(hn->hn_fd, SHUT_RDWR);
    }
    http_conn_arm(hs);
}

/* The timer for the first deadline, or none. */
static void
http_conn_arm(struct http_server *hs)
{
    const struct http_conn *hn = TAILQ_FIRST(&hs->hs_deadlines);
    int64_t wait;

    su_timer_reset(hs->hs_deadline);
    if (hn == NULL)
        return;
    wait = hn->hn_deadline - clock_now_ms();
    if (su_timer_set_interval(hs->hs_deadline, http_conn_expire, hs,
        (su_duration_t)(wait > 0 ? wait : 0)) < 0)
        log_warn("http timer-failed listen=%s", hs->hs_listen);
}

static void
http_host_free(void *arg, void *val)
{
    (void)arg;
    free(val);
}

/* After MHD stopped: what connections left behind. */
void
http_conn_cleanup(struct http_server *hs)
{
    htab_each(&hs->hs_hosts, http_host_free, NULL);
    htab_free(&hs->hs_hosts);
}
