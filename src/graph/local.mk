# The Microsoft Graph client: src/graph/graph_int.h lists the parts.
libpresgw_a_SOURCES += src/graph/graph.h src/graph/graph_int.h \
	src/graph/graph.c src/graph/graph_http.c src/graph/graph_token.c \
	src/graph/graph_cred.h src/graph/graph_cred.c \
	src/graph/graph_write.c src/graph/graph_batch.c \
	src/graph/graph_queue.c src/graph/graph_poll.c \
	src/graph/graph_rate.c src/graph/graph_outage.c \
	src/graph/graph_persist.c \
	src/graph/graph_acct.h src/graph/graph_acct.c \
	src/graph/graph_accts.c src/graph/graph_subs.c \
	src/graph/graph_subs_int.h src/graph/graph_subs_ops.c \
	src/graph/graph_notify.c src/graph/graph_notify_rich.c \
	src/graph/graph_jwks.c src/graph/graph_replay.c
