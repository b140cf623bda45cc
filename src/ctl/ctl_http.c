/*
 * ctl_http.c: the one kind of request presgwctl makes, with libcurl's
 * easy interface (presgwctl is allowed to wait).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core.h"
#include "ctl/ctl.h"

#define CTL_RESP_MAX    (1024 * 1024)

static size_t
ctl_http_write(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;

    buf_append(b, data, size * n);
    return b->b_overflow ? 0 : size * n;
}

long
ctl_post_form(const char *url, const char *form, long timeout, char **body)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *e = curl_easy_init();
    CURLcode rc = CURLE_OK;
    struct buf b;
    long status = 0;

    buf_init(&b, CTL_RESP_MAX);
    if (e == NULL) {
        *body = xstrdup("libcurl did not start");
        return 0;
    }
    rc |= curl_easy_setopt(e, CURLOPT_URL, url);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "presgwctl/" PACKAGE_VERSION);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ctl_http_write);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(e);
    if (rc == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    if (rc != CURLE_OK) {
        buf_free(&b);
        *body = xstrdup(errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
        return 0;
    }
    *body = b.b_data != NULL ? buf_steal(&b) : xstrdup("");
    return status;
}
