# Golden tests: real documents from the shared corpus through the codecs.
check_PROGRAMS += tests/golden/golden_pidf
tests_golden_golden_pidf_SOURCES = tests/golden/golden_pidf.c
TESTS += tests/golden/golden_pidf.sh
EXTRA_DIST += tests/golden/golden_pidf.sh tests/golden/pidf-expect.tsv
# The same for dialog-info, as-feature-event and resource list bodies:
# one program, a wrapper per kind.
check_PROGRAMS += tests/golden/golden_dialog
tests_golden_golden_dialog_SOURCES = tests/golden/golden_dialog.c
TESTS += tests/golden/golden_dialog.sh tests/golden/golden_afe.sh \
	tests/golden/golden_rls.sh
EXTRA_DIST += tests/golden/golden_dialog.sh tests/golden/golden_afe.sh \
	tests/golden/golden_rls.sh tests/golden/dialog-expect.tsv \
	tests/golden/afe-expect.tsv tests/golden/rls-expect.tsv
