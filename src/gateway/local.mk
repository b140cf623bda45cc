sbin_PROGRAMS += presgwd
presgwd_SOURCES = src/gateway/presgwd.c
