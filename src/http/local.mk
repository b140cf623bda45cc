libpresgw_a_SOURCES += src/http/http.h src/http/http_int.h \
	src/http/http.c src/http/http_req.c src/http/http_addr.c \
	src/http/http_conn.c
