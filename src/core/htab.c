/*
 * htab.c: chained hash table with string keys, doubling when the load
 * passes one entry per slot.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"

static size_t
htab_hash(const char *key)
{
    size_t h = 14695981039346656037u;   /* FNV-1a */

    for (; *key != '\0'; key++) {
        h ^= (unsigned char)*key;
        h *= 1099511628211u;
    }
    return h;
}

void
htab_init(struct htab *h)
{
    h->ht_nslots = 64;
    h->ht_slots = xcalloc(h->ht_nslots, sizeof(*h->ht_slots));
    h->ht_count = 0;
}

void
htab_free(struct htab *h)
{
    struct htab_entry *e, *next;
    size_t i;

    for (i = 0; i < h->ht_nslots; i++) {
        for (e = h->ht_slots[i]; e != NULL; e = next) {
            next = e->he_next;
            free(e);
        }
    }
    free(h->ht_slots);
    h->ht_slots = NULL;
    h->ht_nslots = 0;
    h->ht_count = 0;
}

static void
htab_grow(struct htab *h)
{
    size_t n = h->ht_nslots * 2, i;
    struct htab_entry **slots = xcalloc(n, sizeof(*slots));
    struct htab_entry *e, *next;

    for (i = 0; i < h->ht_nslots; i++) {
        for (e = h->ht_slots[i]; e != NULL; e = next) {
            size_t j = htab_hash(e->he_key) & (n - 1);

            next = e->he_next;
            e->he_next = slots[j];
            slots[j] = e;
        }
    }
    free(h->ht_slots);
    h->ht_slots = slots;
    h->ht_nslots = n;
}

void *
htab_get(const struct htab *h, const char *key)
{
    struct htab_entry *e;

    e = h->ht_slots[htab_hash(key) & (h->ht_nslots - 1)];
    for (; e != NULL; e = e->he_next)
        if (strcmp(e->he_key, key) == 0)
            return e->he_val;
    return NULL;
}

void
htab_put(struct htab *h, const char *key, void *val)
{
    size_t i = htab_hash(key) & (h->ht_nslots - 1);
    struct htab_entry *e;

    for (e = h->ht_slots[i]; e != NULL; e = e->he_next) {
        if (strcmp(e->he_key, key) == 0) {
            e->he_key = key;
            e->he_val = val;
            return;
        }
    }
    e = xmalloc(sizeof(*e));
    e->he_key = key;
    e->he_val = val;
    e->he_next = h->ht_slots[i];
    h->ht_slots[i] = e;
    if (++h->ht_count > h->ht_nslots)
        htab_grow(h);
}

void *
htab_del(struct htab *h, const char *key)
{
    struct htab_entry **pp, *e;
    void *val;

    pp = &h->ht_slots[htab_hash(key) & (h->ht_nslots - 1)];
    for (; *pp != NULL; pp = &(*pp)->he_next) {
        if (strcmp((*pp)->he_key, key) == 0) {
            e = *pp;
            val = e->he_val;
            *pp = e->he_next;
            free(e);
            h->ht_count--;
            return val;
        }
    }
    return NULL;
}

void
htab_each(const struct htab *h, void (*fn)(void *arg, void *val), void *arg)
{
    struct htab_entry *e;
    size_t i;

    for (i = 0; i < h->ht_nslots; i++)
        for (e = h->ht_slots[i]; e != NULL; e = e->he_next)
            fn(arg, e->he_val);
}
