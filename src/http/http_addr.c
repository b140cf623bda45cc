/*
 * http_addr.c: listen addresses and peer names of the HTTP listener, and
 * client text made safe for the log.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "http/http.h"
#include "http/http_int.h"

/* Longest textual IPv6 address, with room for a zone that we refuse. */
#define HTTP_HOST_MAX  64

/* Splits "host:port" or "[host]:port"; host is copied without brackets. */
static int
http_addr_split(const char *s, char *host, size_t hostlen, long *port,
    int *v6)
{
    const char *colon, *end;

    *v6 = s[0] == '[';
    if (*v6) {
        end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        s++;
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        end = colon;
    }
    if (end == s || (size_t)(end - s) >= hostlen)
        return -1;
    memcpy(host, s, (size_t)(end - s));
    host[end - s] = '\0';
    return parse_long(colon + 1, 0, 65535, port);
}

int
http_listen_parse(const char *s, struct sockaddr_storage *sa,
    socklen_t *len)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
    struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
    char host[HTTP_HOST_MAX];
    long port;
    int v6;

    if (s == NULL || http_addr_split(s, host, sizeof(host), &port, &v6))
        return -1;
    memset(sa, 0, sizeof(*sa));
    if (v6) {
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
            return -1;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return 0;
    }
    if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
        return -1;
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    *len = sizeof(*in4);
    return 0;
}

/* The numeric host and port of sa; -1 when there is none. */
static int
http_addr_name(const struct sockaddr *sa, char *host, size_t hostlen,
    char *serv, size_t servlen)
{
    socklen_t len;

    if (sa == NULL)
        return -1;
    len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
        sizeof(struct sockaddr_in);
    return getnameinfo(sa, len, host, (socklen_t)hostlen, serv,
        (socklen_t)servlen, NI_NUMERICHOST | NI_NUMERICSERV) == 0 ? 0 : -1;
}

void
http_peer_format(const struct sockaddr *sa, char *out, size_t outlen)
{
    char host[HTTP_HOST_MAX], serv[8];

    xstrlcpy(out, "?", outlen);
    if (http_addr_name(sa, host, sizeof(host), serv, sizeof(serv)) != 0)
        return;
    if (sa->sa_family == AF_INET6)
        snprintf(out, outlen, "[%s]:%s", host, serv);
    else
        snprintf(out, outlen, "%s:%s", host, serv);
}

void
http_host_format(const struct sockaddr *sa, char *out, size_t outlen)
{
    char host[HTTP_HOST_MAX], serv[8];

    xstrlcpy(out, "?", outlen);
    if (http_addr_name(sa, host, sizeof(host), serv, sizeof(serv)) == 0)
        xstrlcpy(out, host, outlen);
}

void
http_log_safe(const char *s, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen == 0)
        return;
    for (; s != NULL && *s != '\0' && n + 1 < outlen; s++) {
        unsigned char c = (unsigned char)*s;

        out[n++] = c > ' ' && c < 0x7f && c != '"' && c != '\\' ? c : '_';
    }
    out[n] = '\0';
}
