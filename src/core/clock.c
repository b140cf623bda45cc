/*
 * clock.c: the one clock of presgw.  Tests move it forward instead of
 * sleeping; the daemon never moves it.
 */
#include "config.h"

#include "core.h"

static long clock_offset;

time_t
clock_now(void)
{
    return time(NULL) + clock_offset;
}

int64_t
clock_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec + clock_offset) * 1000 + ts.tv_nsec / 1000000;
}

void
clock_advance(long seconds)
{
    clock_offset += seconds;
}
