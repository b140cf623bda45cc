/*
 * store.c: dispatch to the store backend.  Every backend's struct store
 * begins with the common head of store_int.h, so this file needs no more
 * of it.
 */
#include "config.h"

#include <stdlib.h>

#include "core.h"
#include "store/store_int.h"

struct store *
store_open(const char *path, char **err)
{
    struct store *s = store_sqlite_ops.so_open(path, err);

    if (s != NULL)
        s->s_path = xstrdup(path);
    return s;
}

int
store_check(const char *path, char **err)
{
    return store_sqlite_ops.so_check(path, err);
}

void
store_close(struct store *s)
{
    char *path;

    if (s == NULL)
        return;
    path = s->s_path;
    store_health_free(s);
    s->s_ops->so_close(s);
    free(path);
}

int
store_users_replace(struct store *s, const struct store_user *u, size_t n)
{
    return s->s_ops->so_users_replace(s, u, n);
}

int
store_users_each(struct store *s, store_user_cb *cb, void *arg)
{
    return s->s_ops->so_users_each(s, cb, arg);
}

int
store_pub_put(struct store *s, const struct store_pub *p)
{
    return s->s_ops->so_pub_put(s, p);
}

int
store_pub_del(struct store *s, const char *etag)
{
    return s->s_ops->so_pub_del(s, etag);
}

int
store_pub_each(struct store *s, store_pub_cb *cb, void *arg)
{
    return s->s_ops->so_pub_each(s, cb, arg);
}

int
store_teams_put(struct store *s, const struct store_teams *t)
{
    return s->s_ops->so_teams_put(s, t);
}

int
store_teams_each(struct store *s, store_teams_cb *cb, void *arg)
{
    return s->s_ops->so_teams_each(s, cb, arg);
}

int
store_graph_put(struct store *s, const struct store_graph *g)
{
    return s->s_ops->so_graph_put(s, g);
}

int
store_graph_each(struct store *s, store_graph_cb *cb, void *arg)
{
    return s->s_ops->so_graph_each(s, cb, arg);
}

int
store_rec_put(struct store *s, const char *ns, const char *key,
    const char *value)
{
    return s->s_ops->so_rec_put(s, ns, key, value);
}

int
store_rec_del(struct store *s, const char *ns, const char *key)
{
    return s->s_ops->so_rec_del(s, ns, key);
}

int
store_rec_each(struct store *s, const char *ns, store_rec_cb *cb, void *arg)
{
    return s->s_ops->so_rec_each(s, ns, cb, arg);
}

int
store_begin(struct store *s)
{
    return s->s_ops->so_begin(s);
}

int
store_commit(struct store *s)
{
    return s->s_ops->so_commit(s);
}

int
store_rollback(struct store *s)
{
    return s->s_ops->so_rollback(s);
}

int
store_clear(struct store *s, enum store_table t)
{
    return s->s_ops->so_clear(s, t);
}

int
store_rec_clear(struct store *s, const char *ns)
{
    return s->s_ops->so_rec_clear(s, ns);
}
