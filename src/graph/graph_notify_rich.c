/*
 * graph_notify_rich.c: rich notifications (graph-api.md 3.6).
 *
 * With graph.rich_notifications, subscriptions carry our certificate and
 * each notification carries the presence itself, encrypted to it: no
 * read of Graph follows.  The content is taken only when the batch's
 * validation tokens prove it came from Graph (signed by the platform's
 * keys, for our application, from Graph Change Tracking) and its HMAC
 * holds; one wrong token drops the batch, one wrong signature its item.
 * A batch without tokens, or whose tokens cannot be checked for want of
 * keys, is read as basic notifications: the clientState already vouched
 * for it, and a read of Graph trusts nothing it says.  A copy of an
 * item taken before, or an item under older tokens than the last one
 * taken for its user, is refused (graph_replay.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "graph/graph_subs_int.h"
#include "crypto/crypto.h"

/* graph-api.md 3.6: one token per application and tenant in a batch. */
#define GRAPH_NOTIFY_TOKENS_MAX 16

static const char *
graph_rich_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
graph_notify_rich_key(struct graph_subs *s)
{
    const struct graph_conf *c = &s->s_g->g_conf;
    struct crypto_key *k;
    char *err = NULL;

    if (!c->gc_rich) {
        if (s->s_key != NULL)
            log_info("graph notify-rich off");
        crypto_key_free(s->s_key);
        s->s_key = NULL;
        return;
    }
    k = crypto_key_load(c->gc_notify_cert_file, c->gc_notify_key_file,
        &err);
    if (k == NULL) {
        log_error("graph notify-key-failed reason=\"%s\" note=\"%s\"", err,
            s->s_key != NULL ? "the key loaded before stays" :
            "subscriptions ask for basic notifications");
        free(err);
        return;
    }
    if (s->s_key == NULL || strcmp(crypto_key_thumbprint(s->s_key),
        crypto_key_thumbprint(k)) != 0)
        log_info("graph notify-rich certificate=%s",
            crypto_key_thumbprint(k));
    crypto_key_free(s->s_key);
    s->s_key = k;
}

/* Nonzero when some item of the batch has encrypted content. */
static int
graph_rich_any(const cJSON *root)
{
    const cJSON *item;

    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root,
        "value"))
        if (cJSON_GetObjectItemCaseSensitive(item, "encryptedContent"))
            return 1;
    return 0;
}

static enum graph_tokens
graph_rich_refuse(const char *why, int index)
{
    log_warn("graph notify-refused reason=token token=%d error=\"%s\"",
        index, why);
    return GRAPH_TOKENS_REFUSED;
}

/* Keeps the newest issue time of the batch's tokens. */
static void
graph_rich_iat(const char *jwt, struct graph_notify_batch *nt)
{
    time_t iat, exp;

    if (crypto_jwt_times(jwt, &iat, &exp) == 0 && iat > nt->nt_iat)
        nt->nt_iat = iat;
}

enum graph_tokens
graph_notify_tokens(struct graph *g, const cJSON *root,
    struct graph_notify_batch *nt)
{
    struct graph_subs *s = g->g_subs;
    const cJSON *toks, *t;
    enum graph_jwks_res r;
    char *err;
    int i = 0;

    nt->nt_iat = 0;
    if (s->s_key == NULL)
        return GRAPH_TOKENS_UNCHECKED;      /* nothing will be opened */
    toks = cJSON_GetObjectItemCaseSensitive(root, "validationTokens");
    if (toks == NULL || cJSON_IsNull(toks) || (cJSON_IsArray(toks) &&
        cJSON_GetArraySize(toks) == 0)) {
        if (graph_rich_any(root))
            log_info("graph notify-unverified reason=no-tokens "
                "note=\"read as basic notifications\"");
        return GRAPH_TOKENS_UNCHECKED;
    }
    if (!cJSON_IsArray(toks) ||
        cJSON_GetArraySize(toks) > GRAPH_NOTIFY_TOKENS_MAX)
        return graph_rich_refuse("validationTokens is not an array of "
            "at most 16", 0);
    cJSON_ArrayForEach(t, toks) {
        if (!cJSON_IsString(t))
            return graph_rich_refuse("a token is not a string", i);
        r = graph_jwks_verify(s->s_jwks, t->valuestring,
            clock_now() + s->s_skew, &err);
        if (r == GRAPH_JWKS_BAD)
            graph_rich_refuse(err, i);
        else if (r == GRAPH_JWKS_NOKEYS)
            log_warn("graph notify-unverified reason=keys "
                "note=\"read as basic notifications\"");
        free(err);
        if (r == GRAPH_JWKS_BAD)
            return GRAPH_TOKENS_REFUSED;
        if (r == GRAPH_JWKS_WAIT)
            return GRAPH_TOKENS_WAIT;
        if (r == GRAPH_JWKS_NOKEYS)
            return GRAPH_TOKENS_UNCHECKED;
        graph_rich_iat(t->valuestring, nt);
        i++;
    }
    return GRAPH_TOKENS_OK;
}

/* Nonzero when sb watches user id. */
static int
graph_rich_watched(const struct graph_sub *sb, const char *id)
{
    size_t i;

    for (i = 0; i < sb->sb_n; i++)
        if (strcasecmp(sb->sb_users[i], id) == 0)
            return 1;
    return 0;
}

/* The presence the plaintext holds may be handed on: 0, 1 (incomplete:
 * read the user instead), -1 (refused). */
static int
graph_rich_check(struct graph *g, struct graph_sub *sb, const cJSON *item,
    const cJSON *o, struct graph_notify_batch *nt)
{
    const char *id = graph_rich_str(o, "id");
    const char *named = graph_rich_str(cJSON_GetObjectItemCaseSensitive(
        item, "resourceData"), "id");
    time_t last;

    if (id == NULL || graph_rich_str(o, "availability") == NULL ||
        graph_rich_str(o, "activity") == NULL) {
        log_info("graph notify-rich-fallback reason=incomplete sub=%s",
            sb->sb_id);
        return 1;
    }
    if (!graph_rich_watched(sb, id) ||
        (named != NULL && strcasecmp(named, id) != 0)) {
        graph_notify_refused(nt, "user", "sub=%s", sb->sb_id);
        return -1;
    }

    /* Under older tokens than the last item taken for the user: out of
     * date, or a copy of an item we no longer remember. */
    last = graph_replay_last(g->g_subs->s_replay, id);
    if (nt->nt_iat < last) {
        graph_notify_refused(nt, "stale", "sub=%s user=%s iat=%lld "
            "last=%lld", sb->sb_id, id, (long long)nt->nt_iat,
            (long long)last);
        return -1;
    }
    return 0;
}

/* Hands on the presence the plaintext holds: 0, 1 (incomplete), -1. */
static int
graph_rich_take(struct graph *g, struct graph_sub *sb, const cJSON *item,
    const char *plain, size_t len, struct graph_notify_batch *nt)
{
    cJSON *o = cJSON_ParseWithLength(plain, len);
    const char *id = graph_rich_str(o, "id");
    const char *av = graph_rich_str(o, "availability");
    const char *act = graph_rich_str(o, "activity");
    int rc;

    rc = graph_rich_check(g, sb, item, o, nt);
    if (rc == 0) {
        log_debug("graph notify-rich user=%s availability=%s activity=%s",
            id, av, act);
        graph_replay_taken(g->g_subs->s_replay, id, nt->nt_iat);
        graph_presence(g, id, av, act, graph_rich_str(o, "sequenceNumber"),
            1);
    }
    cJSON_Delete(o);
    return rc;
}

int
graph_notify_rich(struct graph *g, struct graph_sub *sb, const cJSON *item,
    struct graph_notify_batch *nt)
{
    const struct crypto_key *k = g->g_subs->s_key;
    struct graph_replay *r = g->g_subs->s_replay;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(item,
        "encryptedContent");
    const char *cert = graph_rich_str(ec, "encryptionCertificateId");
    char *plain, *err = NULL, digest[CRYPTO_DIGEST_HEX];
    size_t len = 0;
    int rc;

    /* Made before a certificate change: the key is gone. */
    if (k == NULL || cert == NULL ||
        strcmp(cert, crypto_key_thumbprint(k)) != 0) {
        log_info("graph notify-rich-fallback reason=certificate sub=%s",
            sb->sb_id);
        return 1;
    }
    if (crypto_rich_digest(graph_rich_str(ec, "data"), digest) == 0 &&
        graph_replay_seen(r, digest)) {
        graph_notify_refused(nt, "replay", "sub=%s", sb->sb_id);
        return -1;
    }
    plain = crypto_rich_open(k, graph_rich_str(ec, "data"),
        graph_rich_str(ec, "dataKey"), graph_rich_str(ec, "dataSignature"),
        &len, &err);
    if (plain == NULL) {
        if (err != NULL && strcmp(err, "signature mismatch") == 0)
            graph_notify_refused(nt, "signature", "sub=%s error=\"%s\"",
                sb->sb_id, err);
        else
            graph_notify_refused(nt, "content", "sub=%s error=\"%s\"",
                sb->sb_id, err != NULL ? err : "unknown");
        free(err);
        return -1;
    }
    rc = graph_rich_take(g, sb, item, plain, len, nt);
    if (rc == 0)
        graph_replay_note(r, digest);
    explicit_bzero(plain, len);
    free(plain);
    return rc;
}
