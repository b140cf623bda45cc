/*
 * pa_watch.c: the watchers of each user.
 */
#include "config.h"

#include <stdlib.h>

#include "pa/pa_int.h"

struct pa_watcher *
pa_watch_add(struct pa *pa, struct pa_user *u, void *handle)
{
    struct pa_watcher *w = xcalloc(1, sizeof(*w));

    w->w_handle = handle;
    w->w_user = u;
    w->w_next = u->pu_watchers;
    if (u->pu_watchers != NULL)
        u->pu_watchers->w_prev = w;
    u->pu_watchers = w;
    (void)pa;
    return w;
}

void
pa_watch_del(struct pa *pa, struct pa_watcher *w)
{
    (void)pa;
    if (w == NULL)
        return;
    if (w->w_prev != NULL)
        w->w_prev->w_next = w->w_next;
    else
        w->w_user->pu_watchers = w->w_next;
    if (w->w_next != NULL)
        w->w_next->w_prev = w->w_prev;
    free(w);
}

void
pa_watch_state(const struct pa_watcher *w, struct pa_state *st)
{
    pa_user_state(w->w_user, st);
}
