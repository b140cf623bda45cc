# Tests.  Unit tests are small programs; integration tests are scripts
# that start the real daemon, the Graph simulator and real SIP peers.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = top_srcdir='$(abs_top_srcdir)'; \
	top_builddir='$(abs_top_builddir)'; export top_srcdir top_builddir;
include tests/unit/local.mk
include tests/golden/local.mk
include tests/unit/graph.mk
include tests/unit/core.mk
include tests/unit/crypto.mk

# The mechanical house style; also "make style".
TESTS += tests/style.sh
EXTRA_DIST += tests/style.sh
style:
	@top_srcdir='$(abs_top_srcdir)' $(SHELL) $(top_srcdir)/tests/style.sh
.PHONY: style
include tests/unit/codec.mk
include tests/integration/local.mk
include tests/bench/local.mk

# The Graph simulator and its self-test (python3 -m unittest).
EXTRA_DIST += tests/graphsim/README.md tests/graphsim/graphsim.py \
	tests/graphsim/graphsim_base.py tests/graphsim/graphsim_auth.py \
	tests/graphsim/graphsim_subs.py tests/graphsim/test_graphsim.py
