/*
 * test_graph_rate.c: how Graph answers are taken, Retry-After parsing and
 * the backoff.
 */
#include "config.h"

#include <string.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

#include "testlib.h"

/* RFC 9110 section 5.6.7's example date: Sun, 06 Nov 1994 08:49:37 GMT. */
#define EXAMPLE_DATE ((time_t)784111777)

static void
retry_after_takes_seconds(void)
{
    CHECK(graph_rate_retry_after("2", 0) == 2);
    CHECK(graph_rate_retry_after("0", 0) == 0);
    CHECK(graph_rate_retry_after(" 120 ", 0) == 120);
    CHECK(graph_rate_retry_after("315", EXAMPLE_DATE) == 315);
}

static void
retry_after_takes_imf_fixdate(void)
{
    CHECK(graph_rate_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
        EXAMPLE_DATE - 5) == 5);
    CHECK(graph_rate_retry_after("Sun, 06 Nov 1994 08:50:37 GMT",
        EXAMPLE_DATE) == 60);
}

static void
retry_after_takes_obsolete_dates(void)
{
    CHECK(graph_rate_retry_after("Sunday, 06-Nov-94 08:49:37 GMT",
        EXAMPLE_DATE - 7) == 7);
    CHECK(graph_rate_retry_after("Sun Nov  6 08:49:37 1994",
        EXAMPLE_DATE - 9) == 9);
}

static void
retry_after_in_the_past_is_zero(void)
{
    CHECK(graph_rate_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
        EXAMPLE_DATE + 100) == 0);
}

static void
retry_after_rejects_junk(void)
{
    CHECK(graph_rate_retry_after(NULL, 0) == -1);
    CHECK(graph_rate_retry_after("", 0) == -1);
    CHECK(graph_rate_retry_after("   ", 0) == -1);
    CHECK(graph_rate_retry_after("soon", 0) == -1);
    CHECK(graph_rate_retry_after("-1", 0) == -1);
    CHECK(graph_rate_retry_after("2s", 0) == -1);
    CHECK(graph_rate_retry_after("1.5", 0) == -1);
    CHECK(graph_rate_retry_after("99999999999999999999", 0) == -1);
    CHECK(graph_rate_retry_after("Sun, 06 Nov 1994 08:49:37", 0) == -1);
    CHECK(graph_rate_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 0) == -1);
    CHECK(graph_rate_retry_after("Sun, 36 Nov 1994 08:49:37 GMT", 0) == -1);
    CHECK(graph_rate_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", 0) == -1);
    CHECK(graph_rate_retry_after("Sun, 06 Nov 1994 08:49:37 GMT x", 0) ==
        -1);
}

static void
backoff_doubles_up_to_a_minute(void)
{
    static const int64_t want[] = {
        1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000
    };
    unsigned i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK(graph_rate_backoff_ms(i + 1, 0) == want[i]);
    CHECK(graph_rate_backoff_ms(1000, 0) == 60000);
}

static void
backoff_cap_follows_retry_max_delay(void)
{
    CHECK(graph_rate_backoff_cap_ms(1, 5000, 0) == 1000);
    CHECK(graph_rate_backoff_cap_ms(3, 5000, 0) == 4000);
    CHECK(graph_rate_backoff_cap_ms(4, 5000, 0) == 5000);
    CHECK(graph_rate_backoff_cap_ms(100, 5000, 0) == 5000);
    CHECK(graph_rate_backoff_cap_ms(100, 300000, 0) == 300000);
    CHECK(graph_rate_delay_cap_ms(NULL, 9, 2000, 0, 0) == 2000);
}

static void
backoff_jitter_stays_within_a_fifth_below(void)
{
    uint32_t rnd;
    unsigned f;
    int64_t base, d;

    for (f = 1; f <= 8; f++) {
        base = graph_rate_backoff_ms(f, 0);
        for (rnd = 0; rnd < 100000; rnd += 997) {
            d = graph_rate_backoff_ms(f, rnd * 2654435761u);
            CHECK(d <= base && d >= base - base / 5);
        }
    }
}

static void
delay_prefers_retry_after(void)
{
    CHECK(graph_rate_delay_ms("2", 1, 0, 0) == 2000);
    /* Zero would retry in a tight loop: the backoff stands in. */
    CHECK(graph_rate_delay_ms("0", 3, 0, 0) == 4000);
    CHECK(graph_rate_delay_ms(NULL, 3, 0, 0) == 4000);
    CHECK(graph_rate_delay_ms("later", 2, 0, 0) == 2000);
    CHECK(graph_rate_delay_ms("86400", 1, 0, 0) ==
        (int64_t)GRAPH_RETRY_AFTER_MAX * 1000);
}

static void
statuses_map_to_results(void)
{
    CHECK(graph_rate_classify(200) == GRAPH_OK);
    CHECK(graph_rate_classify(204) == GRAPH_OK);
    CHECK(graph_rate_classify(0) == GRAPH_RETRY);
    CHECK(graph_rate_classify(429) == GRAPH_RETRY);
    CHECK(graph_rate_classify(500) == GRAPH_RETRY);
    CHECK(graph_rate_classify(503) == GRAPH_RETRY);
    CHECK(graph_rate_classify(504) == GRAPH_RETRY);
    CHECK(graph_rate_classify(401) == GRAPH_REAUTH);
    CHECK(graph_rate_classify(404) == GRAPH_GONE);
    CHECK(graph_rate_classify(400) == GRAPH_FAILED);
    CHECK(graph_rate_classify(403) == GRAPH_FAILED);
    CHECK(graph_rate_classify(501) == GRAPH_FAILED);
    CHECK(graph_rate_classify(302) == GRAPH_FAILED);
    CHECK_STR(graph_rate_result_name(GRAPH_REAUTH), "reauth");
}

static void
duration_is_iso8601(void)
{
    char d[48];

    graph_write_duration(d, sizeof(d), 300);
    CHECK_STR(d, "PT5M");
    graph_write_duration(d, sizeof(d), 14400);
    CHECK_STR(d, "PT4H");
    graph_write_duration(d, sizeof(d), 5430);
    CHECK_STR(d, "PT1H30M30S");
    graph_write_duration(d, sizeof(d), 86400);
    CHECK_STR(d, "P1D");
    graph_write_duration(d, sizeof(d), 90000);
    CHECK_STR(d, "P1DT1H");
    graph_write_duration(d, sizeof(d), 0);
    CHECK_STR(d, "PT0S");
}

static void
delay_is_formatted_for_logs(void)
{
    char b[32];

    CHECK_STR(graph_fmt_delay(b, sizeof(b), 2000), "2s");
    CHECK_STR(graph_fmt_delay(b, sizeof(b), 1750), "1.750s");
    CHECK_STR(graph_fmt_delay(b, sizeof(b), 0), "0s");
}

int
main(void)
{
    TEST_RUN(retry_after_takes_seconds);
    TEST_RUN(retry_after_takes_imf_fixdate);
    TEST_RUN(retry_after_takes_obsolete_dates);
    TEST_RUN(retry_after_in_the_past_is_zero);
    TEST_RUN(retry_after_rejects_junk);
    TEST_RUN(backoff_doubles_up_to_a_minute);
    TEST_RUN(backoff_cap_follows_retry_max_delay);
    TEST_RUN(backoff_jitter_stays_within_a_fifth_below);
    TEST_RUN(delay_prefers_retry_after);
    TEST_RUN(statuses_map_to_results);
    TEST_RUN(duration_is_iso8601);
    TEST_RUN(delay_is_formatted_for_logs);
    return test_done();
}
