/*
 * graph_subs.c: change notification subscriptions (placeholder).
 */
#include "config.h"

#include <stdlib.h>

#include "graph/graph_int.h"

struct graph_subs {
    int s_unused;
};

struct graph_subs *
graph_subs_create(struct graph *g)
{
    (void)g;
    return xcalloc(1, sizeof(struct graph_subs));
}

void
graph_subs_free(struct graph_subs *s)
{
    free(s);
}

void
graph_subs_kick(struct graph *g)
{
    (void)g;
}

void
graph_subs_watch(struct graph *g, const char *const *ids, size_t n)
{
    (void)g;
    (void)ids;
    (void)n;
}

void
graph_subs_reconfigure(struct graph *g)
{
    (void)g;
}

int
graph_subs_active(const struct graph *g)
{
    (void)g;
    return 0;
}
