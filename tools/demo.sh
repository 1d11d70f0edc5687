#!/bin/sh
# The README's first command: installs the build dependencies (Debian
# packages), builds libredact, and shows a real program's output with and
# without the library preloaded -- no change to the program.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DREDACT_BUILD_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
LIB=$(readlink -f build/libredact.so)
export HF_TOKEN=hf_QwErTyUiOpAsDfGhJkLzXcVbNm12345678

section() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

section "A Python training script, as it prints without the library"
/usr/bin/python3 examples/leaky_training.py 2>&1

section "The same script with LD_PRELOAD=$LIB"
LD_PRELOAD=$LIB /usr/bin/python3 examples/leaky_training.py 2>&1

section "A shell pipeline: the secret passes between programs byte-exact and is masked where it is printed"
LD_PRELOAD=$LIB sh -c 'echo "token=$HF_TOKEN" | tr a-z A-Z | sed "s/^/pipeline: /"; echo "$HF_TOKEN" > /tmp/redact-demo.conf; echo "config file holds $(wc -c </tmp/redact-demo.conf) bytes: $(sha256sum </tmp/redact-demo.conf | cut -c1-16) (unchanged)"'
echo "(sha256 of the value itself:      $(printf '%s\n' "$HF_TOKEN" | sha256sum | cut -c1-16))"

section "Audit log (metadata only, never the secret)"
rm -f /tmp/redact-demo-audit.log
LD_PRELOAD=$LIB REDACT_AUDIT_LOG=/tmp/redact-demo-audit.log /usr/bin/python3 -c 'print("key AKIAQYLPMN5HFIQR7XPA")'
cat /tmp/redact-demo-audit.log
