/*
 * presgwd.c: the command line, daemon start-up and signals.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "config/conf.h"
#include "gateway/gateway.h"
#include "store/store.h"

#define DEFAULT_CONF SYSCONFDIR "/presgw/presgwd.conf"

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: presgwd [-fnhV] [-c FILE] [-p PIDFILE]\n"
        "  -c FILE     configuration file (default %s)\n"
        "  -f          stay in the foreground, log to stderr\n"
        "  -n          check the configuration, the user map and the store,\n"
        "              then exit\n"
        "  -p PIDFILE  write the process id to PIDFILE\n"
        "  -V          print the version and exit\n"
        "  -h          print this help and exit\n", DEFAULT_CONF);
}

/* True if aor is one of the n users. */
static int
user_known(const struct store_user *rows, size_t n, const char *aor)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(rows[i].su_aor, aor) == 0)
            return 1;
    return 0;
}

/* -n: the resource lists, and that each member is a user. */
static int
check_lists(const struct conf *c, const struct store_user *rows, size_t n)
{
    struct store_list *l;
    size_t nl, i, j;
    char *err = NULL;
    int bad = 0;

    if (c->c_users_lists[0] == '\0')
        return 0;
    if (listmap_read(c->c_users_lists, c->c_sip_domain, &l, &nl,
        &err) != 0) {
        fprintf(stderr, "%s\npresgwd: lists %s have errors\n", err,
            c->c_users_lists);
        free(err);
        return 1;
    }
    for (i = 0; i < nl; i++) {
        if (user_known(rows, n, l[i].sl_uri)) {
            fprintf(stderr, "%s: list %s is also a user\n",
                c->c_users_lists, l[i].sl_uri);
            bad = 1;
        }
        for (j = 0; j < l[i].sl_n; j++)
            if (!user_known(rows, n, l[i].sl_members[j]))
                fprintf(stderr, "%s: warning: list %s: %s is not in the"
                    " user map and is left out\n", c->c_users_lists,
                    l[i].sl_uri, l[i].sl_members[j]);
    }
    listmap_free(l, nl);
    return bad;
}

/* -n: the store as presgwd would find it at start, left as it is. */
static int
check_store(const struct conf *c)
{
    char *err = NULL;

    if (store_check(c->c_store_path, &err) == 0)
        return 0;
    fprintf(stderr, "presgwd: %s\n", err);
    free(err);
    return 1;
}

/*
 * -n: the configuration, the user map and the store, checked without
 * side effects.
 */
static int
check_config(const char *path)
{
    struct store_user *rows;
    struct conf *c;
    char *err = NULL;
    size_t n;
    int rc;

    c = conf_load(path, &err);
    if (c == NULL) {
        fprintf(stderr, "%spresgwd: configuration %s has errors\n", err,
            path);
        free(err);
        return 1;
    }
    if (usermap_read(c->c_users_map, c->c_sip_domain, &rows, &n,
        &err) != 0) {
        fprintf(stderr, "%s\npresgwd: user map %s has errors\n", err,
            c->c_users_map);
        free(err);
        conf_free(c);
        return 1;
    }
    rc = check_lists(c, rows, n);
    if (check_store(c) != 0)
        rc = 1;
    if (rc == 0)
        printf("presgwd: configuration %s is valid (%zu users in %s)\n",
            path, n, c->c_users_map);
    usermap_free(rows, n);
    conf_free(c);
    return rc;
}

static void
on_signal(int sig)
{
    if (sig == SIGHUP)
        gateway_signal_reload();
    else
        gateway_signal_stop();
}

static void
signals_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Detaches from the terminal.  The parent waits until the daemon says it
 * has started (or not) through a pipe, so the command's exit status
 * tells whether presgwd runs.  Returns the pipe's write end to the
 * daemon, or -1.
 */
static int
daemonize(void)
{
    int fds[2], fd;
    char ok = '1';
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(fds[1]);
        if (read(fds[0], &ok, 1) != 1 || ok != '0') {
            fprintf(stderr, "presgwd: not started; see the system log\n");
            _exit(1);
        }
        _exit(0);
    }
    close(fds[0]);
    if (setsid() < 0 || chdir("/") != 0)
        return -1;
    fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return -1;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
    return fds[1];
}

/* Tells the waiting parent how the start went; fd -1: no parent. */
static void
daemon_ready(int fd, int ok)
{
    char c = ok ? '0' : '1';

    if (fd < 0)
        return;
    if (write(fd, &c, 1) != 1)
        log_warn("presgwd ready-pipe-failed");
    close(fd);
}

/* An absolute form of a file name, for a daemon that works from "/". */
static char *
absolute(const char *path)
{
    char cwd[4096];

    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return xstrdup(path);
    return xasprintf("%s/%s", cwd, path);
}

static int
write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "w");

    if (fp == NULL) {
        log_error("presgwd pidfile-failed path=%s error=\"%s\"", path,
            strerror(errno));
        return -1;
    }
    fprintf(fp, "%ld\n", (long)getpid());
    fclose(fp);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *path = DEFAULT_CONF, *pidfile = NULL;
    char *abspath, *abspid = NULL;
    int foreground = 0, check = 0, ch, rc, ready = -1;
    struct gateway *gw;
    struct conf *c;
    char *err = NULL;

    while ((ch = getopt(argc, argv, "c:fnp:hV")) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'f': foreground = 1; break;
        case 'n': check = 1; break;
        case 'p': pidfile = optarg; break;
        case 'V': printf("presgwd %s\n", PACKAGE_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default:  usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (check)
        return check_config(path);

    abspath = absolute(path);
    c = conf_load(abspath, &err);
    if (c == NULL) {
        fprintf(stderr, "%spresgwd: not started\n", err);
        free(err);
        free(abspath);
        return 1;
    }
    log_init("presgwd", !foreground,
        (enum log_level)log_level_parse(c->c_log_level));
    if (pidfile != NULL)
        abspid = absolute(pidfile);
    if (!foreground) {
        ready = daemonize();
        if (ready < 0) {
            log_error("presgwd daemonize-failed error=\"%s\"",
                strerror(errno));
            conf_free(c);
            return 1;
        }
    }
    signals_init();
    gw = gateway_create(c, abspath);
    if (gw != NULL && abspid != NULL && write_pidfile(abspid) != 0) {
        gateway_destroy(gw);
        gw = NULL;
    }
    daemon_ready(ready, gw != NULL);
    rc = 1;
    if (gw != NULL) {
        rc = gateway_run(gw);
        gateway_destroy(gw);
        if (abspid != NULL)
            unlink(abspid);
    }
    free(abspid);
    free(abspath);
    return rc;
}
