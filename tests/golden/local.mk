# Golden tests: real documents from the shared corpus through the codecs.
# golden.c walks the corpus and compares for both programs;
# golden_corpus.sh finds the corpus for every wrapper.
check_PROGRAMS += tests/golden/golden_pidf
tests_golden_golden_pidf_SOURCES = tests/golden/golden_pidf.c \
	tests/golden/golden.c tests/golden/golden.h
TESTS += tests/golden/golden_pidf.sh
EXTRA_DIST += tests/golden/golden_pidf.sh tests/golden/pidf-expect.tsv \
	tests/golden/golden_corpus.sh
# The same for dialog-info, as-feature-event and resource list bodies:
# one program, a wrapper per kind.
check_PROGRAMS += tests/golden/golden_dialog
tests_golden_golden_dialog_SOURCES = tests/golden/golden_dialog.c \
	tests/golden/golden.c tests/golden/golden.h
TESTS += tests/golden/golden_dialog.sh tests/golden/golden_afe.sh \
	tests/golden/golden_rls.sh
EXTRA_DIST += tests/golden/golden_dialog.sh tests/golden/golden_afe.sh \
	tests/golden/golden_rls.sh tests/golden/dialog-expect.tsv \
	tests/golden/afe-expect.tsv tests/golden/rls-expect.tsv
