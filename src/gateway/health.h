/*
 * health.h: what /healthz reports.  Each part of presgwd that can tell
 * how it is doing registers a check under a name; a report calls every
 * check, puts what each wrote under its name, and takes the worst status
 * as the whole daemon's.
 *
 * Event loop thread only.
 */
#ifndef PRESGW_HEALTH_H
#define PRESGW_HEALTH_H

#include <cJSON.h>

enum health_status {
    HEALTH_OK,              /* serving as configured */
    HEALTH_DEGRADED,        /* serving, with a problem worth a look */
    HEALTH_FAILING          /* not doing its job; /healthz answers 503 */
};

/*
 * A check: adds its figures to obj (an empty JSON object that the
 * registry owns) and returns a health_status.
 */
typedef int health_fn(void *arg, cJSON *obj);

struct health;

/* An empty registry; started (for the uptime) now. */
struct health *health_create(void);

/* Frees h; accepts NULL.  The checks' args are their owners'. */
void health_free(struct health *h);

/*
 * Registers fn under name (copied); a name already there gets the new
 * check in its place.  Checks are reported in the order first added.
 */
void health_add(struct health *h, const char *name, health_fn *fn,
    void *arg);

/* Forgets the check under name, if any; its owner calls it when it goes. */
void health_remove(struct health *h, const char *name);

/*
 * Runs every check: returns the JSON text of the report (the caller
 * frees it) and puts the worst status in *status.
 */
char *health_report(struct health *h, enum health_status *status);

/* "ok", "degraded" or "failing". */
const char *health_name(enum health_status st);

#endif
