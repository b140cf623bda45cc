/*
 * gateway.h: presgwd put together: configuration, store, Graph client,
 * presence agent and SIP front on one su_root, with reload and stop.
 */
#ifndef PRESGW_GATEWAY_H
#define PRESGW_GATEWAY_H

struct conf;
struct gateway;

/*
 * Builds every part from conf (which the gateway takes over) and loads
 * the user map.  NULL, after logging why, if any part fails.
 */
struct gateway *gateway_create(struct conf *conf, const char *conf_path);

/* Runs the event loop until a stop has finished.  Returns the exit code. */
int gateway_run(struct gateway *gw);

/* Frees everything; accepts NULL. */
void gateway_destroy(struct gateway *gw);

/* Signal handlers only set these; the loop acts on them. */
void gateway_signal_reload(void);
void gateway_signal_stop(void);

#endif
