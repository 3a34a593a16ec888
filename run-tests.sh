#!/bin/sh
# Build quorum-backup and run every test, on a fresh Debian 12 machine as
# root: installs the packages it needs, generates the build system, builds
# warning-free (-Werror) in build/ and runs `make check`, then builds with
# AddressSanitizer and UndefinedBehaviorSanitizer in build-sanitizers/ and
# runs the whole suite again. In between, the unit tests run under valgrind;
# at the end, each fuzz harness for a minute.
#
#   ./run-tests.sh            everything
#   ./run-tests.sh --fast     skip the sanitizer pass and the fuzzing
set -eu
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh

passed=0
failed=0
status=0

# run_suite DIR CONFIGURE-ARGS...
run_suite() {
	dir=$1
	shift
	mkdir -p "$dir"
	(
		cd "$dir"
		[ -f Makefile ] || "$top/configure" -q "$@"
		make -j"$jobs" >/dev/null
		make -j"$jobs" check
	) || {
		status=1
		for f in $(grep -l '^FAIL\|^ERROR' "$dir"/tests/*/*.log 2>/dev/null); do
			echo "=== $f"
			tail -40 "$f"
		done
	}
	p=$(sed -n 's/^# PASS: *//p' "$dir/test-suite.log" 2>/dev/null | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$dir/test-suite.log" 2>/dev/null | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$dir/test-suite.log" 2>/dev/null | head -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0}))
}

run_suite build --enable-werror

# The unit tests again under valgrind memcheck (in-process: CK_FORK=no):
# any memory error or definite/possible leak fails the run.
vg_failed=0
for t in build/tests/unit/test_*; do
	case $t in *.o | *.log | *.trs) continue ;; esac
	[ -x "$t" ] || continue
	if top_srcdir=$top top_builddir=$top/build GATE=$top/build/quorum-backup-gate \
		TESTNODE=$top/build/tests/helpers/testnode CK_FORK=no \
		CK_DEFAULT_TIMEOUT=600 valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,possible \
		--show-leak-kinds=definite,possible --error-exitcode=99 \
		"$t" >"$t.valgrind.log" 2>&1; then
		echo "PASS: valgrind $t"
		passed=$((passed + 1))
	else
		echo "FAIL: valgrind $t"
		tail -40 "$t.valgrind.log"
		failed=$((failed + 1))
		vg_failed=1
	fi
done
[ "$vg_failed" = 0 ] || status=1
if [ "${1:-}" != "--fast" ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export ASAN_OPTIONS UBSAN_OPTIONS
	run_suite build-sanitizers --enable-werror --enable-sanitizers
fi
# libFuzzer harnesses (config parsing, archive verify/unpack, HTTP routing
# and query checks), a minute each from the seed corpora: a crash, leak or
# hang fails the run.
if [ "${1:-}" != "--fast" ]; then
	# Each harness counts as one check, from run-fuzz's last line
	# ("fuzz: N passed, M failed"); a run that never got there (a build
	# failure) counts as one failure.
	mkdir -p build
	{ tests/fuzz/run-fuzz.sh 60 || echo "fuzz-exit: $?"; } | tee build/fuzz.out
	fz_rc=0
	! grep -q '^fuzz-exit: ' build/fuzz.out || fz_rc=1
	fz=$(grep '^fuzz: [0-9]* passed, [0-9]* failed$' build/fuzz.out | tail -1)
	if [ -n "$fz" ]; then
		fz_p=$(echo "$fz" | sed 's/^fuzz: \([0-9]*\) passed.*/\1/')
		fz_f=$(echo "$fz" | sed 's/.* \([0-9]*\) failed$/\1/')
	else
		fz_p=0 fz_f=1
	fi
	passed=$((passed + fz_p))
	failed=$((failed + fz_f))
	if [ "$fz_rc" != 0 ] || [ "$fz_f" != 0 ]; then
		status=1
		[ "$fz_f" != 0 ] || failed=$((failed + 1))
	fi
fi
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
	failed=1   # the build itself failed
fi
echo "$passed passed, $failed failed"
exit "$status"
