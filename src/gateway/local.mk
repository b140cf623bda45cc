libpresgw_a_SOURCES += src/gateway/gateway.h src/gateway/gateway.c
sbin_PROGRAMS += presgwd
presgwd_SOURCES = src/gateway/presgwd.c
presgwd_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
