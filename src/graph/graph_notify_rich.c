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
 * for it, and a read of Graph trusts nothing it says.
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

enum graph_tokens
graph_notify_tokens(struct graph *g, const cJSON *root)
{
    struct graph_subs *s = g->g_subs;
    const cJSON *toks, *t;
    enum graph_jwks_res r;
    char *err;
    int i = 0;

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

/* Hands on the presence the plaintext holds: 0, 1 (incomplete), -1. */
static int
graph_rich_take(struct graph *g, struct graph_sub *sb, const cJSON *item,
    const char *plain, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(plain, len);
    const char *id = graph_rich_str(o, "id");
    const char *av = graph_rich_str(o, "availability");
    const char *act = graph_rich_str(o, "activity");
    const char *named = graph_rich_str(cJSON_GetObjectItemCaseSensitive(
        item, "resourceData"), "id");
    int rc = 0;

    if (id == NULL || av == NULL || act == NULL) {
        log_info("graph notify-rich-fallback reason=incomplete sub=%s",
            sb->sb_id);
        rc = 1;
    } else if (!graph_rich_watched(sb, id) ||
        (named != NULL && strcasecmp(named, id) != 0)) {
        log_warn("graph notify-refused reason=user sub=%s", sb->sb_id);
        rc = -1;
    } else {
        log_debug("graph notify-rich user=%s availability=%s activity=%s",
            id, av, act);
        graph_presence(g, id, av, act, graph_rich_str(o, "sequenceNumber"),
            1);
    }
    cJSON_Delete(o);
    return rc;
}

int
graph_notify_rich(struct graph *g, struct graph_sub *sb, const cJSON *item)
{
    const struct crypto_key *k = g->g_subs->s_key;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(item,
        "encryptedContent");
    const char *cert = graph_rich_str(ec, "encryptionCertificateId");
    const char *why;
    char *plain, *err = NULL;
    size_t len = 0;
    int rc;

    /* Made before a certificate change: the key is gone. */
    if (k == NULL || cert == NULL ||
        strcmp(cert, crypto_key_thumbprint(k)) != 0) {
        log_info("graph notify-rich-fallback reason=certificate sub=%s",
            sb->sb_id);
        return 1;
    }
    plain = crypto_rich_open(k, graph_rich_str(ec, "data"),
        graph_rich_str(ec, "dataKey"), graph_rich_str(ec, "dataSignature"),
        &len, &err);
    if (plain == NULL) {
        why = err != NULL ? err : "unknown";
        log_warn("graph notify-refused reason=%s sub=%s error=\"%s\"",
            strcmp(why, "signature mismatch") == 0 ? "signature" :
            "content", sb->sb_id, why);
        free(err);
        return -1;
    }
    rc = graph_rich_take(g, sb, item, plain, len);
    explicit_bzero(plain, len);
    free(plain);
    return rc;
}
