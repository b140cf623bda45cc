/*
 * http.c: the HTTP listener on the su_root loop.
 *
 * libmicrohttpd runs in external-epoll mode: it keeps its sockets in an
 * epoll set of its own, whose descriptor is readable whenever one of
 * them is ready.  The loop watches that one descriptor and calls
 * MHD_run(); MHD's timeouts (idle connections) live in an su_timer that
 * is set again from MHD_get_timeout() after every run.  Nothing blocks.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_server;
#define SU_WAKEUP_ARG_T struct http_server
#define SU_TIMER_ARG_T  struct http_server
#include "http/http_int.h"

/* Larger PEM files are not certificates or keys we want. */
#define HTTP_PEM_MAX    (256 * 1024)
/* su_timer takes a long; MHD may want to wait for ever. */
#define HTTP_WAIT_MAX   86400000UL

static void http_rearm(struct http_server *hs);

static void
http_run(struct http_server *hs)
{
    if (MHD_run(hs->hs_daemon) != MHD_YES)
        log_warn("http run-failed listen=%s", hs->hs_listen);
    http_rearm(hs);
}

static void
http_timeout(su_root_magic_t *magic, su_timer_t *t, struct http_server *hs)
{
    (void)magic;
    (void)t;
    http_run(hs);
}

/* Sets the timer for MHD's next timeout, or stops it when it has none. */
static void
http_rearm(struct http_server *hs)
{
    MHD_UNSIGNED_LONG_LONG ms;

    su_timer_reset(hs->hs_timer);
    if (MHD_get_timeout(hs->hs_daemon, &ms) != MHD_YES)
        return;
    if (ms > HTTP_WAIT_MAX)
        ms = HTTP_WAIT_MAX;
    if (su_timer_set_interval(hs->hs_timer, http_timeout, hs,
        (su_duration_t)ms) < 0)
        log_warn("http timer-failed listen=%s", hs->hs_listen);
}

static int
http_ready(su_root_magic_t *magic, su_wait_t *w, struct http_server *hs)
{
    (void)magic;
    (void)w;
    http_run(hs);
    return 0;
}

/* MHD's own messages: mostly clients that fail TLS or break HTTP. */
__attribute__((format(printf, 2, 0)))
static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *hs = cls;
    char msg[256], *p;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    for (p = msg; *p != '\0'; p++)
        if ((unsigned char)*p < ' ' || *p == '"' || *p == '\\')
            *p = '_';
    log_info("http mhd listen=%s msg=\"%s\"", hs->hs_listen, msg);
}

/* A whole PEM file into *out; -1 with a message naming it in *err. */
static int
http_read_pem(const char *key, const char *path, char **out, char **err)
{
    struct buf b;
    char chunk[4096];
    size_t n;
    FILE *fp;

    fp = fopen(path, "r");
    if (fp == NULL) {
        *err = xasprintf("%s: cannot read http.%s: %s", path, key,
            strerror(errno));
        return -1;
    }
    buf_init(&b, HTTP_PEM_MAX);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    explicit_bzero(chunk, sizeof(chunk));
    if (b.b_overflow || b.b_len == 0) {
        *err = xasprintf("%s: http.%s is %s", path, key,
            b.b_len == 0 ? "empty" : "too large for a PEM file");
        explicit_bzero(b.b_data, b.b_len);
        buf_free(&b);
        return -1;
    }
    *out = buf_steal(&b);
    return 0;
}

static int
http_load_tls(struct http_server *hs, const struct http_conf *c, char **err)
{
    if (c->hc_cert_file == NULL || c->hc_cert_file[0] == '\0')
        return 0;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        *err = xstrdup("this libmicrohttpd was built without TLS");
        return -1;
    }
    if (http_read_pem("cert_file", c->hc_cert_file, &hs->hs_cert, err) ||
        http_read_pem("key_file", c->hc_key_file, &hs->hs_key, err))
        return -1;
    return 0;
}

/* Starts MHD on sa; the options are one table so TLS is just two rows. */
static int
http_start(struct http_server *hs, const struct http_conf *c,
    struct sockaddr_storage *sa)
{
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem o[] = {
        /* First, or MHD prints its messages about options itself. */
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_mhd_log, hs },
        { MHD_OPTION_SOCK_ADDR, 0, sa },
        /* One above ours, so that http_conn_accept is the limit in
         * force. */
        { MHD_OPTION_CONNECTION_LIMIT, (intptr_t)hs->hs_max_conns + 1,
          NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)c->hc_timeout, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_req_completed, hs },
        { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_conn_notify, hs },
        /* A reload opens the new listener before it closes the old. */
        { MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL },
        { MHD_OPTION_HTTPS_MEM_CERT, 0, hs->hs_cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, hs->hs_key },
        { MHD_OPTION_END, 0, NULL },
    };

    /* Plain HTTP: the table ends where the two TLS rows begin. */
    if (hs->hs_cert == NULL)
        o[sizeof(o) / sizeof(o[0]) - 3].option = MHD_OPTION_END;
    else
        flags |= MHD_USE_TLS;
    if (sa->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    hs->hs_daemon = MHD_start_daemon(flags, 0, http_conn_accept, hs,
        http_req_access, hs, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
    return hs->hs_daemon != NULL ? 0 : -1;
}

/* Puts MHD's epoll descriptor and timer on the loop; notes the port. */
static int
http_attach(struct http_server *hs)
{
    const union MHD_DaemonInfo *info;
    su_wait_t wait[1];

    info = MHD_get_daemon_info(hs->hs_daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL || su_wait_create(wait, info->epoll_fd,
        SU_WAIT_IN) < 0)
        return -1;
    hs->hs_index = su_root_register(hs->hs_root, wait, http_ready, hs, 0);
    if (hs->hs_index <= 0) {
        hs->hs_index = 0;
        su_wait_destroy(wait);
        return -1;
    }
    info = MHD_get_daemon_info(hs->hs_daemon, MHD_DAEMON_INFO_BIND_PORT);
    hs->hs_port = info != NULL ? info->port : 0;
    http_rearm(hs);
    return 0;
}

struct http_server *
http_create(su_root_t *root, const struct http_conf *c, char **err)
{
    struct http_server *hs = xcalloc(1, sizeof(*hs));
    struct sockaddr_storage sa;
    socklen_t len;

    *err = NULL;
    hs->hs_root = root;
    hs->hs_max_body = (size_t)c->hc_max_body;
    hs->hs_max_conns = (unsigned)c->hc_max_conns;
    hs->hs_max_per_ip = (unsigned)c->hc_max_conns_per_ip;
    hs->hs_request_timeout = (unsigned)c->hc_request_timeout;
    htab_init(&hs->hs_routes);
    htab_init(&hs->hs_hosts);
    TAILQ_INIT(&hs->hs_deadlines);
    xstrlcpy(hs->hs_listen, c->hc_listen, sizeof(hs->hs_listen));
    if (http_listen_parse(c->hc_listen, &sa, &len) != 0) {
        *err = xasprintf("http.listen '%s' is not an address:port",
            c->hc_listen);
        goto fail;
    }
    if (http_load_tls(hs, c, err) != 0)
        goto fail;
    hs->hs_timer = su_timer_create(su_root_task(root), 0);
    hs->hs_deadline = su_timer_create(su_root_task(root), 0);
    hs->hs_summary = su_timer_create(su_root_task(root), 0);
    if (hs->hs_timer == NULL || hs->hs_deadline == NULL ||
        hs->hs_summary == NULL || http_start(hs, c, &sa) != 0) {
        *err = xasprintf("cannot listen on %s%s", c->hc_listen,
            hs->hs_cert != NULL ? " (or the certificate and key do not"
            " make a pair)" : "");
        goto fail;
    }
    if (http_attach(hs) != 0) {
        *err = xasprintf("cannot watch the listener on %s", c->hc_listen);
        goto fail;
    }
    log_info("http listening listen=%s port=%d tls=%s max_body=%zu"
        " max_conns=%u max_conns_per_ip=%u request_timeout=%u",
        hs->hs_listen, hs->hs_port, hs->hs_cert != NULL ? "yes" : "no",
        hs->hs_max_body, hs->hs_max_conns, hs->hs_max_per_ip,
        hs->hs_request_timeout);
    return hs;

fail:
    http_destroy(hs);
    return NULL;
}

static void
http_route_free(void *arg, void *val)
{
    struct http_route *r = val;

    (void)arg;
    free(r->hr_path);
    free(r);
}

void
http_destroy(struct http_server *hs)
{
    if (hs == NULL)
        return;
    if (hs->hs_index > 0)
        su_root_deregister(hs->hs_root, hs->hs_index);
    /* Stopping ends every connection; their contexts are freed by
     * http_req_completed, which needs nothing of hs but the routes. */
    if (hs->hs_daemon != NULL) {
        MHD_stop_daemon(hs->hs_daemon);
        log_info("http stopped listen=%s port=%d", hs->hs_listen,
            hs->hs_port);
    }
    su_timer_destroy(hs->hs_timer);
    su_timer_destroy(hs->hs_deadline);
    su_timer_destroy(hs->hs_summary);
    http_conn_cleanup(hs);
    htab_each(&hs->hs_routes, http_route_free, NULL);
    htab_free(&hs->hs_routes);
    free(hs->hs_cert);
    if (hs->hs_key != NULL) {
        explicit_bzero(hs->hs_key, strlen(hs->hs_key));
        free(hs->hs_key);
    }
    free(hs);
}

void
http_route(struct http_server *hs, const char *path, http_handler *fn,
    void *arg)
{
    struct http_route *r = htab_get(&hs->hs_routes, path);

    if (r == NULL) {
        r = xcalloc(1, sizeof(*r));
        r->hr_path = xstrdup(path);
        htab_put(&hs->hs_routes, r->hr_path, r);
    }
    r->hr_fn = fn;
    r->hr_arg = arg;
}

int
http_port(const struct http_server *hs)
{
    return hs->hs_port;
}
