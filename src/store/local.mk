libpresgw_a_SOURCES += src/store/store.h src/store/store.c \
	src/store/store_sqlite.c src/store/usermap.c \
	src/store/listmap.c src/store/store_lines.c
