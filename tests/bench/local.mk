# Benchmarks: "make bench" prints throughput, CPU, latency and memory
# figures next to the design's targets (tests/bench/README.md).  It is
# never part of "make check", and nothing in it passes or fails on a
# timing.  Everything runs on 127.0.0.1 and stops by itself.
EXTRA_DIST += tests/bench/README.md \
	tests/bench/bench.py \
	tests/bench/watchers.py \
	tests/bench/webhook.py \
	tests/bench/kamailio.cfg \
	tests/bench/pub-cycle-idle.xml \
	tests/bench/pub-cycle-call.xml \
	tests/bench/sub-cycle.xml

bench: presgwd$(EXEEXT) presgwctl$(EXEEXT)
	@if test "$(PYTHON3)" = no; then \
	    echo "make bench: python3 not found" >&2; exit 1; fi
	@if test "$(SIPP)" = no; then \
	    echo "make bench: sipp not found (Debian: apt-get install" \
	        "sip-tester)" >&2; exit 1; fi
	@SIPP='$(SIPP)' PRESGWD='$(abs_top_builddir)/presgwd$(EXEEXT)' \
	BENCH_CFLAGS='$(CFLAGS) $(WARN_CFLAGS)' \
	$(PYTHON3) '$(abs_top_srcdir)/tests/bench/bench.py' \
	    --srcdir '$(abs_top_srcdir)' --builddir '$(abs_top_builddir)'
.PHONY: bench
