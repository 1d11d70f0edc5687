#!/bin/sh
# Prints the benchmark table of README.md ("Performance").
#   bench/run.sh [BUILD_DIR]      (default: build-bench, configured Release)
# Every figure is measured side by side with its baseline in the same run,
# in alternating rounds; medians with [min-max].  Nothing is asserted.
set -eu
cd "$(dirname "$0")/.."
B=${1:-build-bench}
if [ ! -f "$B/libredact.so" ]; then
	cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DREDACT_BUILD_TESTS=OFF >/dev/null
	cmake --build "$B" -j "$(nproc)" >/dev/null
fi
LIB=$(readlink -f "$B/libredact.so")
NOOP=$(readlink -f "$B/bench/libnoop_preload.so")
BIN=$B/bench
ROUNDS=${ROUNDS:-5}
CORPUS=/tmp/redact-bench-mllog.txt
[ -f "$CORPUS" ] || /usr/bin/python3 tools/corpus/gen_mllog.py --seed 7 --size 100000000 --out "$CORPUS" >/dev/null

ns() { date +%s%N; }
# median of numbers on stdin, with [min-max]
stats() { sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f [%.3f-%.3f]", m, v[1], v[NR]}'; }
med() { sort -g | awk '{v[NR]=$1} END {print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }

echo "libredact benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo

echo "## 1. Engine throughput (full default rule set, ML-log corpus)"
"$BIN/engine_throughput" "$CORPUS" "$ROUNDS"
echo

echo "## 2. Added cost per write (ns), LD_PRELOAD vs none, $ROUNDS alternating rounds"
tmp=$(mktemp -d)
for target in devnull pipe; do
	for r in $(seq "$ROUNDS"); do
		for mode in none lib; do
			pre=""
			[ $mode = lib ] && pre=$LIB
			if [ $target = devnull ]; then
				env LD_PRELOAD="$pre" "$BIN/write_overhead" 200000 >/dev/null 2>>"$tmp/$target-$mode"
			else
				env LD_PRELOAD="$pre" "$BIN/write_overhead" 200000 2>>"$tmp/$target-$mode" | cat >/dev/null
			fi
		done
	done
	for size in 16 128 4096; do
		a=$(awk -v s=$size '$1==s {print $2}' "$tmp/$target-none" | med)
		b=$(awk -v s=$size '$1==s {print $2}' "$tmp/$target-lib" | med)
		printf "%-8s %6s B   without %8.1f   with %8.1f   added %8.1f ns/write\n" "$target" "$size" "$a" "$b" \
			"$(awk -v a="$a" -v b="$b" 'BEGIN{print b-a}')"
	done
done
echo

echo "## 3. Process start (ms per spawn, median of $ROUNDS batches of 300)"
for prog in /bin/true "$BIN/print_one"; do
	: >"$tmp/s-none"; : >"$tmp/s-noop"; : >"$tmp/s-lib"
	for r in $(seq "$ROUNDS"); do
		"$BIN/spawn" 300 "$prog" >>"$tmp/s-none"
		"$BIN/spawn" 300 "$prog" "$NOOP" >>"$tmp/s-noop"
		"$BIN/spawn" 300 "$prog" "$LIB" >>"$tmp/s-lib"
	done
	n=$(med <"$tmp/s-none"); f=$(med <"$tmp/s-noop"); l=$(med <"$tmp/s-lib")
	printf "%-12s none %6.3f  floor(no-op .so) %6.3f  libredact %6.3f  added over floor %6.3f ms\n" \
		"$(basename "$prog")" "$n" "$f" "$l" "$(awk -v a="$f" -v b="$l" 'BEGIN{print b-a}')"
done
echo

echo "## 4. End to end (s, median of $ROUNDS)"
PY='import sys
w = sys.stdout.write
for i in range(1000000):
    w("epoch %d step %d loss=%.4f lr=3.0e-04 tokens/s=51234\n" % (i // 1000, i, 1.0 / (i + 1)))'
big=/tmp/redact-bench-1g.log
[ -f "$big" ] || for i in 1 2 3 4 5 6 7 8 9 10 11; do cat "$CORPUS"; done | head -c 1073741824 >"$big"
# python: as a program prints by default (stdout to a pipe is block-buffered),
# and with PYTHONUNBUFFERED=1 (one write per line, as some containers set).
for case in python python-unbuffered cat; do
	: >"$tmp/e-none"; : >"$tmp/e-lib"
	for r in $(seq "$ROUNDS"); do
		for mode in none lib; do
			pre=""
			[ $mode = lib ] && pre=$LIB
			t0=$(ns)
			if [ $case = python ]; then
				env -u PYTHONUNBUFFERED LD_PRELOAD="$pre" /usr/bin/python3 -c "$PY" | cat >/dev/null
			elif [ $case = python-unbuffered ]; then
				env PYTHONUNBUFFERED=1 LD_PRELOAD="$pre" /usr/bin/python3 -c "$PY" | cat >/dev/null
			else
				env LD_PRELOAD="$pre" cat "$big" | cat >/dev/null
			fi
			echo "$(($(ns) - t0))" | awk '{print $1/1e9}' >>"$tmp/e-$mode"
		done
	done
	a=$(med <"$tmp/e-none"); b=$(med <"$tmp/e-lib")
	label="python 1M lines"; [ $case = python-unbuffered ] && label="  unbuffered"; [ $case = cat ] && label="cat 1 GiB"
	printf "%-16s without %7.3f  with %7.3f  ratio %5.2fx\n" "$label" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{print b/a}')"
done
echo

echo "## 5. Memory (VmRSS kB of python3)"
RSS='import sys
def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1])
start = rss()
sys.stdout.write(open(sys.argv[1]).read())
sys.stdout.flush()
sys.stderr.write("%d %d\n" % (start, rss()))'
: >"$tmp/m-none"; : >"$tmp/m-lib"
for r in $(seq 3); do
	/usr/bin/python3 -c "$RSS" "$CORPUS" 2>>"$tmp/m-none" | cat >/dev/null
	LD_PRELOAD=$LIB /usr/bin/python3 -c "$RSS" "$CORPUS" 2>>"$tmp/m-lib" | cat >/dev/null
done
s0=$(awk '{print $1}' "$tmp/m-none" | med); s1=$(awk '{print $1}' "$tmp/m-lib" | med)
e0=$(awk '{print $2}' "$tmp/m-none" | med); e1=$(awk '{print $2}' "$tmp/m-lib" | med)
echo "at start: without $s0 kB, with $s1 kB, added $((s1 - s0)) kB"
echo "after printing the 100 MB corpus: without $e0 kB, with $e1 kB, added $((e1 - e0)) kB"
echo

echo "## 6. Reload"
"$BIN/reload_latency" 3
rm -rf "$tmp"
