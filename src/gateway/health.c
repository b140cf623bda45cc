/*
 * health.c: the registry of health checks and the /healthz document:
 * {"status":..., "uptime":s, "version":..., NAME:{...} for each check}.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "gateway/health.h"

struct health_check {
    char           *hc_name;
    health_fn      *hc_fn;
    void           *hc_arg;
    int             hc_last;        /* for logging changes only */
};

struct health {
    struct health_check    *h_checks;
    size_t                  h_n;
    size_t                  h_cap;
    time_t                  h_started;
};

static const char *const health_names[] = {
    [HEALTH_OK] = "ok",
    [HEALTH_DEGRADED] = "degraded",
    [HEALTH_FAILING] = "failing",
};

const char *
health_name(enum health_status st)
{
    return st <= HEALTH_FAILING ? health_names[st] : "failing";
}

struct health *
health_create(void)
{
    struct health *h = xcalloc(1, sizeof(*h));

    h->h_started = clock_now();
    return h;
}

void
health_free(struct health *h)
{
    size_t i;

    if (h == NULL)
        return;
    for (i = 0; i < h->h_n; i++)
        free(h->h_checks[i].hc_name);
    free(h->h_checks);
    free(h);
}

static struct health_check *
health_find(struct health *h, const char *name)
{
    size_t i;

    for (i = 0; i < h->h_n; i++)
        if (strcmp(h->h_checks[i].hc_name, name) == 0)
            return &h->h_checks[i];
    return NULL;
}

void
health_add(struct health *h, const char *name, health_fn *fn, void *arg)
{
    struct health_check *c = health_find(h, name);

    if (c == NULL) {
        if (h->h_n == h->h_cap) {
            h->h_cap = h->h_cap ? h->h_cap * 2 : 8;
            h->h_checks = xrealloc(h->h_checks,
                h->h_cap * sizeof(*h->h_checks));
        }
        c = &h->h_checks[h->h_n++];
        c->hc_name = xstrdup(name);
    }
    c->hc_fn = fn;
    c->hc_arg = arg;
}

void
health_remove(struct health *h, const char *name)
{
    struct health_check *c = health_find(h, name);
    size_t i;

    if (c == NULL)
        return;
    i = (size_t)(c - h->h_checks);
    free(c->hc_name);
    memmove(c, c + 1, (h->h_n - i - 1) * sizeof(*c));
    h->h_n--;
}

/*
 * Runs one check into an object of its own under its name.  A load
 * balancer asks every few seconds: only changes are logged.
 */
static int
health_run(struct health_check *c, cJSON *root)
{
    cJSON *obj = cJSON_CreateObject();
    int st;

    if (obj == NULL || !cJSON_AddItemToObject(root, c->hc_name, obj)) {
        cJSON_Delete(obj);
        return HEALTH_FAILING;
    }
    st = c->hc_fn(c->hc_arg, obj);
    if (st < HEALTH_OK || st > HEALTH_FAILING)
        st = HEALTH_FAILING;
    if (st != c->hc_last)
        log_info("health changed name=%s status=%s was=%s", c->hc_name,
            health_name((enum health_status)st),
            health_name((enum health_status)c->hc_last));
    c->hc_last = st;
    return st;
}

char *
health_report(struct health *h, enum health_status *status)
{
    cJSON *root = cJSON_CreateObject(), *st;
    int worst = HEALTH_OK, r;
    char *text = NULL;
    size_t i;

    if (root == NULL)
        goto out;
    /* Failing until the checks have said otherwise. */
    cJSON_AddStringToObject(root, "status", "failing");
    cJSON_AddNumberToObject(root, "uptime",
        (double)(clock_now() - h->h_started));
    cJSON_AddStringToObject(root, "version", PACKAGE_VERSION);
    for (i = 0; i < h->h_n; i++) {
        r = health_run(&h->h_checks[i], root);
        if (r > worst)
            worst = r;
    }
    st = cJSON_CreateString(health_name((enum health_status)worst));
    if (st == NULL ||
        !cJSON_ReplaceItemInObjectCaseSensitive(root, "status", st)) {
        cJSON_Delete(st);
        worst = HEALTH_FAILING;
    }
    text = cJSON_PrintUnformatted(root);

out:
    cJSON_Delete(root);
    *status = text != NULL ? (enum health_status)worst : HEALTH_FAILING;
    return text;
}
