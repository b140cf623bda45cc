# Unit tests of the configuration, the store and the presence agent.
check_PROGRAMS += tests/unit/test_conf tests/unit/test_store \
	tests/unit/test_store_faults tests/unit/test_pa
TESTS += tests/unit/test_conf tests/unit/test_store \
	tests/unit/test_store_faults tests/unit/test_pa
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c tests/unit/testlib.h
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/unit/testlib.h
tests_unit_test_store_faults_SOURCES = tests/unit/test_store_faults.c \
	tests/unit/testlib.h
tests_unit_test_pa_SOURCES = tests/unit/test_pa.c tests/unit/testlib.h
# graph.cloud: national cloud hosts, and which clouds have notifications.
check_PROGRAMS += tests/unit/test_conf_cloud
TESTS += tests/unit/test_conf_cloud
tests_unit_test_conf_cloud_SOURCES = tests/unit/test_conf_cloud.c \
	tests/unit/testlib.h
# The log: one line per entry, escapes, redaction.
check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c tests/unit/testlib.h
