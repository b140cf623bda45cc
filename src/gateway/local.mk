libpresgw_a_SOURCES += src/gateway/gateway.h src/gateway/gateway.c \
	src/gateway/gateway_http.h src/gateway/gateway_http.c \
	src/gateway/health.h src/gateway/health.c
sbin_PROGRAMS += presgwd
presgwd_SOURCES = src/gateway/presgwd.c
presgwd_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
