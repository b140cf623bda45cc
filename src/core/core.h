/*
 * core.h: the small services every presgw module uses: logging, the
 * clock, allocation that never returns NULL, and a bounded text buffer.
 *
 * Everything here may be called from the event loop thread only, except
 * log_msg(), which is safe from any thread.
 */
#ifndef PRESGW_CORE_H
#define PRESGW_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Logging.  Lines read "subsystem event key=value ...".  Somebody else's
 * mistake (a bad request, a Graph 429) is info or warn, never error. */
enum log_level {
    LOG_LVL_DEBUG,
    LOG_LVL_INFO,
    LOG_LVL_WARN,
    LOG_LVL_ERROR
};

/* Starts logging to stderr, or to syslog when to_syslog is set.  May be
 * called again (on reload) to change the level. */
void log_init(const char *ident, int to_syslog, enum log_level min);

/* Changes the level only (on reload). */
void log_set_level(enum log_level min);

/* Parses "debug", "info", "warn" or "error"; -1 for anything else. */
int log_level_parse(const char *name);

/* Registers a secret: the log layer prints "***" wherever it would appear.
 * The string is copied.  Secrets shorter than 4 bytes are ignored. */
void log_add_secret(const char *secret);

/* Forgets every registered secret (on reload, before new ones are added). */
void log_clear_secrets(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

/* The clock.  All expiries, refreshes and Retry-After delays read it, so a
 * test can move it with clock_advance(). */
time_t clock_now(void);
int64_t clock_now_ms(void);
void clock_advance(long seconds);

/* Allocation: these abort with a log line when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies at most size-1 bytes and always terminates; returns the length of
 * src so the caller can tell truncation (result >= size). */
size_t xstrlcpy(char *dst, const char *src, size_t size);

/* Parses a whole decimal number in [min, max]; 0 on success, -1 if the
 * text is empty, has trailing junk or is out of range. */
int parse_long(const char *s, long min, long max, long *out);

/* A growing text buffer with a hard maximum.  Appends past the maximum set
 * the overflow flag and are dropped; the text stays terminated. */
struct buf {
    char    *b_data;
    size_t   b_len;
    size_t   b_cap;
    size_t   b_max;
    int      b_overflow;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends s with the five XML special characters escaped. */
void buf_put_xml(struct buf *b, const char *s);

/* Takes the text out of the buffer; the caller frees it. */
char *buf_steal(struct buf *b);

/*
 * A hash table from strings to pointers.  Keys are not copied: each key
 * must live as long as its entry (it is usually a field of the value).
 */
struct htab_entry {
    const char          *he_key;
    void                *he_val;
    struct htab_entry   *he_next;
};

struct htab {
    struct htab_entry  **ht_slots;
    size_t               ht_nslots;
    size_t               ht_count;
};

void htab_init(struct htab *h);
void htab_free(struct htab *h);
void *htab_get(const struct htab *h, const char *key);

/* Adds or replaces the value under key. */
void htab_put(struct htab *h, const char *key, void *val);

/* Removes key; returns its value or NULL. */
void *htab_del(struct htab *h, const char *key);

/* Calls fn for every entry; fn must not change the table. */
void htab_each(const struct htab *h, void (*fn)(void *arg, void *val),
    void *arg);

#endif
