/*
 * test_conf_cloud.c: graph.cloud names the login and Graph hosts and the
 * token scope; login_url and graph_url set in the file win; only the
 * global cloud has presence change notifications, and China has no
 * presence API at all.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"
#include "config/conf.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/presgw-test-cloud-XXXXXX";

/* One row per cloud: what its defaults must be. */
static const struct cloud_case {
    const char *cloud;      /* "" leaves graph.cloud out */
    const char *login;
    const char *graph;      /* graph_url, with /v1.0 */
    const char *scope;
    int         notify;     /* presence change notifications */
} cloud_cases[] = {
    { "", "https://login.microsoftonline.com",
      "https://graph.microsoft.com/v1.0",
      "https://graph.microsoft.com/.default", 1 },
    { "global", "https://login.microsoftonline.com",
      "https://graph.microsoft.com/v1.0",
      "https://graph.microsoft.com/.default", 1 },
    { "usgov", "https://login.microsoftonline.us",
      "https://graph.microsoft.us/v1.0",
      "https://graph.microsoft.us/.default", 0 },
    { "usgovdod", "https://login.microsoftonline.us",
      "https://dod-graph.microsoft.us/v1.0",
      "https://dod-graph.microsoft.us/.default", 0 },
};

/* Loads a configuration whose [graph] section ends with extra. */
static struct conf *
load_graph(const char *name, const char *extra, char **err)
{
    char *path = xasprintf("%s/%s.conf", tmpdir, name);
    FILE *fp = fopen(path, "w");
    struct conf *c;

    fprintf(fp, "[sip]\ndomain = example.com\n[graph]\ntenant_id = t\n"
        "client_id = c\n%s[users]\nmap = u.csv\n", extra);
    fclose(fp);
    c = conf_load(path, err);
    free(path);
    return c;
}

static void
cloud_names_its_hosts_scope_and_notifications(void)
{
    const struct cloud_case *k;
    struct conf *c;
    char *extra, *err;
    size_t i;

    for (i = 0; i < sizeof(cloud_cases) / sizeof(cloud_cases[0]); i++) {
        k = &cloud_cases[i];
        err = NULL;
        extra = k->cloud[0] != '\0' ?
            xasprintf("cloud = %s\n", k->cloud) : xstrdup("");
        c = load_graph("cloud", extra, &err);
        CHECK(c != NULL);
        if (c != NULL) {
            CHECK_STR(c->c_graph_cloud,
                k->cloud[0] != '\0' ? k->cloud : "global");
            CHECK_STR(c->c_graph_login_url, k->login);
            CHECK_STR(c->c_graph_url, k->graph);
            CHECK_STR(c->c_graph_scope, k->scope);
            CHECK(c->c_graph_cloud_notify == k->notify);
        }
        conf_free(c);
        free(extra);
        free(err);
    }
}

static void
cloud_urls_set_in_the_file_win(void)
{
    char *err = NULL;
    struct conf *c = load_graph("own",
        "cloud = usgov\nlogin_url = https://login.example.net\n"
        "graph_url = https://graph.example.net/v1.0\n", &err);

    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_STR(c->c_graph_login_url, "https://login.example.net");
        CHECK_STR(c->c_graph_url, "https://graph.example.net/v1.0");
        /* The scope still follows the cloud unless set too. */
        CHECK_STR(c->c_graph_scope, "https://graph.microsoft.us/.default");
        CHECK(c->c_graph_cloud_notify == 0);
    }
    conf_free(c);
    free(err);
    err = NULL;
    c = load_graph("one", "graph_url = http://127.0.0.1:9/v1.0\n", &err);
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_STR(c->c_graph_login_url, "https://login.microsoftonline.com");
        CHECK_STR(c->c_graph_url, "http://127.0.0.1:9/v1.0");
        CHECK(c->c_graph_cloud_notify == 1);
    }
    conf_free(c);
    free(err);
}

static void
cloud_china_and_unknown_are_refused(void)
{
    char *err = NULL;
    struct conf *c = load_graph("china", "cloud = china\n", &err);

    CHECK(c == NULL);
    CHECK(err != NULL && strstr(err, "graph.cloud china has no presence "
        "API") != NULL);
    free(err);
    err = NULL;
    c = load_graph("mars", "cloud = mars\n", &err);
    CHECK(c == NULL);
    CHECK(err != NULL && strstr(err, "cloud") != NULL);
    free(err);
}

int
main(void)
{
    char cmd[128];

    if (mkdtemp(tmpdir) == NULL)
        return 99;
    log_init("test", 0, LOG_LVL_ERROR);
    setenv("PRESGW_CLIENT_SECRET", "cloud-test-secret", 1);
    TEST_RUN(cloud_names_its_hosts_scope_and_notifications);
    TEST_RUN(cloud_urls_set_in_the_file_win);
    TEST_RUN(cloud_china_and_unknown_are_refused);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 99;
    return test_done();
}
