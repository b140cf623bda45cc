/*
 * graph_outage.c: Graph (or the way to it) is down.
 *
 * Without this, every user's write would fail, back off on its own and
 * come back on its own clock: thousands of users mean a steady stream of
 * requests at a Graph that cannot answer them, and a line in the log for
 * each.  Instead the first such failure starts an outage; from then on
 * one write at a time goes out, as a probe, after a backoff that grows
 * with every failed probe (Retry-After wins when Graph sends one).  The
 * queue holds and keeps coalescing.  The first answer that is not such a
 * failure ends the outage, and the whole queue drains.
 */
#include "config.h"

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

int64_t
graph_outage_fail(struct graph_outage *o, int64_t now,
    const char *retry_after, int64_t max_ms, uint32_t rnd, int was_probe,
    const char *why)
{
    char after[32];
    int64_t delay;

    if (o->go_down && !was_probe) {
        /* Sent before the outage began: it waits for the probe's turn. */
        return o->go_probe_at > now ? o->go_probe_at : now;
    }
    o->go_probes++;
    delay = graph_rate_delay_cap_ms(retry_after, o->go_probes, max_ms,
        (time_t)(now / 1000), rnd);
    o->go_probe_at = now + delay;
    if (!o->go_down) {
        o->go_down = 1;
        o->go_since = now;
        graph_fmt_delay(after, sizeof(after), delay);
        log_warn("graph outage-start reason=%s probe-after=%s", why, after);
    }
    return o->go_probe_at;
}

void
graph_outage_over(struct graph_outage *o, int64_t now, size_t pending)
{
    char took[32];

    if (!o->go_down)
        return;
    graph_fmt_delay(took, sizeof(took), now - o->go_since);
    log_info("graph outage-end pending=%zu duration=%s probes=%u", pending,
        took, o->go_probes);
    o->go_down = 0;
    o->go_probes = 0;
    o->go_probe_at = 0;
}

int
graph_outage_gate(const struct graph_outage *o, int64_t now,
    unsigned inflight)
{
    if (!o->go_down)
        return 1;
    return inflight == 0 && now >= o->go_probe_at;
}

int
graph_outage_down(const struct graph_outage *o, int64_t *since_ms,
    unsigned *probes)
{
    if (!o->go_down)
        return 0;
    *since_ms = o->go_since;
    *probes = o->go_probes;
    return 1;
}

void
graph_outage_restore(struct graph_outage *o, int64_t now, unsigned probes,
    int64_t probe_at, size_t pending)
{
    o->go_down = 1;
    o->go_since = now;
    o->go_probes = probes;
    o->go_probe_at = probe_at;
    log_warn("graph outage-start reason=restored pending=%zu", pending);
}
