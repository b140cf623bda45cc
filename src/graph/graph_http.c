/*
 * graph_http.c: HTTP requests on the su_root event loop, through libcurl's
 * multi socket interface.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to call it back (CURLMOPT_TIMERFUNCTION); we register each socket
 * with the su_root and keep one su_timer.  When a socket is ready or the
 * timer fires, curl_multi_socket_action() moves the transfers on, and the
 * finished ones are handed to their callbacks.  Nothing here blocks.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <cJSON.h>
#include <curl/curl.h>

struct graph_http;
struct graph_sock;
#define SU_WAKEUP_ARG_T struct graph_sock
#define SU_TIMER_ARG_T  struct graph_http
#include "graph/graph_int.h"

/* A socket libcurl asked us to watch. */
struct graph_sock {
    struct graph_http          *gs_http;
    curl_socket_t               gs_fd;
    int                         gs_index;   /* su_root registration */
    LIST_ENTRY(graph_sock)      gs_link;
};

struct graph_req {
    struct graph_http          *gr_http;
    CURL                       *gr_easy;
    struct curl_slist          *gr_headers;
    char                       *gr_body;    /* may hold a secret */
    struct buf                  gr_resp;    /* so may the answer */
    char                        gr_retry_after[64];
    time_t                      gr_date;    /* the Date header; 0 */
    char                        gr_error[CURL_ERROR_SIZE];
    int64_t                     gr_start;
    graph_http_cb              *gr_cb;
    void                       *gr_arg;
    LIST_ENTRY(graph_req)       gr_link;
};

struct graph_http {
    su_root_t                  *h_root;
    CURLM                      *h_multi;
    su_timer_t                 *h_timer;
    LIST_HEAD(, graph_sock)     h_socks;
    LIST_HEAD(, graph_req)      h_reqs;
};

static void graph_http_drain(struct graph_http *h);

/* The su_wait events for a CURL_POLL_* value. */
static int
graph_http_events(int what)
{
    switch (what) {
    case CURL_POLL_IN:
        return SU_WAIT_IN;
    case CURL_POLL_OUT:
        return SU_WAIT_OUT;
    default:
        return SU_WAIT_IN | SU_WAIT_OUT;
    }
}

static void
graph_http_sock_free(struct graph_sock *s)
{
    su_root_deregister(s->gs_http->h_root, s->gs_index);
    LIST_REMOVE(s, gs_link);
    free(s);
}

/* Lets libcurl move its transfers on, then hands over those that ended. */
static void
graph_http_act(struct graph_http *h, curl_socket_t fd, int flags)
{
    CURLMcode rc;
    int running;

    rc = curl_multi_socket_action(h->h_multi, fd, flags, &running);
    if (rc != CURLM_OK)
        log_warn("graph http-failed reason=\"%s\"", curl_multi_strerror(rc));
    graph_http_drain(h);
}

/* A watched socket is ready.  s may be freed by the socket callback
 * during curl_multi_socket_action(), so it is not touched after that. */
static int
graph_http_ready(su_root_magic_t *magic, su_wait_t *w, struct graph_sock *s)
{
    struct graph_http *h = s->gs_http;
    curl_socket_t fd = s->gs_fd;
    int revents, flags = 0;

    (void)magic;
    revents = su_wait_events(w, fd);
    if (revents & SU_WAIT_IN)
        flags |= CURL_CSELECT_IN;
    if (revents & SU_WAIT_OUT)
        flags |= CURL_CSELECT_OUT;
    if (revents & (SU_WAIT_ERR | SU_WAIT_HUP))
        flags |= CURL_CSELECT_ERR;
    graph_http_act(h, fd, flags);
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching fd. */
static int
graph_http_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
    struct graph_http *h = userp;
    struct graph_sock *s = sockp;
    su_wait_t wait[1];

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL)
            graph_http_sock_free(s);
        return 0;
    }
    if (s != NULL) {
        if (su_root_eventmask(h->h_root, s->gs_index, fd,
            graph_http_events(what)) < 0)
            log_warn("graph http-register-failed fd=%d", (int)fd);
        return 0;
    }
    if (su_wait_create(wait, fd, graph_http_events(what)) < 0)
        return -1;
    s = xcalloc(1, sizeof(*s));
    s->gs_http = h;
    s->gs_fd = fd;
    s->gs_index = su_root_register(h->h_root, wait, graph_http_ready, s, 0);
    if (s->gs_index <= 0) {
        log_warn("graph http-register-failed fd=%d", (int)fd);
        su_wait_destroy(wait);
        free(s);
        return -1;
    }
    LIST_INSERT_HEAD(&h->h_socks, s, gs_link);
    if (curl_multi_assign(h->h_multi, fd, s) != CURLM_OK) {
        graph_http_sock_free(s);
        return -1;
    }
    return 0;
}

static void
graph_http_timeout(su_root_magic_t *magic, su_timer_t *t,
    struct graph_http *h)
{
    (void)magic;
    (void)t;
    graph_http_act(h, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: call curl back in timeout_ms; -1: don't. */
static int
graph_http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct graph_http *h = userp;

    (void)multi;
    su_timer_reset(h->h_timer);
    if (timeout_ms < 0)
        return 0;
    if (timeout_ms > 86400000L)
        timeout_ms = 86400000L;
    return su_timer_set_interval(h->h_timer, graph_http_timeout, h,
        (su_duration_t)timeout_ms) < 0 ? -1 : 0;
}

struct graph_http *
graph_http_create(su_root_t *root)
{
    struct graph_http *h = xcalloc(1, sizeof(*h));
    CURLMcode rc = CURLM_OK;

    h->h_root = root;
    LIST_INIT(&h->h_socks);
    LIST_INIT(&h->h_reqs);
    h->h_timer = su_timer_create(su_root_task(root), 0);
    h->h_multi = curl_multi_init();
    if (h->h_timer == NULL || h->h_multi == NULL)
        goto fail;
    rc |= curl_multi_setopt(h->h_multi, CURLMOPT_SOCKETFUNCTION,
        graph_http_sock_cb);
    rc |= curl_multi_setopt(h->h_multi, CURLMOPT_SOCKETDATA, h);
    rc |= curl_multi_setopt(h->h_multi, CURLMOPT_TIMERFUNCTION,
        graph_http_timer_cb);
    rc |= curl_multi_setopt(h->h_multi, CURLMOPT_TIMERDATA, h);
    if (rc != CURLM_OK)
        goto fail;
    return h;

fail:
    log_error("graph http-init-failed");
    graph_http_destroy(h);
    return NULL;
}

static void
graph_http_req_free(struct graph_req *r)
{
    if (r->gr_easy != NULL) {
        curl_multi_remove_handle(r->gr_http->h_multi, r->gr_easy);
        curl_easy_cleanup(r->gr_easy);
    }
    curl_slist_free_all(r->gr_headers);
    if (r->gr_body != NULL) {
        explicit_bzero(r->gr_body, strlen(r->gr_body));
        free(r->gr_body);
    }
    if (r->gr_resp.b_data != NULL)
        explicit_bzero(r->gr_resp.b_data, r->gr_resp.b_len);
    buf_free(&r->gr_resp);
    LIST_REMOVE(r, gr_link);
    free(r);
}

void
graph_http_destroy(struct graph_http *h)
{
    if (h == NULL)
        return;
    while (!LIST_EMPTY(&h->h_reqs))
        graph_http_req_free(LIST_FIRST(&h->h_reqs));
    if (h->h_multi != NULL)
        curl_multi_cleanup(h->h_multi);

    /* Sockets libcurl did not say goodbye to. */
    while (!LIST_EMPTY(&h->h_socks))
        graph_http_sock_free(LIST_FIRST(&h->h_socks));
    su_timer_destroy(h->h_timer);
    free(h);
}

void
graph_http_cancel(struct graph_req *r)
{
    if (r != NULL)
        graph_http_req_free(r);
}

static size_t
graph_http_write_cb(char *data, size_t size, size_t n, void *arg)
{
    struct graph_req *r = arg;

    buf_append(&r->gr_resp, data, size * n);
    return r->gr_resp.b_overflow ? 0 : size * n;
}

/* Keeps the Date header: how far Graph's clock is from ours. */
static void
graph_http_date(struct graph_req *r, const char *data, size_t len)
{
    char v[64];
    time_t t;

    if (len <= 5 || strncasecmp(data, "date:", 5) != 0 ||
        len - 5 >= sizeof(v))
        return;
    memcpy(v, data + 5, len - 5);
    v[len - 5] = '\0';
    t = curl_getdate(v, NULL);
    r->gr_date = t > 0 ? t : 0;
}

/* Keeps the Retry-After header of the last response. */
static size_t
graph_http_header_cb(char *data, size_t size, size_t n, void *arg)
{
    static const char name[] = "retry-after:";
    struct graph_req *r = arg;
    size_t len = size * n, skip = sizeof(name) - 1;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
        r->gr_retry_after[0] = '\0';
    graph_http_date(r, data, len);
    if (len <= skip || strncasecmp(data, name, skip) != 0)
        return len;
    while (skip < len && (data[skip] == ' ' || data[skip] == '\t'))
        skip++;
    while (len > skip && isspace((unsigned char)data[len - 1]))
        len--;
    if (len - skip < sizeof(r->gr_retry_after)) {
        memcpy(r->gr_retry_after, data + skip, len - skip);
        r->gr_retry_after[len - skip] = '\0';
    }
    return size * n;
}

/* Adds "name: value" to the request headers. */
static int
graph_http_header(struct graph_req *r, const char *name, const char *value)
{
    struct curl_slist *l;
    char *line = xasprintf("%s: %s", name, value);

    l = curl_slist_append(r->gr_headers, line);
    explicit_bzero(line, strlen(line));
    free(line);
    if (l == NULL)
        return -1;
    r->gr_headers = l;
    return 0;
}

static int
graph_http_headers(struct graph_req *r, const char *ctype,
    const char *bearer)
{
    struct curl_slist *l;

    if (graph_http_header(r, "Accept", "application/json") < 0)
        return -1;
    if (ctype != NULL && graph_http_header(r, "Content-Type", ctype) < 0)
        return -1;
    if (bearer != NULL) {
        char *auth = xasprintf("Bearer %s", bearer);
        int rc = graph_http_header(r, "Authorization", auth);

        explicit_bzero(auth, strlen(auth));
        free(auth);
        if (rc < 0)
            return -1;
    }

    /* No "Expect: 100-continue" round trip before a large body. */
    l = curl_slist_append(r->gr_headers, "Expect:");
    if (l == NULL)
        return -1;
    r->gr_headers = l;
    return 0;
}

static int
graph_http_setup(struct graph_req *r, const char *method, const char *url,
    long timeout)
{
    CURL *e = r->gr_easy;
    long ms = (timeout > 0 ? timeout : 30) * 1000;
    CURLcode rc = CURLE_OK;

    rc |= curl_easy_setopt(e, CURLOPT_URL, url);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
        ms < 10000 ? ms : 10000L);
    rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/"
        PACKAGE_VERSION);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->gr_headers);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, graph_http_write_cb);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, graph_http_header_cb);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->gr_error);
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    if (strcmp(method, "POST") == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS,
            r->gr_body != NULL ? r->gr_body : "");
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
            (long)(r->gr_body != NULL ? strlen(r->gr_body) : 0));
    } else if (strcmp(method, "PATCH") == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PATCH");
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS,
            r->gr_body != NULL ? r->gr_body : "");
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
            (long)(r->gr_body != NULL ? strlen(r->gr_body) : 0));
    } else if (strcmp(method, "DELETE") == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    return rc == CURLE_OK ? 0 : -1;
}

struct graph_req *
graph_http_request(struct graph_http *h, const char *method,
    const char *url, const char *ctype, const char *body,
    const char *bearer, long timeout, graph_http_cb *cb, void *arg)
{
    struct graph_req *r = xcalloc(1, sizeof(*r));

    r->gr_http = h;
    r->gr_cb = cb;
    r->gr_arg = arg;
    r->gr_start = clock_now_ms();
    buf_init(&r->gr_resp, GRAPH_RESP_MAX);
    LIST_INSERT_HEAD(&h->h_reqs, r, gr_link);
    if (body != NULL)
        r->gr_body = xstrdup(body);

    r->gr_easy = curl_easy_init();
    if (r->gr_easy == NULL)
        goto fail;
    if (graph_http_headers(r, ctype, bearer) < 0 ||
        graph_http_setup(r, method, url, timeout) < 0)
        goto fail;
    if (curl_multi_add_handle(h->h_multi, r->gr_easy) != CURLM_OK) {
        curl_easy_cleanup(r->gr_easy);
        r->gr_easy = NULL;
        goto fail;
    }
    return r;

fail:
    log_warn("graph http-start-failed method=%s", method);
    graph_http_req_free(r);
    return NULL;
}

/* A transfer ended: tell its owner, then free it. */
static void
graph_http_finish(struct graph_http *h, CURL *easy, CURLcode result)
{
    struct graph_req *r;
    struct graph_resp rs;
    char *priv = NULL;
    long status = 0, sent = 0;

    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
        priv == NULL) {
        curl_multi_remove_handle(h->h_multi, easy);
        return;
    }
    r = (struct graph_req *)(void *)priv;
    if (result == CURLE_OK &&
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) !=
        CURLE_OK)
        status = 0;

    memset(&rs, 0, sizeof(rs));
    rs.rs_status = result == CURLE_OK ? status : 0;
    rs.rs_error = "";

    /* Request bytes issued: none when the connection never came up, so
     * Graph cannot have seen it.  Unknown counts as sent. */
    if (curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &sent) != CURLE_OK)
        sent = 1;
    rs.rs_sent = sent > 0;
    if (result != CURLE_OK)
        rs.rs_error = r->gr_error[0] != '\0' ? r->gr_error :
            curl_easy_strerror(result);
    if (r->gr_resp.b_overflow)
        rs.rs_error = "answer too large";
    rs.rs_body = r->gr_resp.b_data != NULL ? r->gr_resp.b_data : "";
    rs.rs_len = r->gr_resp.b_len;
    rs.rs_retry_after = r->gr_retry_after[0] != '\0' ?
        r->gr_retry_after : NULL;
    rs.rs_ms = clock_now_ms() - r->gr_start;
    rs.rs_date = r->gr_date;

    r->gr_cb(r->gr_arg, &rs);
    graph_http_req_free(r);
}

/* Hands every finished transfer to its callback. */
static void
graph_http_drain(struct graph_http *h)
{
    CURLMsg *msg;
    CURL *easy;
    CURLcode result;
    int left;

    for (;;) {
        msg = curl_multi_info_read(h->h_multi, &left);
        if (msg == NULL)
            break;
        if (msg->msg != CURLMSG_DONE)
            continue;
        easy = msg->easy_handle;
        result = msg->data.result;
        graph_http_finish(h, easy, result);
    }
}

void
graph_http_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char pct[3];

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
            buf_append(b, s, 1);
            continue;
        }
        pct[0] = '%';
        pct[1] = hex[c >> 4];
        pct[2] = hex[c & 0x0f];
        buf_append(b, pct, 3);
    }
}

void
graph_http_log_copy(char *out, const char *s, size_t outlen)
{
    size_t n = 0;

    for (; *s != '\0' && n + 1 < outlen; s++) {
        unsigned char c = (unsigned char)*s;

        out[n++] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || strchr("-._", c) != NULL ? c : '_';
    }
    out[n] = '\0';
}

void
graph_http_error_code(const char *body, size_t len, char *out,
    size_t outlen)
{
    cJSON *root, *err, *code;

    xstrlcpy(out, "-", outlen);
    root = cJSON_ParseWithLength(body, len);
    if (root == NULL)
        return;
    err = cJSON_GetObjectItemCaseSensitive(root, "error");
    code = cJSON_GetObjectItemCaseSensitive(err, "code");
    if (cJSON_IsString(code) && code->valuestring[0] != '\0')
        graph_http_log_copy(out, code->valuestring, outlen);
    cJSON_Delete(root);
}
