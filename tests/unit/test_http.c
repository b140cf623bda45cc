/*
 * test_http.c: the HTTP listener's address parsing and log safety, and
 * the health registry behind /healthz.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core.h"
#include "gateway/health.h"
#include "http/http.h"
#include "http/http_int.h"
#include "testlib.h"

static void
listen_ipv4_with_port(void)
{
    struct sockaddr_storage sa;
    struct sockaddr_in *in = (struct sockaddr_in *)&sa;
    socklen_t len = 0;

    CHECK(http_listen_parse("127.0.0.1:8080", &sa, &len) == 0);
    CHECK(sa.ss_family == AF_INET);
    CHECK(len == sizeof(*in));
    CHECK(ntohs(in->sin_port) == 8080);
    CHECK(ntohl(in->sin_addr.s_addr) == 0x7f000001);
}

static void
listen_ipv6_in_brackets(void)
{
    struct sockaddr_storage sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
    socklen_t len = 0;

    CHECK(http_listen_parse("[::1]:8443", &sa, &len) == 0);
    CHECK(sa.ss_family == AF_INET6);
    CHECK(len == sizeof(*in6));
    CHECK(ntohs(in6->sin6_port) == 8443);
    CHECK(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
}

static void
listen_port_zero_is_taken(void)
{
    struct sockaddr_storage sa;
    socklen_t len;

    CHECK(http_listen_parse("0.0.0.0:0", &sa, &len) == 0);
    CHECK(http_listen_parse("[::]:0", &sa, &len) == 0);
}

static void
listen_malformed_refused(void)
{
    static const char *const bad[] = {
        "", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
        "127.0.0.1:-1", "127.0.0.1:80x", "localhost:80", "::1:80",
        "[::1]", "[::1]80", "[::1:80", "[127.0.0.1]:80", "1.2.3:80",
        "[]:80", ":80",
    };
    struct sockaddr_storage sa;
    socklen_t len;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (http_listen_parse(bad[i], &sa, &len) != -1) {
            fprintf(stderr, "accepted '%s'\n", bad[i]);
            CHECK(0);
        }
    CHECK(http_listen_parse(NULL, &sa, &len) == -1);
}

static void
peer_format_both_families(void)
{
    struct sockaddr_storage sa;
    socklen_t len;
    char out[HTTP_PEER_MAX];

    http_listen_parse("127.0.0.1:40000", &sa, &len);
    http_peer_format((struct sockaddr *)&sa, out, sizeof(out));
    CHECK_STR(out, "127.0.0.1:40000");
    http_listen_parse("[::1]:40001", &sa, &len);
    http_peer_format((struct sockaddr *)&sa, out, sizeof(out));
    CHECK_STR(out, "[::1]:40001");
    http_peer_format(NULL, out, sizeof(out));
    CHECK_STR(out, "?");
}

static void
log_safe_hides_line_breaks_and_quotes(void)
{
    char out[16];

    http_log_safe("/a b\n\"x\\\x01\xff", out, sizeof(out));
    CHECK_STR(out, "/a_b__x___");
    http_log_safe("/0123456789abcdefgh", out, sizeof(out));
    CHECK_STR(out, "/0123456789abcd");
    http_log_safe(NULL, out, sizeof(out));
    CHECK_STR(out, "");
}

static int
check_fixed(void *arg, cJSON *obj)
{
    int *st = arg;

    cJSON_AddNumberToObject(obj, "n", 7);
    return *st;
}

/* The report as parsed JSON; the status string under key, or NULL. */
static const char *
report_field(cJSON *doc, const char *obj, const char *key)
{
    cJSON *o = obj != NULL ? cJSON_GetObjectItemCaseSensitive(doc, obj) :
        doc;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
health_worst_status_wins(void)
{
    struct health *h = health_create();
    int a = HEALTH_OK, b = HEALTH_DEGRADED;
    enum health_status st;
    cJSON *doc, *n;
    char *text;

    health_add(h, "a", check_fixed, &a);
    health_add(h, "b", check_fixed, &b);
    text = health_report(h, &st);
    CHECK(st == HEALTH_DEGRADED);
    doc = cJSON_Parse(text);
    CHECK_STR(report_field(doc, NULL, "status"), "degraded");
    CHECK_STR(report_field(doc, NULL, "version"), PACKAGE_VERSION);
    n = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "b"), "n");
    CHECK(cJSON_IsNumber(n) && n->valuedouble == 7);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "uptime")));
    cJSON_Delete(doc);
    free(text);

    b = 5;      /* out of range counts as failing */
    text = health_report(h, &st);
    CHECK(st == HEALTH_FAILING);
    free(text);
    health_free(h);
}

static void
health_same_name_replaces_and_remove_forgets(void)
{
    struct health *h = health_create();
    int ok = HEALTH_OK, bad = HEALTH_FAILING;
    enum health_status st;
    char *text;

    health_add(h, "x", check_fixed, &bad);
    health_add(h, "x", check_fixed, &ok);
    text = health_report(h, &st);
    CHECK(st == HEALTH_OK);
    free(text);
    health_add(h, "y", check_fixed, &bad);
    health_remove(h, "y");
    health_remove(h, "never-added");
    text = health_report(h, &st);
    CHECK(st == HEALTH_OK);
    CHECK(text != NULL && strstr(text, "\"y\"") == NULL);
    free(text);
    health_free(h);
}

int
main(void)
{
    log_init("test_http", 0, LOG_LVL_ERROR);
    TEST_RUN(listen_ipv4_with_port);
    TEST_RUN(listen_ipv6_in_brackets);
    TEST_RUN(listen_port_zero_is_taken);
    TEST_RUN(listen_malformed_refused);
    TEST_RUN(peer_format_both_families);
    TEST_RUN(log_safe_hides_line_breaks_and_quotes);
    TEST_RUN(health_worst_status_wins);
    TEST_RUN(health_same_name_replaces_and_remove_forgets);
    return test_done();
}
