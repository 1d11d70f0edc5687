#!/bin/sh
# The exported dynamic symbols of libredact.so are exactly:
#  - the public API (every function declared in include/redact.h), on the
#    LIBREDACT_1.0 version node, and
#  - the interposed libc functions (tests/hooked-functions.txt, generated from
#    lib/hooks/hooks.def), UNVERSIONED: a versioned hook is silently ignored
#    by programs that bind write@GLIBC_2.2.5 (field notes section 4).
# Nothing of PCRE2, liburcu, libyaml or the internals may leak out.
#   test_exports.sh LIBREDACT_SO HEADER [HOOK_LIST]
set -eu
so=$1
header=$2
hooks=${3:-/dev/null}
api=$(grep -oE '\bredact_[a-z_]+\(' "$header" | tr -d '(' | sort -u)
fail=0
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TWiV]$/ {print $3}')
for f in $api; do
	echo "$exported" | grep -qx "$f@@LIBREDACT_1.0" || { echo "API function not exported on LIBREDACT_1.0: $f"; fail=1; }
done
for h in $(grep -v '^#' "$hooks"); do
	echo "$exported" | grep -qx "$h" || { echo "hook not exported unversioned: $h"; fail=1; }
done
for s in $exported; do
	case "$s" in
	*@@LIBREDACT_1.0) name=${s%@@LIBREDACT_1.0}; echo "$api" | grep -qx "$name" || { echo "unexpected API export: $s"; fail=1; } ;;
	*@*) echo "versioned non-API export: $s"; fail=1 ;;
	*) grep -qx "$s" "$hooks" || { echo "unexpected unversioned export: $s"; fail=1; } ;;
	esac
done
[ $fail = 0 ] && echo "exports: $(echo "$api" | wc -l) API functions on LIBREDACT_1.0, $(grep -vc '^#' "$hooks" || true) hooks unversioned, nothing else"
exit $fail
