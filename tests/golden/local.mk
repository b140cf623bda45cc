# Golden tests: real documents from the shared corpus through the codecs.
check_PROGRAMS += tests/golden/golden_pidf
tests_golden_golden_pidf_SOURCES = tests/golden/golden_pidf.c
TESTS += tests/golden/golden_pidf.sh
EXTRA_DIST += tests/golden/golden_pidf.sh tests/golden/pidf-expect.tsv
