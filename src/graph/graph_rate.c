/*
 * graph_rate.c: what a Graph answer means for the caller, and how long to
 * wait before trying again.
 *
 * Graph's throttling guidance (graph-api.md section 5): after a 429 wait
 * the Retry-After seconds, and without one back off exponentially; a 503
 * may carry Retry-After too.  RFC 9110 section 10.2.3 lets Retry-After be
 * delta-seconds or an HTTP-date.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

/* What each answer means; the first row that covers the status wins. */
static const struct {
    long               rc_lo;
    long               rc_hi;
    enum graph_result  rc_result;
} graph_rate_classes[] = {
    { 0,   0,   GRAPH_RETRY },  /* no answer: network, timeout */
    { 200, 299, GRAPH_OK },     /* done */
    { 401, 401, GRAPH_REAUTH }, /* token expired or revoked */
    { 404, 404, GRAPH_GONE },   /* no such user; clearPresence: no session */
    { 408, 408, GRAPH_RETRY },  /* Graph gave up waiting for us */
    { 429, 429, GRAPH_RETRY },  /* throttled: Retry-After */
    { 501, 501, GRAPH_FAILED }, /* will not be implemented by a retry */
    { 500, 599, GRAPH_RETRY },  /* Graph's trouble; 503 may have Retry-After */
};

static const char *const graph_rate_result_names[] = {
    [GRAPH_OK]     = "ok",
    [GRAPH_RETRY]  = "retry",
    [GRAPH_REAUTH] = "reauth",
    [GRAPH_GONE]   = "gone",
    [GRAPH_FAILED] = "failed",
};

static const char graph_rate_months[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

enum graph_result
graph_rate_classify(long status)
{
    size_t i;

    for (i = 0; i < sizeof(graph_rate_classes) /
        sizeof(graph_rate_classes[0]); i++) {
        if (status >= graph_rate_classes[i].rc_lo &&
            status <= graph_rate_classes[i].rc_hi)
            return graph_rate_classes[i].rc_result;
    }
    return GRAPH_FAILED;
}

const char *
graph_rate_result_name(enum graph_result r)
{
    if ((size_t)r >= sizeof(graph_rate_result_names) /
        sizeof(graph_rate_result_names[0]))
        return "?";
    return graph_rate_result_names[r];
}

/* Reads between min and max digits at *p into *out. */
static int
graph_rate_digits(const char **p, int min, int max, int *out)
{
    int n = 0, v = 0;

    while (n < max && isdigit((unsigned char)(*p)[n])) {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min)
        return -1;
    *p += n;
    *out = v;
    return 0;
}

static int
graph_rate_char(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

/* Reads a month name ("Nov") at *p into 0..11. */
static int
graph_rate_month(const char **p, int *out)
{
    int i;

    for (i = 0; i < 12; i++) {
        if (strncmp(*p, graph_rate_months[i], 3) == 0) {
            *p += 3;
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* Reads "HH:MM:SS". */
static int
graph_rate_clock(const char **p, struct tm *tm)
{
    if (graph_rate_digits(p, 2, 2, &tm->tm_hour) < 0 ||
        graph_rate_char(p, ':') < 0 ||
        graph_rate_digits(p, 2, 2, &tm->tm_min) < 0 ||
        graph_rate_char(p, ':') < 0 ||
        graph_rate_digits(p, 2, 2, &tm->tm_sec) < 0)
        return -1;
    return 0;
}

/* After the day name and ", ": IMF-fixdate "06 Nov 1994 08:49:37 GMT" or
 * the obsolete RFC 850 form "06-Nov-94 08:49:37 GMT". */
static int
graph_rate_fixdate(const char *p, struct tm *tm)
{
    if (graph_rate_digits(&p, 2, 2, &tm->tm_mday) < 0)
        return -1;
    if (*p == '-') {
        p++;
        if (graph_rate_month(&p, &tm->tm_mon) < 0 ||
            graph_rate_char(&p, '-') < 0 ||
            graph_rate_digits(&p, 2, 2, &tm->tm_year) < 0)
            return -1;
        /* RFC 9110 section 5.6.7 asks for a window; this one ends 2069. */
        tm->tm_year += tm->tm_year < 70 ? 100 : 0;
    } else {
        if (graph_rate_char(&p, ' ') < 0 ||
            graph_rate_month(&p, &tm->tm_mon) < 0 ||
            graph_rate_char(&p, ' ') < 0 ||
            graph_rate_digits(&p, 4, 4, &tm->tm_year) < 0)
            return -1;
        tm->tm_year -= 1900;
    }
    if (graph_rate_char(&p, ' ') < 0 || graph_rate_clock(&p, tm) < 0 ||
        strcmp(p, " GMT") != 0)
        return -1;
    return 0;
}

/* After the day name and " ": asctime "Nov  6 08:49:37 1994". */
static int
graph_rate_asctime(const char *p, struct tm *tm)
{
    if (graph_rate_month(&p, &tm->tm_mon) < 0 ||
        graph_rate_char(&p, ' ') < 0)
        return -1;
    if (*p == ' ')
        p++;
    if (graph_rate_digits(&p, 1, 2, &tm->tm_mday) < 0 ||
        graph_rate_char(&p, ' ') < 0 || graph_rate_clock(&p, tm) < 0 ||
        graph_rate_char(&p, ' ') < 0 ||
        graph_rate_digits(&p, 4, 4, &tm->tm_year) < 0 || *p != '\0')
        return -1;
    tm->tm_year -= 1900;
    return 0;
}

/* Parses an HTTP-date (RFC 9110 section 5.6.7, all three forms). */
static int
graph_rate_http_date(const char *s, time_t *out)
{
    struct tm tm;
    const char *p = s;
    int rc;

    memset(&tm, 0, sizeof(tm));
    while (isalpha((unsigned char)*p))
        p++;
    if (p == s)
        return -1;
    if (p[0] == ',' && p[1] == ' ')
        rc = graph_rate_fixdate(p + 2, &tm);
    else if (p[0] == ' ')
        rc = graph_rate_asctime(p + 1, &tm);
    else
        rc = -1;
    if (rc < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    *out = timegm(&tm);
    return *out == (time_t)-1 ? -1 : 0;
}

long
graph_rate_retry_after(const char *value, time_t now)
{
    char text[64];
    size_t len;
    long secs;
    time_t when;

    if (value == NULL)
        return -1;
    while (isspace((unsigned char)*value))
        value++;
    len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    if (len == 0 || len >= sizeof(text))
        return -1;
    memcpy(text, value, len);
    text[len] = '\0';

    if (isdigit((unsigned char)text[0]))
        return parse_long(text, 0, 999999999L, &secs) == 0 ? secs : -1;
    if (graph_rate_http_date(text, &when) < 0)
        return -1;
    return when > now ? (long)(when - now) : 0;
}

int64_t
graph_rate_backoff_cap_ms(unsigned failures, int64_t max_ms, uint32_t rnd)
{
    int64_t base = GRAPH_BACKOFF_FIRST_MS;
    unsigned i;

    if (max_ms <= 0)
        max_ms = GRAPH_BACKOFF_MAX_MS;
    for (i = 1; i < failures && base < max_ms; i++)
        base *= 2;
    if (base > max_ms)
        base = max_ms;

    /* Jitter down, never up, so the cap holds and retries spread out. */
    return base - (int64_t)(rnd % (uint32_t)(base / 5 + 1));
}

int64_t
graph_rate_delay_cap_ms(const char *retry_after, unsigned failures,
    int64_t max_ms, time_t now, uint32_t rnd)
{
    long secs = graph_rate_retry_after(retry_after, now);

    /* "Retry-After: 0" (or a date gone by) would retry in a tight loop;
     * the backoff keeps at least a second between tries. */
    if (secs <= 0)
        return graph_rate_backoff_cap_ms(failures, max_ms, rnd);
    if (secs > GRAPH_RETRY_AFTER_MAX)
        secs = GRAPH_RETRY_AFTER_MAX;
    return (int64_t)secs * 1000;
}

int64_t
graph_rate_backoff_ms(unsigned failures, uint32_t rnd)
{
    return graph_rate_backoff_cap_ms(failures, 0, rnd);
}

int64_t
graph_rate_delay_ms(const char *retry_after, unsigned failures, time_t now,
    uint32_t rnd)
{
    return graph_rate_delay_cap_ms(retry_after, failures, 0, now, rnd);
}
