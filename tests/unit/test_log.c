/*
 * test_log.c: what the log writes: one physical line per entry, each
 * with its time stamp and level, control characters escaped, secrets
 * redacted.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"
#include "testlib.h"

static char logpath[] = "/tmp/presgw-test-log-XXXXXX";
static int logfd = -1;
static int saved_stderr = -1;

/* The log's lines go to the file until log_taken(); CHECK's do not. */
static void
log_capture(void)
{
    fflush(stderr);
    if (ftruncate(logfd, 0) != 0 || lseek(logfd, 0, SEEK_SET) != 0 ||
        dup2(logfd, STDERR_FILENO) < 0)
        abort();
}

/* What the log wrote since log_capture(), NUL-terminated. */
static char *
log_taken(void)
{
    static char text[8192];
    ssize_t n;

    fflush(stderr);
    n = pread(logfd, text, sizeof(text) - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    if (dup2(saved_stderr, STDERR_FILENO) < 0)
        abort();
    return text;
}

/* Lines that do not begin with "YYYY-MM-DDTHH:MM:SSZ LEVEL ". */
static int
log_bad_lines(const char *text)
{
    const char *p = text;
    int bad = 0;

    while (*p != '\0') {
        if (strlen(p) < 22 || p[4] != '-' || p[10] != 'T' ||
            p[19] != 'Z' || p[20] != ' ')
            bad++;
        p = strchr(p, '\n');
        if (p == NULL)
            break;
        p++;
    }
    return bad;
}

static void
log_entry_with_newlines_is_one_line(void)
{
    char *text;

    log_capture();
    log_warn("gateway reload-failed keeping=old-config errors:\n"
        "users.csv:2: bad\nusers.csv:3: worse\n");
    text = log_taken();
    CHECK(strchr(text, '\n') == text + strlen(text) - 1);
    CHECK(log_bad_lines(text) == 0);
    CHECK(strstr(text, " warn gateway reload-failed keeping=old-config"
        " errors:\\nusers.csv:2: bad\\nusers.csv:3: worse\n") != NULL);
}

static void
log_control_characters_are_escaped(void)
{
    char *text;

    log_capture();
    log_info("store open-failed why=\"*** in database main ***\r\n"
        "Page 5\x01\x7f\tend\"");
    text = log_taken();
    CHECK(log_bad_lines(text) == 0);
    CHECK(strstr(text, "why=\"*** in database main ***\\r\\nPage 5"
        "\\x01\\x7f\tend\"\n") != NULL);
}

static void
log_secret_with_newline_is_still_redacted(void)
{
    char *text;

    log_capture();
    log_add_secret("se\ncret");
    log_info("graph token value=se\ncret");
    text = log_taken();
    CHECK(strstr(text, "value=***\n") != NULL);
    CHECK(strstr(text, "cret") == NULL);
    log_clear_secrets();
}

int
main(void)
{
    logfd = mkstemp(logpath);
    saved_stderr = dup(STDERR_FILENO);
    if (logfd < 0 || saved_stderr < 0)
        return 99;
    log_init("test", 0, LOG_LVL_DEBUG);
    TEST_RUN(log_entry_with_newlines_is_one_line);
    TEST_RUN(log_control_characters_are_escaped);
    TEST_RUN(log_secret_with_newline_is_still_redacted);
    unlink(logpath);
    return test_done();
}
