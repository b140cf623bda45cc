# Unit tests of the dialog-info, as-feature-event and RLMI codecs.
check_PROGRAMS += tests/unit/test_dialoginfo tests/unit/test_afe \
	tests/unit/test_rlmi
TESTS += tests/unit/test_dialoginfo tests/unit/test_afe tests/unit/test_rlmi
tests_unit_test_dialoginfo_SOURCES = tests/unit/test_dialoginfo.c \
	tests/unit/testlib.h
tests_unit_test_afe_SOURCES = tests/unit/test_afe.c tests/unit/testlib.h
tests_unit_test_rlmi_SOURCES = tests/unit/test_rlmi.c tests/unit/testlib.h
