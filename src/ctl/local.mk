# presgwctl: service accounts for Teams change notifications.
sbin_PROGRAMS += presgwctl
presgwctl_SOURCES = src/ctl/ctl.h src/ctl/presgwctl.c src/ctl/ctl_login.c \
	src/ctl/ctl_http.c
presgwctl_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
