/*
 * http_req.c: one request on the HTTP listener.  MHD calls the access
 * handler once with the headers, then once per piece of body, then once
 * more with nothing: the body is collected up to hs_max_body and the
 * answer given only on that last call.  An unknown path, or a body too
 * large by its Content-Length, is refused on the first call, so its body
 * is never read; a body that grows too large without a Content-Length
 * (chunked) is dropped as it comes and refused at the end.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

/* Room in a log line for the client's method and path. */
#define HTTP_LOG_METHOD  16
#define HTTP_LOG_PATH    128

struct http_exchange {
    struct buf          hx_body;
    char                hx_peer[HTTP_PEER_MAX];
};

/* The answers the listener gives by itself, logged at info. */
struct http_refusal {
    int          rf_status;
    const char  *rf_reason;     /* for the log */
    const char  *rf_body;
};

static const struct http_refusal http_refusals[] = {
    /* No handler for the path. */
    { 404, "no-route", "not found\n" },
    /* Content-Length or the body itself over http.max_body. */
    { 413, "body-too-large", "request body too large\n" },
};

#define HTTP_NOT_FOUND  (&http_refusals[0])
#define HTTP_TOO_LARGE  (&http_refusals[1])

static void
http_log(const struct http_exchange *hx, const char *method,
    const char *url, int status, const struct http_refusal *rf)
{
    char m[HTTP_LOG_METHOD], p[HTTP_LOG_PATH];

    http_log_safe(method, m, sizeof(m));
    http_log_safe(url, p, sizeof(p));
    if (rf != NULL)
        log_info("http request method=%s path=%s status=%d peer=%s"
            " reason=%s", m, p, status, hx->hx_peer, rf->rf_reason);
    else
        log_debug("http request method=%s path=%s status=%d peer=%s", m,
            p, status, hx->hx_peer);
}

static enum MHD_Result
http_send(struct MHD_Connection *conn, const struct http_reply *rp)
{
    struct MHD_Response *r;
    size_t len = rp->hp_len;
    enum MHD_Result rc;

    if (rp->hp_body != NULL && len == 0)
        len = strlen(rp->hp_body);
    /* MUST_COPY: MHD copies the body and never writes to it. */
    r = MHD_create_response_from_buffer(len,
        (void *)(uintptr_t)(rp->hp_body != NULL ? rp->hp_body : ""),
        MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (rp->hp_type != NULL &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
        rp->hp_type) != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    rc = MHD_queue_response(conn, (unsigned)rp->hp_status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result
http_refuse(struct http_exchange *hx, struct MHD_Connection *conn,
    const char *method, const char *url, const struct http_refusal *rf)
{
    struct http_reply rp = { rf->rf_status, "text/plain", rf->rf_body, 0 };

    http_log(hx, method, url, rf->rf_status, rf);
    return http_send(conn, &rp);
}

/* True if the request announces a body over the maximum. */
static int
http_length_too_big(const struct http_server *hs,
    struct MHD_Connection *conn)
{
    const char *v;
    long n;

    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
        MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (v == NULL || v[0] == '\0' || strspn(v, "0123456789") != strlen(v))
        return 0;       /* none, or MHD's own 400 */
    return parse_long(v, 0, LONG_MAX, &n) != 0 ||
        (unsigned long)n > hs->hs_max_body;
}

static struct http_exchange *
http_exchange_new(const struct http_server *hs, struct MHD_Connection *conn)
{
    struct http_exchange *hx = xcalloc(1, sizeof(*hx));
    const union MHD_ConnectionInfo *ci;

    /* The buffer's maximum counts its terminator. */
    buf_init(&hx->hx_body, hs->hs_max_body + 1);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    http_peer_format(ci != NULL ? ci->client_addr : NULL, hx->hx_peer,
        sizeof(hx->hx_peer));
    return hx;
}

/* The whole request is in: the handler answers it. */
static enum MHD_Result
http_dispatch(struct http_server *hs, struct http_exchange *hx,
    struct MHD_Connection *conn, const char *method, const char *url)
{
    const struct http_route *r = htab_get(&hs->hs_routes, url);
    struct http_reply rp = { 500, NULL, NULL, 0 };
    struct http_req rq;

    if (hx->hx_body.b_overflow)
        return http_refuse(hx, conn, method, url, HTTP_TOO_LARGE);
    if (r == NULL)
        return http_refuse(hx, conn, method, url, HTTP_NOT_FOUND);
    rq.hq_method = method;
    rq.hq_path = url;
    rq.hq_body = hx->hx_body.b_data != NULL ? hx->hx_body.b_data : "";
    rq.hq_body_len = hx->hx_body.b_len;
    rq.hq_peer = hx->hx_peer;
    rq.hq_conn = conn;
    r->hr_fn(r->hr_arg, &rq, &rp);
    http_log(hx, method, url, rp.hp_status, NULL);
    return http_send(conn, &rp);
}

enum MHD_Result
http_req_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
    struct http_server *hs = cls;
    struct http_exchange *hx = *ctx;

    (void)version;
    if (hx == NULL) {
        hx = http_exchange_new(hs, conn);
        *ctx = hx;
        if (htab_get(&hs->hs_routes, url) == NULL)
            return http_refuse(hx, conn, method, url, HTTP_NOT_FOUND);
        if (http_length_too_big(hs, conn))
            return http_refuse(hx, conn, method, url, HTTP_TOO_LARGE);
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (!hx->hx_body.b_overflow)
            buf_append(&hx->hx_body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return http_dispatch(hs, hx, conn, method, url);
}

void
http_req_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode why)
{
    struct http_exchange *hx = *ctx;

    (void)why;
    http_conn_answered(cls, conn);
    if (hx == NULL)
        return;
    buf_free(&hx->hx_body);
    free(hx);
    *ctx = NULL;
}

const char *
http_req_query(const struct http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->hq_conn, MHD_GET_ARGUMENT_KIND,
        name);
}

const char *
http_req_header(const struct http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->hq_conn, MHD_HEADER_KIND, name);
}
