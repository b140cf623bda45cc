/*
 * graph_notify_rich.c: rich notifications (graph-api.md 3.6).  Not yet
 * opened here: each one is read like a basic notification.
 */
#include "config.h"

#include <cJSON.h>

#include "graph/graph_subs_int.h"

int
graph_notify_rich(struct graph *g, const cJSON *item)
{
    (void)g;
    (void)item;
    return -1;
}

void
graph_notify_tokens(struct graph *g, const cJSON *root)
{
    (void)g;
    (void)root;
}
