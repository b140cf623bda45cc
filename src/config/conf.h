/*
 * conf.h: the configuration file.  One file of "[section]" headers and
 * "key = value" lines; every key is listed in a table in conf.c and
 * documented in docs/presgwd.conf.5.
 */
#ifndef PRESGW_CONF_H
#define PRESGW_CONF_H

#include <stddef.h>

struct conf {
    /* [sip] */
    char   *c_sip_listen;        /* sip:127.0.0.1:5070 */
    char   *c_sip_domain;        /* the presence domain of the user map */
    char   *c_sip_aliases;       /* other hosts that mean the domain */
    long    c_sip_min_expires;
    long    c_sip_max_expires;
    long    c_sip_max_body;
    long    c_sip_max_pubs_per_user; /* live publications of one user */
    long    c_sip_notify_retries; /* failed NOTIFYs before the end */
    long    c_sip_notify_timeout; /* s a request waits for its answer */
    char   *c_sip_on_stop;       /* "keep" or "terminate" subscriptions */
    /* [graph] */
    char   *c_graph_login_url;
    char   *c_graph_url;
    char   *c_graph_scope;
    char   *c_graph_tenant_id;
    char   *c_graph_client_id;
    char   *c_graph_secret_file;
    char   *c_graph_secret;      /* read from the file or the environment */
    char   *c_graph_cert_file;   /* "": sign in with the secret */
    char   *c_graph_key_file;
    long    c_graph_session_expiry;
    long    c_graph_call_refresh;
    long    c_graph_dnd_expiry;
    long    c_graph_poll_interval;
    long    c_graph_timeout;
    long    c_graph_queue_max;
    long    c_graph_retry_max_delay;
    char   *c_graph_batch;       /* "yes" or "no": $batch for bursts */
    char   *c_graph_call_end;    /* "available" or "clear" */
    char   *c_graph_away_mode;   /* "preferred" or "session" */
    char   *c_graph_cloud;       /* global, usgov, usgovdod, china */
    char   *c_graph_notify_url;  /* public URL Graph posts to; "": none */
    char   *c_graph_notify_path; /* our path for notifications */
    char   *c_graph_lifecycle_path;
    char   *c_graph_lifecycle_url; /* "": notify_url's, with our path */
    long    c_graph_sub_lifetime;
    long    c_graph_reconcile_interval;
    char   *c_graph_rich;        /* "yes" or "no" */
    char   *c_graph_notify_cert_file;
    char   *c_graph_notify_key_file;
    char   *c_graph_jwks_url;
    int     c_graph_cloud_notify; /* the cloud has presence notifications */
    /* [store] */
    char   *c_store_path;
    /* [users] */
    char   *c_users_map;
    char   *c_users_lists;       /* resource lists file; "" for none */
    /* [http] */
    char   *c_http_listen;       /* "127.0.0.1:8443"; "" for none */
    char   *c_http_cert_file;    /* PEM; "" for plain HTTP */
    char   *c_http_key_file;
    long    c_http_max_body;
    long    c_http_max_conns;
    long    c_http_timeout;
    long    c_http_max_conns_per_ip;    /* 0: no limit */
    long    c_http_request_timeout;
    /* [log] */
    char   *c_log_level;
};

/*
 * Reads and checks path.  Relative paths in the file are taken relative
 * to the directory of path.  On success returns a configuration the
 * caller frees with conf_free(); on failure returns NULL and writes every
 * problem found, one per line ("FILE:LINE: message"), into err (a string
 * the caller frees).
 */
struct conf *conf_load(const char *path, char **err);

/* Frees c; accepts NULL. */
void conf_free(struct conf *c);

#endif
