#!/bin/sh
# Build the libFuzzer harnesses of tests/fuzz/ and run each for SECONDS
# (default 60) on a copy of its seed corpus.
#
#   tests/fuzz/run-fuzz.sh [SECONDS] [HARNESS...]
#
# Each harness runs with its dictionary (tests/fuzz/HARNESS.dict) when
# there is one.
#
# Builds in build-fuzz/ at the top of the tree (never in the sources) with
# clang -fsanitize=fuzzer,address,undefined: the project's sources that the
# harnesses need are compiled there directly, with a config.h written from
# configure.ac's name and version (the only things configure defines that
# the sources use, with _GNU_SOURCE and HAVE_SYNCFS). The seed corpora in
# tests/fuzz/corpus/ are only read: each run works on a copy in a temporary
# directory, and what the fuzzer adds is dropped afterwards.
#
# Prints one line per harness (executions, corpus size before and after,
# result). Exits 1 when a harness crashed, leaked, timed out or ran out of
# memory, after printing the input that did it (kept in
# build-fuzz/artifacts/HARNESS/) and the sanitizer's report; 2 when the
# build fails.
#
# Needs clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes),
# llvm-14 (llvm-symbolizer, for readable reports) and the project's
# libraries (scripts/install-deps.sh).
set -eu
cd "$(dirname "$0")/../.."
top=$(pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS] [HARNESS...]" >&2; exit 2 ;;
esac
all="fuzz_config fuzz_archive fuzz_http"
harnesses=${*:-$all}
out=$top/build-fuzz
jobs=$(nproc 2>/dev/null || echo 2)

cc=${CC:-}
if [ -z "$cc" ]; then
	for c in clang clang-14; do
		command -v "$c" >/dev/null 2>&1 && { cc=$c; break; }
	done
fi
if [ -z "$cc" ]; then
	echo "run-fuzz: clang not found (Debian: clang-14 libclang-rt-14-dev)" >&2
	exit 2
fi
# The sanitizers find llvm-symbolizer on PATH; Debian names it with the
# version only when the unversioned link is not installed.
if ! command -v llvm-symbolizer >/dev/null 2>&1 &&
	[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
	PATH=$PATH:/usr/lib/llvm-14/bin
	export PATH
fi

# The libraries configure.ac checks for (Check aside: the harnesses use
# libFuzzer), so that the two never differ.
libs=$(sed -n 's/^PKG_CHECK_MODULES(\[[A-Z_0-9]*\], *\[\([a-z0-9_.-]*\).*/\1/p' \
	configure.ac | grep -vx check | tr '\n' ' ')
pkg_cflags=$(pkg-config --cflags $libs)
pkg_libs=$(pkg-config --libs $libs)

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# Every room of the agent (the harnesses drive the engine and the server).
incs="-I$top/common -I$top/agent -I$top/agent/gate -I$top/agent/node
	-I$top/agent/engine -I$top/agent/offsite -I$top/agent/jobs
	-I$top/agent/server -I$top/controller"
cflags="-g -O1 $san -pthread -Wall -Wextra -I$out $(echo $incs) $pkg_cflags"

mkdir -p "$out/obj" "$out/artifacts"

# config.h: name and version from configure.ac, and what the sources
# expect of AC_USE_SYSTEM_EXTENSIONS and AC_CHECK_FUNCS([syncfs]).
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
name=$(sed -n 's/^AC_INIT(\[\([^]]*\)\].*/\1/p' configure.ac)
cat >"$out/config.h.new" <<EOF
/* Written by tests/fuzz/run-fuzz.sh for the fuzz build. */
#define PACKAGE "$name"
#define PACKAGE_NAME "$name"
#define PACKAGE_TARNAME "$name"
#define PACKAGE_VERSION "$version"
#define PACKAGE_STRING "$name $version"
#define PACKAGE_BUGREPORT ""
#define PACKAGE_URL ""
#define VERSION "$version"
#define HAVE_SYNCFS 1
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
EOF
if cmp -s "$out/config.h.new" "$out/config.h"; then
	rm -f "$out/config.h.new"
else
	mv "$out/config.h.new" "$out/config.h"
fi

# The project's sources the harnesses link: the .c files of the static
# libraries Makefile.am builds (common/ and the agent's engine), read from
# Makefile.am itself so that the two never differ, and the controller's
# configuration.
am_sources() {
	awk -v var="$1" '
		$1 == var "_SOURCES" { on = 1 }
		on { for (i = 1; i <= NF; i++) if ($i ~ /\.c$/) print $i
		     if ($NF != "\\") on = 0 }' Makefile.am
}
srcs=""
for lib in libqbcore_a libqbcommon_a libqbnode_a libqbengine_a \
	libqboffsite_a libqbjobs_a libqbserver_a; do
	lib_srcs=$(am_sources $lib)
	[ -n "$lib_srcs" ] ||
		{ echo "run-fuzz: no ${lib}_SOURCES in Makefile.am" >&2; exit 2; }
	srcs="$srcs $lib_srcs"
done
srcs="$srcs controller/ctl_conf.c"

# An object is rebuilt when it is older than its source, a header, the
# config.h or this script.
newest_dep=$(ls -t common/*.h agent/*.h agent/*/*.h controller/*.h "$out/config.h" \
	tests/fuzz/run-fuzz.sh | head -1)
stale=""
for s in $srcs; do
	o=$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')
	if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$newest_dep" -nt "$o" ]; then
		stale="$stale $s"
	fi
done
if [ -n "$stale" ]; then
	echo "run-fuzz: compiling$stale" | fold -s -w 100
	# shellcheck disable=SC2086
	if ! printf '%s\n' $stale | xargs -P "$jobs" -I{} sh -c '
		o="$1/obj/$(echo "$2" | tr / _ | sed "s/\.c\$/.o/")"
		exec '"$cc"' '"$cflags"' -fsanitize=fuzzer-no-link -c "$2" -o "$o"
		' sh "$out" {}; then
		echo "run-fuzz: the build failed" >&2
		exit 2
	fi
	rm -f "$out/libqbfuzz.a"
fi
if [ ! -f "$out/libqbfuzz.a" ]; then
	# The objects of today's sources only: one left by a file that moved
	# or went would add a second copy of its symbols.
	objs=""
	for s in $srcs; do
		objs="$objs $out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
	done
	# shellcheck disable=SC2086
	ar rcs "$out/libqbfuzz.a" $objs
fi

for h in $harnesses; do
	if [ ! -f "tests/fuzz/$h.c" ]; then
		echo "run-fuzz: no harness tests/fuzz/$h.c" >&2
		exit 2
	fi
	if [ ! -x "$out/$h" ] || [ "tests/fuzz/$h.c" -nt "$out/$h" ] ||
		[ "$out/libqbfuzz.a" -nt "$out/$h" ]; then
		echo "run-fuzz: linking $h"
		# shellcheck disable=SC2086
		$cc $cflags -Werror -fsanitize=fuzzer "tests/fuzz/$h.c" "$out/libqbfuzz.a" \
			$pkg_libs -o "$out/$h" || { echo "run-fuzz: the build failed" >&2; exit 2; }
	fi
done

max_len() {
	case $1 in
	fuzz_config) echo 8192 ;;
	fuzz_archive) echo 65536 ;;
	*) echo 4096 ;;
	esac
}

# Temporary files: the fuzzers' corpora and the archive harness's trees,
# on a tmpfs when there is one (the engine fsyncs what it unpacks).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qb-fuzz.XXXXXX")
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	scratch=$(mktemp -d /dev/shm/qb-fuzz.XXXXXX)
else
	scratch=$tmp
fi
trap 'rm -rf "$tmp" "$scratch"' EXIT
trap 'exit 130' INT TERM

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

status=0
passed=0
failed=0
summary=""
for h in $harnesses; do
	work=$tmp/$h
	art=$out/artifacts/$h
	mkdir -p "$work/corpus" "$art"
	if [ -d "tests/fuzz/corpus/$h" ]; then
		cp -R "tests/fuzz/corpus/$h/." "$work/corpus/"
	fi
	seeds=$(find "$work/corpus" -type f | wc -l)
	echo "run-fuzz: $h for ${secs}s ($seeds seeds)"
	dict=
	[ -f "tests/fuzz/$h.dict" ] && dict=-dict=tests/fuzz/$h.dict
	rc=0
	# shellcheck disable=SC2086
	TMPDIR=$scratch "$out/$h" $dict -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len="$(max_len "$h")" \
		-print_final_stats=1 -artifact_prefix="$art/" \
		"$work/corpus" >"$work/log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
	corpus=$(find "$work/corpus" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		result=ok
		passed=$((passed + 1))
	else
		status=1
		failed=$((failed + 1))
		input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/log" | tail -1)
		result="FAILED (exit $rc${input:+, input $input})"
		echo "=== $h: the fuzzer's report (last 60 lines of its output)"
		tail -60 "$work/log"
		[ -n "$input" ] && echo "=== reproduce: $out/$h $input"
	fi
	line=$(printf '%-13s %10s execs %7s exec/s  corpus %4s -> %-5s %s' "$h" \
		"${execs:-?}" "${rate:-?}" "$seeds" "$corpus" "$result")
	summary="$summary$line
"
done
printf '%s' "$summary"
echo "fuzz: $passed passed, $failed failed"
exit "$status"
