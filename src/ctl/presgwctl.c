/*
 * presgwctl.c: service accounts for Teams change notifications.
 *
 *   presgwctl -c CONF login [NAME]   sign an account in (device code)
 *   presgwctl -c CONF accounts       list accounts and their state
 *   presgwctl -c CONF logout NAME    forget an account
 *
 * With presgwd stopped, presgwctl writes the store itself.  While
 * presgwd runs it holds the store, so presgwctl leaves the change in the
 * account spool and presgwd takes it at SIGHUP or its next start.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core.h"
#include "config/conf.h"
#include "ctl/ctl.h"
#include "graph/graph_acct.h"
#include "store/store.h"

#define DEFAULT_CONF SYSCONFDIR "/presgw/presgwd.conf"

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: presgwctl [-c FILE] login [NAME]\n"
        "       presgwctl [-c FILE] accounts\n"
        "       presgwctl [-c FILE] logout NAME\n"
        "  -c FILE         presgwd's configuration (default %s)\n"
        "  -V, --version   print the version and exit\n"
        "  -h, --help      print this help and exit\n"
        "While presgwd runs it holds the store: login and logout are left\n"
        "for it to take at SIGHUP, and accounts lists only those.\n",
        DEFAULT_CONF);
}

/* Writes r to the store, or to the spool when presgwd holds the store.
 * Prints what happened; 0 or -1. */
static int
save(const struct conf *c, const struct graph_acct_rec *r)
{
    struct store *s;
    char *err = NULL, *text;
    int rc;

    s = store_open(c->c_store_path, &err);
    if (s != NULL) {
        text = graph_acct_encode(r);
        rc = r->ar_logout ?
            store_rec_del(s, GRAPH_ACCT_NS, r->ar_name) :
            store_rec_put(s, GRAPH_ACCT_NS, r->ar_name, text);
        explicit_bzero(text, strlen(text));
        free(text);
        store_close(s);
        if (rc == 0)
            printf("presgwctl: account %s %s in %s\n", r->ar_name,
                r->ar_logout ? "removed" : "saved", c->c_store_path);
        return rc;
    }
    printf("presgwctl: the store is busy (%s)\n", err);
    free(err);
    if (graph_acct_spool_put(c->c_store_path, r, &err) != 0) {
        fprintf(stderr, "presgwctl: cannot spool the account: %s\n", err);
        free(err);
        return -1;
    }
    printf("presgwctl: account %s left for presgwd; send it SIGHUP (or"
        " restart it) to take it\n", r->ar_name);
    return 0;
}

static int
cmd_login(const struct conf *c, const char *name)
{
    struct graph_acct_rec r;
    int rc;

    memset(&r, 0, sizeof(r));
    if (name != NULL && !graph_acct_name_ok(name)) {
        fprintf(stderr, "presgwctl: bad account name '%s' (letters,"
            " digits, '.', '_', '@', '-')\n", name);
        return 1;
    }
    if (ctl_login(c, &r) != 0)
        return 1;
    if (name == NULL && !graph_acct_name_ok(r.ar_upn)) {
        fprintf(stderr, "presgwctl: the sign-in names no user; give the"
            " account a NAME\n");
        graph_acct_clear(&r);
        return 1;
    }
    r.ar_name = xstrdup(name != NULL ? name : r.ar_upn);
    r.ar_state = xstrdup(GRAPH_ACCT_STATE_OK);
    r.ar_reason = xstrdup("");
    r.ar_updated = time(NULL);
    printf("presgwctl: signed in as %s (object id %s)\n",
        r.ar_upn[0] != '\0' ? r.ar_upn : "?",
        r.ar_oid[0] != '\0' ? r.ar_oid : "?");
    rc = save(c, &r);
    graph_acct_clear(&r);
    return rc == 0 ? 0 : 1;
}

/* Whether the account name is in the store or waits in the spool. */
struct known {
    const char     *k_name;
    int             k_found;
};

static void
known_stored(void *arg, const char *key, const char *value)
{
    struct known *k = arg;

    (void)value;
    if (strcmp(key, k->k_name) == 0)
        k->k_found = 1;
}

static void
known_spooled(void *arg, const struct graph_acct_rec *r)
{
    struct known *k = arg;

    /* The spool's last word on a name counts. */
    if (strcmp(r->ar_name, k->k_name) == 0)
        k->k_found = !r->ar_logout;
}

/*
 * 1 when name is an account, 0 when it is not, -1 when only presgwd
 * knows (it holds the store): nothing is changed either way.
 */
static int
account_known(const struct conf *c, const char *name)
{
    struct known k = { name, 0 };
    struct store *s;
    char *err = NULL;

    s = store_open(c->c_store_path, &err);
    if (s == NULL) {
        free(err);
        return -1;
    }
    store_rec_each(s, GRAPH_ACCT_NS, known_stored, &k);
    store_close(s);
    graph_acct_spool_each(c->c_store_path, known_spooled, &k);
    return k.k_found;
}

static int
cmd_logout(const struct conf *c, const char *name)
{
    struct graph_acct_rec r;
    int rc, known;

    if (!graph_acct_name_ok(name)) {
        fprintf(stderr, "presgwctl: bad account name '%s'\n", name);
        return 1;
    }
    known = account_known(c, name);
    if (known == 0) {
        fprintf(stderr, "presgwctl: no account named %s ('presgwctl"
            " accounts' lists them); nothing changed\n", name);
        return 1;
    }
    if (known < 0)
        printf("presgwctl: presgwd holds the store, so whether %s exists"
            " is not known here: the logout is spooled and applies at"
            " SIGHUP if the account exists\n", name);
    memset(&r, 0, sizeof(r));
    r.ar_name = xstrdup(name);
    r.ar_logout = 1;
    r.ar_updated = time(NULL);
    rc = save(c, &r);
    graph_acct_clear(&r);
    return rc == 0 ? 0 : 1;
}

static void
print_rec(const struct graph_acct_rec *r, const char *where)
{
    char when[32] = "-";
    struct tm tm;

    if (r->ar_updated > 0 && gmtime_r(&r->ar_updated, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-24s %-32s %-16s %-20s %s%s%s\n", r->ar_name,
        r->ar_upn[0] != '\0' ? r->ar_upn : "-",
        r->ar_logout ? "logout" : r->ar_state, when, where,
        r->ar_reason[0] != '\0' ? " reason=" : "", r->ar_reason);
}

static void
print_stored(void *arg, const char *key, const char *value)
{
    struct graph_acct_rec r;

    (void)arg;
    if (graph_acct_decode(key, value, &r) != 0) {
        printf("%-24s (unreadable record)\n", key);
        return;
    }
    print_rec(&r, "store");
    graph_acct_clear(&r);
}

static void
print_spooled(void *arg, const struct graph_acct_rec *r)
{
    (void)arg;
    print_rec(r, "pending");
}

static int
cmd_accounts(const struct conf *c)
{
    struct store *s;
    char *err = NULL;

    printf("%-24s %-32s %-16s %-20s %s\n", "NAME", "UPN", "STATE",
        "UPDATED", "WHERE");
    s = store_open(c->c_store_path, &err);
    if (s != NULL) {
        store_rec_each(s, GRAPH_ACCT_NS, print_stored, NULL);
        store_close(s);
    }
    graph_acct_spool_each(c->c_store_path, print_spooled, NULL);
    if (s == NULL) {
        printf("presgwctl: the store is busy (%s); presgwd's /healthz"
            " shows the accounts it has\n", err);
        free(err);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *path = DEFAULT_CONF, *cmd;
    struct conf *c;
    char *err = NULL;
    static const struct option longopts[] = {
        { "help",    no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'V': printf("presgwctl %s\n", PACKAGE_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default:  usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    cmd = argv[optind++];
    log_init("presgwctl", 0, LOG_LVL_WARN);
    c = conf_load(path, &err);
    if (c == NULL) {
        fprintf(stderr, "%spresgwctl: configuration %s has errors\n", err,
            path);
        free(err);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(cmd, "login") == 0 && argc - optind <= 1) {
        rc = cmd_login(c, optind < argc ? argv[optind] : NULL);
    } else if (strcmp(cmd, "logout") == 0 && argc - optind == 1) {
        rc = cmd_logout(c, argv[optind]);
    } else if (strcmp(cmd, "accounts") == 0 && argc == optind) {
        rc = cmd_accounts(c);
    } else {
        usage(stderr);
        rc = 2;
    }
    curl_global_cleanup();
    conf_free(c);
    return rc;
}
