/*
 * graph_replay.c: what keeps a copy of a rich notification from setting
 * a presence again (graph-api.md 3.6).
 *
 * A validation token proves a batch came from Graph, not when: it stays
 * valid for a day, and it is not bound to the items beside it.  So the
 * content of every item taken is remembered by digest, the last
 * GRAPH_REPLAY_MAX of them, and a copy is refused however it is
 * repacked.  And for each user the newest token issue time of a batch
 * taken is kept: an item that comes under older tokens than the last
 * one taken for its user is out of date, a retry Graph made late or a
 * capture.  docs/known-issues.md says what this leaves open.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "graph/graph_subs_int.h"
#include "crypto/crypto.h"

/* Digests kept; about 100 bytes each. */
#define GRAPH_REPLAY_MAX    8192

/* Room for a user id (a GUID) in lower case. */
#define GRAPH_REPLAY_ID     64

struct graph_replay_item {
    char                            ri_digest[CRYPTO_DIGEST_HEX];
    TAILQ_ENTRY(graph_replay_item)  ri_link;
};

struct graph_replay_user {
    char                    ru_id[GRAPH_REPLAY_ID];
    time_t                  ru_iat;
};

struct graph_replay {
    struct htab                         rp_items;   /* digest -> item */
    TAILQ_HEAD(, graph_replay_item)     rp_lru;     /* oldest first */
    size_t                              rp_n;
    struct htab                         rp_users;   /* id -> user */
};

struct graph_replay *
graph_replay_create(void)
{
    struct graph_replay *r = xcalloc(1, sizeof(*r));

    htab_init(&r->rp_items);
    htab_init(&r->rp_users);
    TAILQ_INIT(&r->rp_lru);
    return r;
}

static void
graph_replay_user_free(void *arg, void *val)
{
    (void)arg;
    free(val);
}

void
graph_replay_free(struct graph_replay *r)
{
    struct graph_replay_item *it;

    if (r == NULL)
        return;
    while ((it = TAILQ_FIRST(&r->rp_lru)) != NULL) {
        TAILQ_REMOVE(&r->rp_lru, it, ri_link);
        free(it);
    }
    htab_free(&r->rp_items);
    htab_each(&r->rp_users, graph_replay_user_free, NULL);
    htab_free(&r->rp_users);
    free(r);
}

int
graph_replay_seen(const struct graph_replay *r, const char *digest)
{
    return htab_get(&r->rp_items, digest) != NULL;
}

void
graph_replay_note(struct graph_replay *r, const char *digest)
{
    struct graph_replay_item *it;

    if (graph_replay_seen(r, digest))
        return;
    if (r->rp_n >= GRAPH_REPLAY_MAX) {
        it = TAILQ_FIRST(&r->rp_lru);
        TAILQ_REMOVE(&r->rp_lru, it, ri_link);
        htab_del(&r->rp_items, it->ri_digest);
        r->rp_n--;
        free(it);
    }
    it = xcalloc(1, sizeof(*it));
    xstrlcpy(it->ri_digest, digest, sizeof(it->ri_digest));
    TAILQ_INSERT_TAIL(&r->rp_lru, it, ri_link);
    htab_put(&r->rp_items, it->ri_digest, it);
    r->rp_n++;
}

/* Graph's ids come in either case; the table is keyed in lower case. */
static void
graph_replay_key(const char *id, char out[GRAPH_REPLAY_ID])
{
    size_t i;

    for (i = 0; id[i] != '\0' && i + 1 < GRAPH_REPLAY_ID; i++)
        out[i] = (char)tolower((unsigned char)id[i]);
    out[i] = '\0';
}

time_t
graph_replay_last(const struct graph_replay *r, const char *user)
{
    const struct graph_replay_user *u;
    char key[GRAPH_REPLAY_ID];

    graph_replay_key(user, key);
    u = htab_get(&r->rp_users, key);
    return u != NULL ? u->ru_iat : 0;
}

void
graph_replay_taken(struct graph_replay *r, const char *user, time_t iat)
{
    struct graph_replay_user *u;
    char key[GRAPH_REPLAY_ID];

    graph_replay_key(user, key);
    u = htab_get(&r->rp_users, key);
    if (u == NULL) {
        u = xcalloc(1, sizeof(*u));
        xstrlcpy(u->ru_id, key, sizeof(u->ru_id));
        htab_put(&r->rp_users, u->ru_id, u);
    }
    if (iat > u->ru_iat)
        u->ru_iat = iat;
}
