libpresgw_a_SOURCES += src/pa/pa.h src/pa/pa_int.h src/pa/pa.c \
	src/pa/pa_users.c src/pa/pa_pub.c src/pa/pa_watch.c src/pa/pa_resync.c
