/*
 * conf.c: reads the configuration file into struct conf.
 *
 * Every key is one row of conf_keys[]: its section, name, kind, where it
 * lands in struct conf, its default and its range.  Unknown keys, bad
 * numbers and missing required keys are all reported, not just the first.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "config/conf.h"
#include "http/http.h"
#include "crypto/crypto.h"

#define CONF_LINE_MAX  1024
#define CONF_SECRET_MAX 1024

enum conf_kind {
    CONF_STR,       /* any text */
    CONF_PATH,      /* a file name, made absolute against the file's dir */
    CONF_NUM,       /* a whole number in [min, max] */
    CONF_WORD       /* one of the words listed in choices */
};

struct conf_key {
    const char      *k_section;
    const char      *k_name;
    enum conf_kind   k_kind;
    size_t           k_off;
    const char      *k_default;   /* NULL: required */
    long             k_min;
    long             k_max;
    const char      *k_choices;   /* for CONF_WORD: "a|b" */
};

#define STR(f)  offsetof(struct conf, f)
static const struct conf_key conf_keys[] = {
    /* Where presgwd takes SIP; no ;transport= means UDP and TCP. */
    { "sip", "listen", CONF_STR, STR(c_sip_listen),
      "sip:127.0.0.1:5070", 0, 0, NULL },
    /* The domain of the addresses of record in the user map. */
    { "sip", "domain", CONF_STR, STR(c_sip_domain), NULL, 0, 0, NULL },
    /* Hosts that phones may put in a request URI for the domain. */
    { "sip", "aliases", CONF_STR, STR(c_sip_aliases), "", 0, 0, NULL },
    /* RFC 3903 and RFC 6665: shorter expiries get 423 Interval Too Brief. */
    { "sip", "min_expires", CONF_NUM, STR(c_sip_min_expires),
      "60", 1, 86400, NULL },
    /* Longer expiries are cut down to this. */
    { "sip", "max_expires", CONF_NUM, STR(c_sip_max_expires),
      "3600", 60, 604800, NULL },
    /* Larger bodies get 413. */
    { "sip", "max_body", CONF_NUM, STR(c_sip_max_body),
      "65536", 1024, 1048576, NULL },
    /* Live publications one user may hold: a phone that publishes anew
     * instead of refreshing would otherwise grow them without end. */
    { "sip", "max_publications_per_user", CONF_NUM,
      STR(c_sip_max_pubs_per_user), "16", 1, 1000, NULL },
    /* RFC 6665 section 4.2.2: a NOTIFY that times out is tried again
     * this many times before the subscription ends; 481 ends it at once. */
    { "sip", "notify_retries", CONF_NUM, STR(c_sip_notify_retries),
      "3", 0, 10, NULL },
    /* Timer F (RFC 3261 17.1.2.2, 64*T1): how long a NOTIFY, or any
     * request the stack sends, waits for its answer. */
    { "sip", "notify_timeout", CONF_NUM, STR(c_sip_notify_timeout),
      "32", 2, 64, NULL },
    /* keep: a stop leaves subscriptions in the store for the next start. */
    { "sip", "on_stop", CONF_WORD, STR(c_sip_on_stop),
      "keep", 0, 0, "keep|terminate" },
    /* graph-api.md 4.2: the cloud names the default hosts below. */
    { "graph", "cloud", CONF_WORD, STR(c_graph_cloud),
      "global", 0, 0, "global|usgov|usgovdod|china" },
    /* Empty: the cloud's own; a value set here wins. */
    { "graph", "login_url", CONF_STR, STR(c_graph_login_url),
      "", 0, 0, NULL },
    { "graph", "graph_url", CONF_STR, STR(c_graph_url), "", 0, 0, NULL },
    { "graph", "scope", CONF_STR, STR(c_graph_scope), "", 0, 0, NULL },
    { "graph", "tenant_id", CONF_STR, STR(c_graph_tenant_id),
      NULL, 0, 0, NULL },
    { "graph", "client_id", CONF_STR, STR(c_graph_client_id),
      NULL, 0, 0, NULL },
    /* Empty: the secret comes from PRESGW_CLIENT_SECRET. */
    { "graph", "client_secret_file", CONF_PATH, STR(c_graph_secret_file),
      "", 0, 0, NULL },
    /* A certificate and its key: a client assertion instead of the
     * secret (graph-api.md 4.1). */
    { "graph", "client_cert_file", CONF_PATH, STR(c_graph_cert_file),
      "", 0, 0, NULL },
    { "graph", "client_key_file", CONF_PATH, STR(c_graph_key_file),
      "", 0, 0, NULL },
    /* Graph: setPresence expirationDuration is PT5M to PT4H. */
    { "graph", "session_expiry", CONF_NUM, STR(c_graph_session_expiry),
      "900", 300, 14400, NULL },
    { "graph", "call_refresh", CONF_NUM, STR(c_graph_call_refresh),
      "240", 30, 14400, NULL },
    /* 0 leaves the expiry to Graph (one day for DoNotDisturb). */
    { "graph", "dnd_expiry", CONF_NUM, STR(c_graph_dnd_expiry),
      "86400", 0, 2592000, NULL },
    /* 0 switches polling off. */
    { "graph", "poll_interval", CONF_NUM, STR(c_graph_poll_interval),
      "30", 0, 86400, NULL },
    { "graph", "timeout", CONF_NUM, STR(c_graph_timeout),
      "10", 1, 120, NULL },
    { "graph", "queue_max", CONF_NUM, STR(c_graph_queue_max),
      "100000", 1, 10000000, NULL },
    /* The longest wait between two tries of a write while Graph fails. */
    { "graph", "retry_max_delay", CONF_NUM, STR(c_graph_retry_max_delay),
      "60", 1, 3600, NULL },
    /* Several users' writes ready at once go in $batch requests. */
    { "graph", "batch", CONF_WORD, STR(c_graph_batch),
      "yes", 0, 0, "yes|no" },
    { "graph", "call_end", CONF_WORD, STR(c_graph_call_end),
      "available", 0, 0, "available|clear" },
    { "graph", "away_mode", CONF_WORD, STR(c_graph_away_mode),
      "preferred", 0, 0, "preferred|session" },
    /* The HTTPS URL Graph delivers change notifications to; empty: no
     * subscriptions, polling only. */
    { "graph", "notify_url", CONF_STR, STR(c_graph_notify_url),
      "", 0, 0, NULL },
    { "graph", "notify_path", CONF_STR, STR(c_graph_notify_path),
      "/graph/notify", 0, 0, NULL },
    { "graph", "lifecycle_path", CONF_STR, STR(c_graph_lifecycle_path),
      "/graph/lifecycle", 0, 0, NULL },
    /* Empty: notify_url with notify_path replaced by lifecycle_path. */
    { "graph", "lifecycle_url", CONF_STR, STR(c_graph_lifecycle_url),
      "", 0, 0, NULL },
    /* graph-api.md 3.1: at most 60 minutes; Graph raises less than 45,
     * so a shorter value only renews more often. */
    { "graph", "sub_lifetime", CONF_NUM, STR(c_graph_sub_lifetime),
      "3300", 30, 3600, NULL },
    /* The poll that catches what notifications missed. */
    { "graph", "reconcile_interval", CONF_NUM,
      STR(c_graph_reconcile_interval), "600", 0, 86400, NULL },
    /* Rich notifications carry the presence, encrypted to our key. */
    { "graph", "rich_notifications", CONF_WORD, STR(c_graph_rich),
      "no", 0, 0, "yes|no" },
    { "graph", "notify_cert_file", CONF_PATH,
      STR(c_graph_notify_cert_file), "", 0, 0, NULL },
    { "graph", "notify_key_file", CONF_PATH,
      STR(c_graph_notify_key_file), "", 0, 0, NULL },
    /* The keys that sign validation tokens of rich notifications; empty:
     * the login host's /common/discovery/v2.0/keys. */
    { "graph", "jwks_url", CONF_STR, STR(c_graph_jwks_url), "", 0, 0,
      NULL },
    { "store", "path", CONF_PATH, STR(c_store_path),
      "/var/lib/presgw/presgw.db", 0, 0, NULL },
    { "users", "map", CONF_PATH, STR(c_users_map), NULL, 0, 0, NULL },
    /* RFC 4662 lists for BLF list keys; empty: none. */
    { "users", "lists", CONF_PATH, STR(c_users_lists), "", 0, 0, NULL },
    /* The HTTP listener (/healthz); empty: none. */
    { "http", "listen", CONF_STR, STR(c_http_listen), "", 0, 0, NULL },
    /* Both set: HTTPS; both empty: plain HTTP, behind a TLS proxy. */
    { "http", "cert_file", CONF_PATH, STR(c_http_cert_file),
      "", 0, 0, NULL },
    { "http", "key_file", CONF_PATH, STR(c_http_key_file), "", 0, 0, NULL },
    /* Larger request bodies get 413. */
    { "http", "max_body", CONF_NUM, STR(c_http_max_body),
      "1048576", 1024, 67108864, NULL },
    /* Connections at once; more are closed as they come. */
    { "http", "max_conns", CONF_NUM, STR(c_http_max_conns),
      "64", 1, 10000, NULL },
    /* Seconds an idle connection is kept. */
    { "http", "timeout", CONF_NUM, STR(c_http_timeout),
      "10", 1, 3600, NULL },
    /* Connections at once from one address; 0: no limit. */
    { "http", "max_conns_per_ip", CONF_NUM, STR(c_http_max_conns_per_ip),
      "16", 0, 10000, NULL },
    /* Seconds a connection has for each request, slow or not. */
    { "http", "request_timeout", CONF_NUM, STR(c_http_request_timeout),
      "30", 1, 3600, NULL },
    { "log", "level", CONF_WORD, STR(c_log_level),
      "info", 0, 0, "debug|info|warn|error" },
};
#undef STR

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static char **
conf_str_slot(struct conf *c, const struct conf_key *k)
{
    return (char **)(void *)((char *)c + k->k_off);
}

static long *
conf_num_slot(struct conf *c, const struct conf_key *k)
{
    return (long *)(void *)((char *)c + k->k_off);
}

static const struct conf_key *
conf_find(const char *section, const char *name)
{
    size_t i;

    for (i = 0; i < CONF_NKEYS; i++)
        if (strcmp(conf_keys[i].k_section, section) == 0 &&
            strcmp(conf_keys[i].k_name, name) == 0)
            return &conf_keys[i];
    return NULL;
}

/* True if word is one of the '|'-separated choices. */
static int
conf_word_ok(const char *choices, const char *word)
{
    size_t n = strlen(word);
    const char *p = choices;

    while (*p != '\0') {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* Stores value for key k; on a bad value appends a message to errs. */
static void
conf_set(struct conf *c, const struct conf_key *k, const char *value,
    const char *dir, const char *where, struct buf *errs)
{
    char **slot;
    long v;

    if (k->k_kind == CONF_NUM) {
        if (parse_long(value, k->k_min, k->k_max, &v) != 0) {
            buf_printf(errs, "%s: %s.%s must be a number from %ld to %ld,"
                " not '%s'\n", where, k->k_section, k->k_name, k->k_min,
                k->k_max, value);
            return;
        }
        *conf_num_slot(c, k) = v;
        return;
    }
    if (k->k_kind == CONF_WORD && !conf_word_ok(k->k_choices, value)) {
        buf_printf(errs, "%s: %s.%s must be one of %s, not '%s'\n", where,
            k->k_section, k->k_name, k->k_choices, value);
        return;
    }
    slot = conf_str_slot(c, k);
    free(*slot);
    if (k->k_kind == CONF_PATH && value[0] != '\0' && value[0] != '/')
        *slot = xasprintf("%s/%s", dir, value);
    else
        *slot = xstrdup(value);
}

static char *
conf_trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
        end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* Handles one line of the file; section is updated in place. */
static void
conf_line(struct conf *c, char *line, char *section, size_t seclen,
    const char *dir, const char *where, struct buf *errs)
{
    const struct conf_key *k;
    char *s = conf_trim(line), *eq, *key, *value;

    if (*s == '\0' || *s == '#' || *s == ';')
        return;
    if (*s == '[') {
        char *end = strchr(s, ']');

        if (end == NULL || end[1] != '\0') {
            buf_printf(errs, "%s: malformed section header\n", where);
            return;
        }
        *end = '\0';
        xstrlcpy(section, conf_trim(s + 1), seclen);
        return;
    }
    eq = strchr(s, '=');
    if (eq == NULL) {
        buf_printf(errs, "%s: expected 'key = value'\n", where);
        return;
    }
    *eq = '\0';
    key = conf_trim(s);
    value = conf_trim(eq + 1);
    k = conf_find(section, key);
    if (k == NULL) {
        buf_printf(errs, "%s: unknown key '%s' in [%s]\n", where, key,
            section);
        return;
    }
    conf_set(c, k, value, dir, where, errs);
}

static void
conf_defaults(struct conf *c)
{
    size_t i;

    for (i = 0; i < CONF_NKEYS; i++) {
        const struct conf_key *k = &conf_keys[i];

        if (k->k_default == NULL)
            continue;
        if (k->k_kind == CONF_NUM)
            parse_long(k->k_default, k->k_min, k->k_max,
                conf_num_slot(c, k));
        else
            *conf_str_slot(c, k) = xstrdup(k->k_default);
    }
}

/* graph-api.md 4.2 (and graph-data/national-cloud-endpoints.csv): the
 * hosts of each cloud, and whether it has presence change notifications
 * (Global only).  China has no presence API at all; conf_check says so. */
struct conf_cloud {
    const char *cc_name;
    const char *cc_login;
    const char *cc_graph;
    int         cc_presence;
    int         cc_notify;
};

static const struct conf_cloud conf_clouds[] = {
    { "global", "https://login.microsoftonline.com",
      "https://graph.microsoft.com", 1, 1 },
    /* GCC High (US Gov L4). */
    { "usgov", "https://login.microsoftonline.us",
      "https://graph.microsoft.us", 1, 0 },
    /* US Gov L5 (DoD). */
    { "usgovdod", "https://login.microsoftonline.us",
      "https://dod-graph.microsoft.us", 1, 0 },
    /* Operated by 21Vianet. */
    { "china", "https://login.chinacloudapi.cn",
      "https://microsoftgraph.chinacloudapi.cn", 0, 0 },
};

/* Fills the Graph hosts the file left empty from the cloud's. */
static void
conf_cloud_defaults(struct conf *c, const char *path, struct buf *errs)
{
    const struct conf_cloud *cc = &conf_clouds[0];
    size_t i, len;

    for (i = 0; i < sizeof(conf_clouds) / sizeof(conf_clouds[0]); i++)
        if (strcmp(conf_clouds[i].cc_name, c->c_graph_cloud) == 0)
            cc = &conf_clouds[i];
    if (!cc->cc_presence)
        buf_printf(errs, "%s: graph.cloud %s has no presence API\n", path,
            cc->cc_name);
    c->c_graph_cloud_notify = cc->cc_notify;
    if (c->c_graph_login_url[0] == '\0') {
        free(c->c_graph_login_url);
        c->c_graph_login_url = xstrdup(cc->cc_login);
    }
    if (c->c_graph_url[0] == '\0') {
        free(c->c_graph_url);
        c->c_graph_url = xasprintf("%s/v1.0", cc->cc_graph);
    }
    if (c->c_graph_scope[0] == '\0') {
        free(c->c_graph_scope);
        c->c_graph_scope = xasprintf("%s/.default", cc->cc_graph);
    }
    if (c->c_graph_jwks_url[0] == '\0') {
        len = strlen(c->c_graph_login_url);
        while (len > 0 && c->c_graph_login_url[len - 1] == '/')
            len--;
        free(c->c_graph_jwks_url);
        c->c_graph_jwks_url = xasprintf("%.*s/common/discovery/v2.0/keys",
            (int)len, c->c_graph_login_url);
    }
}

/* A certificate and its key load and belong together. */
static void
conf_check_key(const char *cert, const char *key, const char *what,
    struct buf *errs)
{
    struct crypto_key *k;
    char *err = NULL;

    k = crypto_key_load(cert, key, &err);
    if (k == NULL)
        buf_printf(errs, "%s: %s\n", what, err);
    crypto_key_free(k);
    free(err);
}

/* Whether the host of an http:// URL (after the scheme) is loopback. */
static int
conf_loopback_host(const char *h)
{
    char host[64];
    struct in_addr a4;
    size_t n;

    if (strncmp(h, "[::1]", 5) == 0)
        return h[5] == '\0' || h[5] == ':' || h[5] == '/';
    n = strcspn(h, ":/?#");
    if (n == 0 || n >= sizeof(host))
        return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    return inet_pton(AF_INET, host, &a4) == 1 &&
        (ntohl(a4.s_addr) >> 24) == 127;
}

/*
 * Graph posts only to HTTPS URLs; plain HTTP is for a Graph simulator on
 * this machine, never for a URL that leaves it.
 */
static void
conf_check_post_url(const char *url, const char *key, const char *path,
    struct buf *errs)
{
    if (url[0] == '\0' || strncmp(url, "https://", 8) == 0)
        return;
    if (strncmp(url, "http://", 7) != 0)
        buf_printf(errs, "%s: graph.%s must be an https:// URL\n", path,
            key);
    else if (!conf_loopback_host(url + 7))
        buf_printf(errs, "%s: graph.%s must be an https:// URL: Graph"
            " posts only to HTTPS (http:// is taken only for a loopback"
            " host, 127.0.0.1, ::1 or localhost, such as a local test"
            " simulator)\n", path, key);
}

/* Reports required keys that were not set, and values that disagree. */
static void
conf_check(struct conf *c, const char *path, struct buf *errs)
{
    size_t i;

    for (i = 0; i < CONF_NKEYS; i++) {
        const struct conf_key *k = &conf_keys[i];

        if (k->k_default == NULL && k->k_kind != CONF_NUM &&
            (*conf_str_slot(c, k) == NULL || **conf_str_slot(c, k) == 0))
            buf_printf(errs, "%s: %s.%s is required\n", path,
                k->k_section, k->k_name);
    }
    if (c->c_sip_min_expires > c->c_sip_max_expires)
        buf_printf(errs, "%s: sip.min_expires is above sip.max_expires\n",
            path);
    if (strncmp(c->c_sip_listen, "sip:", 4) != 0)
        buf_printf(errs, "%s: sip.listen must be a sip: URI\n", path);
    conf_cloud_defaults(c, path, errs);
    if (strncmp(c->c_graph_login_url, "http", 4) != 0 ||
        strncmp(c->c_graph_url, "http", 4) != 0)
        buf_printf(errs, "%s: graph.login_url and graph.graph_url must be"
            " http(s) URLs\n", path);
    conf_check_post_url(c->c_graph_notify_url, "notify_url", path, errs);
    conf_check_post_url(c->c_graph_lifecycle_url, "lifecycle_url", path,
        errs);
    if (c->c_graph_notify_path[0] != '/' ||
        c->c_graph_lifecycle_path[0] != '/')
        buf_printf(errs, "%s: graph.notify_path and graph.lifecycle_path"
            " must start with '/'\n", path);
    if (strcmp(c->c_graph_rich, "yes") == 0 &&
        (c->c_graph_notify_cert_file[0] == '\0' ||
        c->c_graph_notify_key_file[0] == '\0'))
        buf_printf(errs, "%s: graph.rich_notifications needs"
            " graph.notify_cert_file and graph.notify_key_file\n", path);
    else if (strcmp(c->c_graph_rich, "yes") == 0)
        conf_check_key(c->c_graph_notify_cert_file,
            c->c_graph_notify_key_file, "graph.notify_cert_file", errs);
    if (strncmp(c->c_graph_jwks_url, "http", 4) != 0)
        buf_printf(errs, "%s: graph.jwks_url must be an http(s) URL\n",
            path);
}

/* The HTTP listener's address, and its certificate and key, readable. */
static void
conf_check_http(struct conf *c, const char *path, struct buf *errs)
{
    const char *files[2] = { c->c_http_cert_file, c->c_http_key_file };
    const char *keys[2] = { "cert_file", "key_file" };
    struct sockaddr_storage sa;
    socklen_t len;
    FILE *fp;
    size_t i;

    if (c->c_http_listen[0] != '\0' &&
        http_listen_parse(c->c_http_listen, &sa, &len) != 0)
        buf_printf(errs, "%s: http.listen must be ADDRESS:PORT or"
            " [ADDRESS]:PORT, not '%s'\n", path, c->c_http_listen);
    if ((files[0][0] == '\0') != (files[1][0] == '\0'))
        buf_printf(errs, "%s: http.cert_file and http.key_file go"
            " together\n", path);
    for (i = 0; i < 2; i++) {
        if (files[i][0] == '\0')
            continue;
        fp = fopen(files[i], "r");
        if (fp == NULL)
            buf_printf(errs, "%s: cannot read http.%s: %s\n", files[i],
                keys[i], strerror(errno));
        else
            fclose(fp);
    }
}

/*
 * The client secret: from client_secret_file, else from the environment.
 * Trailing white space (a newline from an editor) is not part of it.
 */
static void
conf_read_secret(struct conf *c, struct buf *errs)
{
    char tmp[CONF_SECRET_MAX];
    const char *env = getenv("PRESGW_CLIENT_SECRET");
    FILE *fp;
    size_t n;

    if (c->c_graph_secret_file == NULL || c->c_graph_secret_file[0] == 0) {
        if (env == NULL || env[0] == '\0') {
            buf_printf(errs, "graph.client_secret_file is empty and"
                " PRESGW_CLIENT_SECRET is not set\n");
            return;
        }
        c->c_graph_secret = xstrdup(env);
        return;
    }
    fp = fopen(c->c_graph_secret_file, "r");
    if (fp == NULL) {
        buf_printf(errs, "%s: cannot read client secret: %s\n",
            c->c_graph_secret_file, strerror(errno));
        return;
    }
    n = fread(tmp, 1, sizeof(tmp) - 1, fp);
    fclose(fp);
    tmp[n] = '\0';
    c->c_graph_secret = xstrdup(conf_trim(tmp));
    if (c->c_graph_secret[0] == '\0')
        buf_printf(errs, "%s: client secret file is empty\n",
            c->c_graph_secret_file);
}

/*
 * The certificate credential: both files, no secret file beside them,
 * and a key that loads and belongs to the certificate.  The key is read
 * again for each token, so a renewed certificate needs no restart.
 */
static void
conf_check_cert(struct conf *c, struct buf *errs)
{
    struct crypto_key *k;
    char *err = NULL;

    if (c->c_graph_cert_file[0] == '\0' || c->c_graph_key_file[0] == '\0') {
        buf_printf(errs, "graph.client_cert_file and graph.client_key_file"
            " go together\n");
        return;
    }
    if (c->c_graph_secret_file[0] != '\0')
        buf_printf(errs, "graph.client_secret_file and graph.client_cert_file"
            " exclude each other\n");
    k = crypto_key_load(c->c_graph_cert_file, c->c_graph_key_file, &err);
    if (k == NULL)
        buf_printf(errs, "%s\n", err);
    crypto_key_free(k);
    free(err);
}

struct conf *
conf_load(const char *path, char **err)
{
    char line[CONF_LINE_MAX], section[64] = "", where[512];
    struct conf *c = xcalloc(1, sizeof(*c));
    struct buf errs;
    char *pathcopy, *dir;
    unsigned lineno = 0;
    FILE *fp;

    buf_init(&errs, 16384);
    conf_defaults(c);
    fp = fopen(path, "r");
    if (fp == NULL) {
        buf_printf(&errs, "%s: cannot open: %s\n", path, strerror(errno));
        goto out;
    }
    /* Relative names in the file are relative to the file, whatever the
     * daemon's working directory later is. */
    pathcopy = realpath(path, NULL);
    if (pathcopy == NULL)
        pathcopy = xstrdup(path);
    dir = dirname(pathcopy);
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        snprintf(where, sizeof(where), "%s:%u", path, lineno);
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            buf_printf(&errs, "%s: line too long\n", where);
            break;
        }
        conf_line(c, line, section, sizeof(section), dir, where, &errs);
    }
    fclose(fp);
    free(pathcopy);
    conf_check(c, path, &errs);
    conf_check_http(c, path, &errs);
    if (c->c_graph_cert_file[0] != '\0' || c->c_graph_key_file[0] != '\0')
        conf_check_cert(c, &errs);
    else
        conf_read_secret(c, &errs);
    if (c->c_graph_secret != NULL)
        log_add_secret(c->c_graph_secret);

out:
    if (errs.b_len == 0) {
        buf_free(&errs);
        *err = NULL;
        return c;
    }
    *err = buf_steal(&errs);
    conf_free(c);
    return NULL;
}

void
conf_free(struct conf *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < CONF_NKEYS; i++)
        if (conf_keys[i].k_kind != CONF_NUM)
            free(*conf_str_slot(c, &conf_keys[i]));
    free(c->c_graph_secret);
    free(c);
}
