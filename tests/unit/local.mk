# Unit tests, one program per module.
check_PROGRAMS += tests/unit/test_pidf tests/unit/test_mapping
TESTS += tests/unit/test_pidf tests/unit/test_mapping
tests_unit_test_pidf_SOURCES = tests/unit/test_pidf.c tests/unit/testlib.h
tests_unit_test_mapping_SOURCES = tests/unit/test_mapping.c \
	tests/unit/testlib.h
# The HTTP listener's addresses and the health registry.
check_PROGRAMS += tests/unit/test_http
TESTS += tests/unit/test_http
tests_unit_test_http_SOURCES = tests/unit/test_http.c tests/unit/testlib.h
