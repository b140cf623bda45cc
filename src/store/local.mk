libpresgw_a_SOURCES += src/store/store.h src/store/store.c \
	src/store/store_int.h src/store/store_health.c \
	src/store/store_sqlite.h src/store/store_sqlite.c \
	src/store/store_sqlite_open.c src/store/store_sqlite_file.c \
	src/store/usermap.c \
	src/store/listmap.c src/store/store_lines.c
