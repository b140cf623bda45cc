/*
 * ctl.h: presgwctl's parts.  presgwctl is a short-lived command, not the
 * daemon: it may wait on the network, and prints to the terminal.
 */
#ifndef PRESGW_CTL_H
#define PRESGW_CTL_H

struct conf;
struct graph_acct_rec;

/*
 * Signs a service account in with the OAuth 2.0 device authorization
 * grant (RFC 8628) against the configured login URL: prints where to go
 * and the code, polls the token endpoint as the answer asks, and fills
 * r (name set by the caller) with the refresh token and who signed in.
 * Returns 0, or -1 after printing why.
 */
int ctl_login(const struct conf *c, struct graph_acct_rec *r);

/* POSTs a form; the answer (malloc'd) in *body, its status returned (0:
 * no answer, with the reason in *body). */
long ctl_post_form(const char *url, const char *form, long timeout,
    char **body);

#endif
