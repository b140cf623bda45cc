libpresgw_a_SOURCES += src/core/core.h src/core/log.c src/core/xmem.c \
	src/core/clock.c src/core/buf.c src/core/htab.c
