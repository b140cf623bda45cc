/*
 * graph_acct.c: service account records and their spool (graph_acct.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "core.h"
#include "graph/graph_acct.h"
#include "store/store.h"

/* A spooled record is far smaller than this; anything larger is junk. */
#define GRAPH_ACCT_FILE_MAX     (64 * 1024)

int
graph_acct_name_ok(const char *name)
{
    size_t n;

    if (name == NULL)
        return 0;
    n = strlen(name);
    if (n == 0 || n > GRAPH_ACCT_NAME_MAX || name[0] == '.')
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n;
}

static char *
graph_acct_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

int
graph_acct_decode(const char *name, const char *json,
    struct graph_acct_rec *r)
{
    cJSON *o = cJSON_Parse(json);
    const cJSON *v;

    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(o) || !graph_acct_name_ok(name)) {
        cJSON_Delete(o);
        return -1;
    }
    r->ar_name = xstrdup(name);
    r->ar_upn = graph_acct_str(o, "upn");
    r->ar_oid = graph_acct_str(o, "oid");
    r->ar_refresh = graph_acct_str(o, "refresh_token");
    r->ar_state = graph_acct_str(o, "state");
    r->ar_reason = graph_acct_str(o, "reason");
    v = cJSON_GetObjectItemCaseSensitive(o, "updated");
    r->ar_updated = cJSON_IsNumber(v) ? (time_t)v->valuedouble : 0;
    v = cJSON_GetObjectItemCaseSensitive(o, "logout");
    r->ar_logout = cJSON_IsTrue(v);
    if (r->ar_state[0] == '\0') {
        free(r->ar_state);
        r->ar_state = xstrdup(GRAPH_ACCT_STATE_OK);
    }
    cJSON_Delete(o);
    if (r->ar_refresh[0] == '\0' && !r->ar_logout) {
        graph_acct_clear(r);
        return -1;
    }
    return 0;
}

char *
graph_acct_encode(const struct graph_acct_rec *r)
{
    cJSON *o = cJSON_CreateObject();
    char *text, *out;

    cJSON_AddStringToObject(o, "upn", r->ar_upn ? r->ar_upn : "");
    cJSON_AddStringToObject(o, "oid", r->ar_oid ? r->ar_oid : "");
    cJSON_AddStringToObject(o, "refresh_token",
        r->ar_refresh ? r->ar_refresh : "");
    cJSON_AddStringToObject(o, "state",
        r->ar_state ? r->ar_state : GRAPH_ACCT_STATE_OK);
    cJSON_AddStringToObject(o, "reason", r->ar_reason ? r->ar_reason : "");
    cJSON_AddNumberToObject(o, "updated", (double)r->ar_updated);
    if (r->ar_logout)
        cJSON_AddTrueToObject(o, "logout");
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL) {
        log_error("graph account-encode-failed reason=memory");
        abort();
    }
    out = xstrdup(text);
    explicit_bzero(text, strlen(text));
    cJSON_free(text);
    return out;
}

static void
graph_acct_wipe(char **s)
{
    if (*s == NULL)
        return;
    explicit_bzero(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void
graph_acct_clear(struct graph_acct_rec *r)
{
    graph_acct_wipe(&r->ar_name);
    graph_acct_wipe(&r->ar_upn);
    graph_acct_wipe(&r->ar_oid);
    graph_acct_wipe(&r->ar_refresh);
    graph_acct_wipe(&r->ar_state);
    graph_acct_wipe(&r->ar_reason);
    r->ar_updated = 0;
    r->ar_logout = 0;
}

char *
graph_acct_spool_dir(const char *store_path)
{
    return xasprintf("%s.accounts", store_path);
}

/* Writes all of text to a new file at tmp, mode 0600, synced. */
static int
graph_acct_write_file(const char *tmp, const char *text, char **err)
{
    size_t len = strlen(text), off = 0;
    ssize_t n;
    int fd;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = xasprintf("%s: %s", tmp, strerror(errno));
        return -1;
    }
    while (off < len) {
        n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (off < len || fsync(fd) != 0) {
        *err = xasprintf("%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    return close(fd);
}

int
graph_acct_spool_put(const char *store_path,
    const struct graph_acct_rec *r, char **err)
{
    char *dir = graph_acct_spool_dir(store_path);
    char *path = xasprintf("%s/%s.json", dir, r->ar_name);
    char *tmp = xasprintf("%s/.%s.tmp", dir, r->ar_name);
    char *text = graph_acct_encode(r);
    int rc = -1;

    *err = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        *err = xasprintf("%s: %s", dir, strerror(errno));
    else if (graph_acct_write_file(tmp, text, err) == 0) {
        /* rename() makes the whole file appear at once. */
        if (rename(tmp, path) != 0) {
            *err = xasprintf("%s: %s", path, strerror(errno));
            unlink(tmp);
        } else {
            rc = 0;
        }
    }
    explicit_bzero(text, strlen(text));
    free(text);
    free(tmp);
    free(path);
    free(dir);
    return rc;
}

/* Reads a spooled file; NULL (after a log line) when it cannot. */
static char *
graph_acct_read_file(const char *path)
{
    struct buf b;
    char chunk[4096];
    size_t n;
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        log_warn("graph account-spool-unreadable path=%s error=\"%s\"",
            path, strerror(errno));
        return NULL;
    }
    buf_init(&b, GRAPH_ACCT_FILE_MAX);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    explicit_bzero(chunk, sizeof(chunk));
    if (b.b_overflow || b.b_data == NULL) {
        log_warn("graph account-spool-bad path=%s reason=size", path);
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* The account name of a spool file name ("NAME.json"), or NULL. */
static char *
graph_acct_spool_name(const char *file)
{
    size_t n = strlen(file);
    char *name;

    if (n <= 5 || strcmp(file + n - 5, ".json") != 0)
        return NULL;
    name = xstrndup(file, n - 5);
    if (!graph_acct_name_ok(name)) {
        free(name);
        return NULL;
    }
    return name;
}

struct graph_acct_walk {
    const char     *w_dir;
    graph_acct_cb  *w_fn;
    void           *w_arg;
};

/* Calls w->w_fn for each good spool file; returns how many. */
static int
graph_acct_spool_walk(struct graph_acct_walk *w,
    void (*each)(struct graph_acct_walk *, const char *path,
    struct graph_acct_rec *r))
{
    struct graph_acct_rec r;
    struct dirent *de;
    char *name, *path, *text;
    DIR *d = opendir(w->w_dir);
    int n = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        name = graph_acct_spool_name(de->d_name);
        if (name == NULL)
            continue;
        path = xasprintf("%s/%s", w->w_dir, de->d_name);
        text = graph_acct_read_file(path);
        if (text != NULL && graph_acct_decode(name, text, &r) == 0) {
            each(w, path, &r);
            graph_acct_clear(&r);
            n++;
        } else if (text != NULL) {
            log_warn("graph account-spool-bad path=%s reason=format", path);
        }
        if (text != NULL) {
            explicit_bzero(text, strlen(text));
            free(text);
        }
        free(path);
        free(name);
    }
    closedir(d);
    return n;
}

static void
graph_acct_each_one(struct graph_acct_walk *w, const char *path,
    struct graph_acct_rec *r)
{
    (void)path;
    w->w_fn(w->w_arg, r);
}

void
graph_acct_spool_each(const char *store_path, graph_acct_cb *fn, void *arg)
{
    struct graph_acct_walk w;
    char *dir = graph_acct_spool_dir(store_path);

    w.w_dir = dir;
    w.w_fn = fn;
    w.w_arg = arg;
    graph_acct_spool_walk(&w, graph_acct_each_one);
    free(dir);
}

/* Takes one spooled record into the store, then removes its file. */
static void
graph_acct_import_one(struct graph_acct_walk *w, const char *path,
    struct graph_acct_rec *r)
{
    struct store *s = w->w_arg;
    char *text;
    int rc;

    store_begin(s);
    if (r->ar_logout) {
        rc = store_rec_del(s, GRAPH_ACCT_NS, r->ar_name);
    } else {
        text = graph_acct_encode(r);
        rc = store_rec_put(s, GRAPH_ACCT_NS, r->ar_name, text);
        explicit_bzero(text, strlen(text));
        free(text);
    }
    if (store_commit(s) != 0 || rc != 0) {
        log_warn("graph account-import-failed account=%s", r->ar_name);
        return;
    }
    if (unlink(path) != 0)
        log_warn("graph account-spool-left path=%s error=\"%s\"", path,
            strerror(errno));
    log_info("graph account-imported account=%s action=%s", r->ar_name,
        r->ar_logout ? "logout" : "login");
}

int
graph_acct_spool_import(const char *store_path, struct store *s)
{
    struct graph_acct_walk w;
    char *dir = graph_acct_spool_dir(store_path);
    int n;

    w.w_dir = dir;
    w.w_fn = NULL;
    w.w_arg = s;
    n = graph_acct_spool_walk(&w, graph_acct_import_one);
    free(dir);
    return n;
}

char *
graph_acct_scope(const char *app_scope)
{
    static const char suffix[] = "/.default";
    size_t n = strlen(app_scope), k = sizeof(suffix) - 1;

    if (n >= k && strcmp(app_scope + n - k, suffix) == 0)
        n -= k;
    return xasprintf("%.*s/Presence.Read.All offline_access", (int)n,
        app_scope);
}
