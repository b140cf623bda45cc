/*
 * gateway_http.c: the HTTP listener of presgwd and its routes.
 *
 * On reload the listener is kept when its settings are the same, so that
 * open connections and the bound port (port 0 included) survive.  A
 * certificate renewed in place counts as a change: the files' identity
 * and times are part of the settings.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"
#include "config/conf.h"
#include "gateway/gateway_http.h"
#include "gateway/health.h"
#include "graph/graph.h"
#include "http/http.h"

/* What a PEM file was when the listener read it. */
struct gateway_http_file {
    dev_t               gf_dev;
    ino_t               gf_ino;
    off_t               gf_size;
    struct timespec     gf_mtime;
};

/* The settings a listener was made with. */
struct gateway_http_set {
    char                       *gs_listen;
    char                       *gs_cert_file;
    char                       *gs_key_file;
    long                        gs_max_body;
    long                        gs_max_conns;
    long                        gs_timeout;
    long                        gs_max_per_ip;
    long                        gs_request_timeout;
    struct gateway_http_file    gs_cert;
    struct gateway_http_file    gs_key;
};

struct gateway_http {
    su_root_t                  *gh_root;
    struct health              *gh_health;
    struct http_server         *gh_server;
    struct gateway_http_set     gh_set;
    char                       *gh_report;  /* the last /healthz body */
    struct graph               *gh_graph;   /* webhook routes; NULL */
    char                       *gh_notify_path;
    char                       *gh_lifecycle_path;
};

static void
gateway_http_stamp(const char *path, struct gateway_http_file *f)
{
    struct stat st;

    memset(f, 0, sizeof(*f));
    if (path[0] == '\0' || stat(path, &st) != 0)
        return;
    f->gf_dev = st.st_dev;
    f->gf_ino = st.st_ino;
    f->gf_size = st.st_size;
    f->gf_mtime = st.st_mtim;
}

static void
gateway_http_set_init(struct gateway_http_set *s, const struct conf *c)
{
    s->gs_listen = xstrdup(c->c_http_listen);
    s->gs_cert_file = xstrdup(c->c_http_cert_file);
    s->gs_key_file = xstrdup(c->c_http_key_file);
    s->gs_max_body = c->c_http_max_body;
    s->gs_max_conns = c->c_http_max_conns;
    s->gs_timeout = c->c_http_timeout;
    s->gs_max_per_ip = c->c_http_max_conns_per_ip;
    s->gs_request_timeout = c->c_http_request_timeout;
    gateway_http_stamp(s->gs_cert_file, &s->gs_cert);
    gateway_http_stamp(s->gs_key_file, &s->gs_key);
}

static void
gateway_http_set_free(struct gateway_http_set *s)
{
    free(s->gs_listen);
    free(s->gs_cert_file);
    free(s->gs_key_file);
    memset(s, 0, sizeof(*s));
}

static int
gateway_http_file_same(const struct gateway_http_file *a,
    const struct gateway_http_file *b)
{
    return a->gf_dev == b->gf_dev && a->gf_ino == b->gf_ino &&
        a->gf_size == b->gf_size &&
        a->gf_mtime.tv_sec == b->gf_mtime.tv_sec &&
        a->gf_mtime.tv_nsec == b->gf_mtime.tv_nsec;
}

static int
gateway_http_set_same(const struct gateway_http_set *a,
    const struct gateway_http_set *b)
{
    return a->gs_listen != NULL && b->gs_listen != NULL &&
        strcmp(a->gs_listen, b->gs_listen) == 0 &&
        strcmp(a->gs_cert_file, b->gs_cert_file) == 0 &&
        strcmp(a->gs_key_file, b->gs_key_file) == 0 &&
        a->gs_max_body == b->gs_max_body &&
        a->gs_max_conns == b->gs_max_conns &&
        a->gs_timeout == b->gs_timeout &&
        a->gs_max_per_ip == b->gs_max_per_ip &&
        a->gs_request_timeout == b->gs_request_timeout &&
        gateway_http_file_same(&a->gs_cert, &b->gs_cert) &&
        gateway_http_file_same(&a->gs_key, &b->gs_key);
}

/* GET /healthz: 200 while ok or degraded, 503 when failing. */
static void
gateway_http_healthz(void *arg, const struct http_req *rq,
    struct http_reply *rp)
{
    struct gateway_http *gh = arg;
    enum health_status st;

    if (strcmp(rq->hq_method, "GET") != 0 &&
        strcmp(rq->hq_method, "HEAD") != 0) {
        rp->hp_status = 405;
        rp->hp_type = "text/plain";
        rp->hp_body = "GET only\n";
        return;
    }
    /* The listener copies the body after we return; the report is kept
     * until the next one. */
    free(gh->gh_report);
    gh->gh_report = health_report(gh->gh_health, &st);
    rp->hp_status = st == HEALTH_FAILING ? 503 : 200;
    rp->hp_type = "application/json";
    rp->hp_body = gh->gh_report != NULL ? gh->gh_report :
        "{\"status\":\"failing\"}";
}

/*
 * POST from Graph to the notification or lifecycle URL (graph-api.md
 * 3.3, 3.4): the Graph client answers at once and works later.
 */
static void
gateway_http_graph(void *arg, const struct http_req *rq,
    struct http_reply *rp)
{
    struct gateway_http *gh = arg;
    const char *type = NULL, *reply = NULL;

    if (strcmp(rq->hq_method, "POST") != 0) {
        rp->hp_status = 405;
        rp->hp_type = "text/plain";
        rp->hp_body = "POST only\n";
        return;
    }
    rp->hp_status = graph_notify_post(gh->gh_graph,
        http_req_query(rq, "validationToken"), rq->hq_body,
        rq->hq_body_len, &type, &reply);
    rp->hp_type = type;
    rp->hp_body = reply;
    if (rp->hp_status >= 400)
        log_info("gateway webhook-refused peer=%s path=%s status=%d",
            rq->hq_peer, rq->hq_path, rp->hp_status);
}

static void
gateway_http_graph_routes(struct gateway_http *gh, struct http_server *hs)
{
    if (hs == NULL || gh->gh_graph == NULL)
        return;
    http_route(hs, gh->gh_notify_path, gateway_http_graph, gh);
    http_route(hs, gh->gh_lifecycle_path, gateway_http_graph, gh);
}

void
gateway_http_set_graph(struct gateway_http *gh, struct graph *g,
    const char *notify_path, const char *lifecycle_path)
{
    gh->gh_graph = g;
    free(gh->gh_notify_path);
    free(gh->gh_lifecycle_path);
    gh->gh_notify_path = xstrdup(notify_path);
    gh->gh_lifecycle_path = xstrdup(lifecycle_path);
    gateway_http_graph_routes(gh, gh->gh_server);
}

static struct http_server *
gateway_http_start(struct gateway_http *gh, const struct gateway_http_set *s)
{
    struct http_conf hc = {
        .hc_listen = s->gs_listen,
        .hc_cert_file = s->gs_cert_file,
        .hc_key_file = s->gs_key_file,
        .hc_max_body = s->gs_max_body,
        .hc_max_conns = s->gs_max_conns,
        .hc_timeout = s->gs_timeout,
        .hc_max_conns_per_ip = s->gs_max_per_ip,
        .hc_request_timeout = s->gs_request_timeout,
    };
    struct http_server *hs;
    char *err = NULL;

    hs = http_create(gh->gh_root, &hc, &err);
    if (hs == NULL) {
        log_error("gateway http-failed listen=%s error=\"%s\"",
            s->gs_listen, err != NULL ? err : "?");
        free(err);
        return NULL;
    }
    http_route(hs, "/healthz", gateway_http_healthz, gh);
    gateway_http_graph_routes(gh, hs);
    return hs;
}

struct gateway_http *
gateway_http_new(su_root_t *root, struct health *h)
{
    struct gateway_http *gh = xcalloc(1, sizeof(*gh));

    gh->gh_root = root;
    gh->gh_health = h;
    return gh;
}

int
gateway_http_apply(struct gateway_http *gh, const struct conf *c)
{
    struct gateway_http_set s;
    struct http_server *hs = NULL;

    gateway_http_set_init(&s, c);
    if (gh->gh_server != NULL && gateway_http_set_same(&s, &gh->gh_set)) {
        gateway_http_set_free(&s);
        return 0;
    }
    if (s.gs_listen[0] != '\0') {
        hs = gateway_http_start(gh, &s);
        if (hs == NULL) {
            if (gh->gh_server != NULL)
                log_warn("gateway http-kept listen=%s",
                    gh->gh_set.gs_listen);
            gateway_http_set_free(&s);
            return -1;
        }
    }
    http_destroy(gh->gh_server);
    gateway_http_set_free(&gh->gh_set);
    gh->gh_server = hs;
    gh->gh_set = s;
    return 0;
}

int
gateway_http_port(const struct gateway_http *gh)
{
    return gh->gh_server != NULL ? http_port(gh->gh_server) : 0;
}

void
gateway_http_free(struct gateway_http *gh)
{
    if (gh == NULL)
        return;
    http_destroy(gh->gh_server);
    gateway_http_set_free(&gh->gh_set);
    free(gh->gh_report);
    free(gh->gh_notify_path);
    free(gh->gh_lifecycle_path);
    free(gh);
}
