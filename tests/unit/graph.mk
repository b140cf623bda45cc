# Unit tests of the Graph client (src/graph): the write queue and the
# retry rules, without any network.
check_PROGRAMS += tests/unit/test_graph_queue tests/unit/test_graph_rate
TESTS += tests/unit/test_graph_queue tests/unit/test_graph_rate
tests_unit_test_graph_queue_SOURCES = tests/unit/test_graph_queue.c \
	tests/unit/testlib.h
tests_unit_test_graph_rate_SOURCES = tests/unit/test_graph_rate.c \
	tests/unit/testlib.h
# Which writes share a $batch, its body and its answer.
check_PROGRAMS += tests/unit/test_graph_batch
TESTS += tests/unit/test_graph_batch
tests_unit_test_graph_batch_SOURCES = tests/unit/test_graph_batch.c \
	tests/unit/testlib.h
# The queue kept in a real store file, and the outage state.
check_PROGRAMS += tests/unit/test_graph_persist
TESTS += tests/unit/test_graph_persist
tests_unit_test_graph_persist_SOURCES = tests/unit/test_graph_persist.c \
	tests/unit/testlib.h
check_PROGRAMS += tests/unit/test_graph_acct
TESTS += tests/unit/test_graph_acct
tests_unit_test_graph_acct_SOURCES = tests/unit/test_graph_acct.c \
	tests/unit/testlib.h
# Writes that got no answer, and the state written once more after them.
check_PROGRAMS += tests/unit/test_graph_late
TESTS += tests/unit/test_graph_late
tests_unit_test_graph_late_SOURCES = tests/unit/test_graph_late.c \
	tests/unit/testlib.h
