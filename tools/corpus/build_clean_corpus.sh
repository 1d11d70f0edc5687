#!/bin/bash
# build_clean_corpus.sh OUTDIR - build a secret-free corpus (~24 MB) of real ML/DevOps output.
#
# Why: libredact's rules must not mask innocent text.  Masks found in this corpus
# are false masks by construction, so it measures the false-mask rate on what ML
# jobs really print: pip/apt output, tracebacks, training logs, env dumps, git
# history, digests, UUIDs, model ids, base64 notebook images, system tool output.
#
# How: runs real programs on this Debian machine (plus a few seeded Python
# generators in clean/ for shapes that need a GPU or a network), one file per
# category in OUTDIR, each capped at 0.5-5 MB so no category dominates.
#
# Safety: re-executes itself under `env -i` with a throw-away HOME, so nothing
# from the caller's environment, ~/.gitconfig, pip.conf etc. can reach the
# output; never reads /root, /etc/shadow or keys; ends with a scan for
# secret-shaped strings (exit 3 if one is found).
# Needs root only to apt-get install missing packages (see README.md).
set -u
if [ "${LRC_CLEAN_ENV:-}" != 1 ]; then
    exec env -i LRC_CLEAN_ENV=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb bash "$0" "$@"
fi
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
START=$(date +%s)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
mkdir -p "$1" && OUT=$(cd "$1" && pwd)
WORK=/tmp/libredact-corpus-work
rm -rf "$WORK" && mkdir -p "$WORK/home"  # fixed path: keeps traceback paths stable; one build at a time
CATS="pip apt tracebacks training env model_ids notebook_base64 gpu journal uuids gitlog hashes sysinfo compiler strace"
for c in $CATS; do rm -f "$OUT/$c.txt"; done
export HOME=$WORK/home MPLCONFIGDIR=$WORK/mpl GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \
    PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_NO_COLOR=1 \
    DEBIAN_FRONTEND=noninteractive PYTHONHASHSEED=0 COLUMNS=120
exec </dev/null

# ---- packages ----------------------------------------------------------------
PKGS="python3-pip python3-venv python3-setuptools python3-wheel python3-numpy python3-tqdm python3-matplotlib python3-pyflakes git strace gcc make binutils util-linux procps file"
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ] || ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    echo "installing: $missing" >&2
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >&2 || { echo "apt-get failed" >&2; exit 1; }
fi

# run FILE LIMIT CMD... : append "$ CMD" and at most LIMIT bytes (whole lines) of its output to OUT/FILE
run() {
    local f=$OUT/$1 lim=$2; shift 2
    printf '$ %s\n' "$*" | cut -c1-300 >> "$f"
    "$@" 2>&1 | head -c "$lim" > "$WORK/chunk"
    [ "$(stat -c %s "$WORK/chunk")" -ge "$lim" ] && sed -i '$d' "$WORK/chunk"  # drop the cut line
    cat "$WORK/chunk" >> "$f"
}
step() { echo "[$(( $(date +%s) - START ))s] $*" >&2; }

# ---- pip ---------------------------------------------------------------------
step pip
PIP="$PY -m pip"
run pip.txt 20000 $PIP --version
run pip.txt 200000 $PIP list -v
run pip.txt 100000 $PIP list --format=json
run pip.txt 100000 $PIP freeze
run pip.txt 100000 $PIP show -v numpy matplotlib tqdm pip setuptools wheel cryptography PyYAML Pillow
run pip.txt 150000 $PIP show -f numpy tqdm
run pip.txt 50000 $PIP check
run pip.txt 60000 $PIP debug --verbose
# PyJWT's README (in its metadata) carries an example JWT; drop descriptions that hold token examples
echo '$ python3 -m pip inspect' >> "$OUT/pip.txt"
$PIP inspect 2>&1 | $PY -c 'import json, re, sys
d = json.load(sys.stdin)
for p in d["installed"]:
    if re.search(r"eyJ|PRIVATE KEY|AKIA|gh[ps]_", p["metadata"].get("description", "")):
        p["metadata"]["description"] = "(removed by build_clean_corpus.sh: contains example tokens)"
print(json.dumps(d, indent=2))' | head -c 900000 >> "$OUT/pip.txt"
# tiny local projects -> real wheel builds, hashes, downloads, installs
for n in mltrain acme-datasets tokenizer-utils auth-helpers eval-harness ckpt-tools; do
    d=$WORK/src/$n m=${n//-/_}; mkdir -p "$d/$m"
    printf '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "%s"\nversion = "0.%d.0"\ndependencies = []\n' "$n" "${#n}" > "$d/pyproject.toml"
    printf '"""%s: internal helpers."""\n__version__ = "0.%d.0"\n' "$n" "${#n}" > "$d/$m/__init__.py"
done
run pip.txt 400000 $PIP wheel -v --no-deps --no-index --no-build-isolation -w "$WORK/wheels" $WORK/src/*
run pip.txt 30000 $PIP hash "$WORK"/wheels/*.whl /usr/share/python-wheels/*.whl
run pip.txt 30000 $PIP hash -a sha512 "$WORK"/wheels/*.whl
run pip.txt 50000 $PIP download --no-index --find-links "$WORK/wheels" -d "$WORK/dl" mltrain eval-harness
run pip.txt 100000 $PIP install --dry-run --ignore-installed --no-index --find-links "$WORK/wheels" --break-system-packages --report - mltrain acme-datasets tokenizer-utils
run pip.txt 50000 $PIP install mltrain
run pip.txt 50000 $PIP install --no-index --find-links "$WORK/wheels" --target "$WORK/site" mltrain auth-helpers ckpt-tools
for w in "$WORK"/wheels/*.whl; do  # pinned, hashed requirements; eval-harness gets a wrong hash on purpose
    b=$(basename "$w"); h=$(sha256sum "$w" | cut -c1-64)
    [ "${b%%-*}" = eval_harness ] && h=$(echo tampered | sha256sum | cut -c1-64)
    echo "${b%%-*}==$(echo "$b" | cut -d- -f2) --hash=sha256:$h"
done > "$WORK/requirements.txt"
cat "$WORK/requirements.txt" >> "$OUT/pip.txt"
run pip.txt 50000 $PIP install --dry-run --break-system-packages --no-index --find-links "$WORK/wheels" --require-hashes -r "$WORK/requirements.txt"
$PY -m venv "$WORK/venv" >> "$OUT/pip.txt" 2>&1
run pip.txt 100000 "$WORK/venv/bin/pip" install -v --no-index --find-links "$WORK/wheels" mltrain acme-datasets tokenizer-utils auth-helpers
run pip.txt 30000 "$WORK/venv/bin/pip" list -v
run pip.txt 60000 "$WORK/venv/bin/pip" show -f mltrain auth-helpers
for spec in "torch==2.2.1" "transformers>=4.38" "flash-attn==2.5.6 --no-build-isolation" "accelerate deepspeed" "bitsandbytes" "vllm==0.4.0" "peft trl" "xformers" "sentencepiece" "wandb mlflow"; do
    run pip.txt 20000 $PIP install --no-index --dry-run --break-system-packages -v $spec
done
run pip.txt 20000 $PIP download --no-index -d "$WORK/dl" torch==2.2.1 transformers

# ---- apt / dpkg ----------------------------------------------------------------
step apt
INST=$(dpkg-query -W -f '${Package}\n' | LC_ALL=C sort)
run apt.txt 1200000 apt-cache show $INST
run apt.txt 900000 apt-cache show $(apt-cache pkgnames python3- | LC_ALL=C sort | head -1200)
run apt.txt 250000 apt-cache policy $(echo "$INST" | head -200)
run apt.txt 100000 apt-get install --simulate python3-torch python3-sklearn jupyter-notebook
run apt.txt 60000 apt-get install --print-uris -y -qq python3-torch python3-sklearn jupyter-notebook
run apt.txt 60000 apt-cache depends python3-matplotlib python3-numpy git
run apt.txt 60000 apt-cache rdepends python3-numpy
run apt.txt 400000 dpkg -L python3-numpy python3-matplotlib git libpython3.11-stdlib
run apt.txt 300000 dpkg -s $(echo "$INST" | head -300)
run apt.txt 120000 apt list --installed
run apt.txt 20000 apt-cache stats
run apt.txt 100000 dpkg -l

# ---- python tracebacks, training, env, ids, models, notebooks, gpu, journal ---
step tracebacks; $PY "$HERE/clean/tracebacks.py" "$WORK/tb" 2500000 > "$OUT/tracebacks.txt" 2>&1
step training;   $PY "$HERE/clean/train.py" "$WORK/ckpt" 2500000 > "$OUT/training.txt" 2>&1
step env;        $PY "$HERE/clean/envdump.py" 1200000 > "$OUT/env.txt" 2>&1
step models;     $PY "$HERE/clean/model_ids.py" 1500000 > "$OUT/model_ids.txt" 2>&1
step notebook;   $PY "$HERE/clean/notebook.py" 2500000 > "$OUT/notebook_base64.txt" 2>&1
step gpu;        $PY "$HERE/clean/syslogs.py" gpu 800000 > "$OUT/gpu.txt" 2>&1
step journal;    $PY "$HERE/clean/syslogs.py" journal 1500000 > "$OUT/journal.txt" 2>&1

# ---- uuids -------------------------------------------------------------------
step uuids
{ echo '$ for i in $(seq 4000); do cat /proc/sys/kernel/random/uuid; done'
  for _ in $(seq 4000); do read -r u < /proc/sys/kernel/random/uuid; echo "$u"; done
  echo '$ cat /proc/sys/kernel/random/boot_id'; cat /proc/sys/kernel/random/boot_id; } >> "$OUT/uuids.txt"
run uuids.txt 20000 $PY -c 'import uuid
for _ in range(100): print(uuid.uuid1(), uuid.uuid4(), uuid.uuid4().hex)'
run uuids.txt 20000 lsblk -o NAME,SIZE,TYPE,FSTYPE,UUID,PARTUUID,MOUNTPOINT
run uuids.txt 20000 blkid
$PY "$HERE/clean/uuids.py" 900000 >> "$OUT/uuids.txt"

# ---- git -------------------------------------------------------------------
step git
G=$WORK/repo
git init -q -b main "$G" && (cd "$G" && $PY "$HERE/clean/git_import.py" 2500 | git fast-import --quiet) || exit 1
gitrun() { run gitlog.txt "$1" git -C "$G" --no-pager "${@:2}"; }
gitrun 900000 log
gitrun 800000 log --stat --skip=500
gitrun 450000 log --format=fuller --skip=900
gitrun 150000 log --oneline --graph --decorate --all
gitrun 100000 log --format='%H %h %an <%ae> %ad %s' --date=iso --skip=1500
for c in $(git -C "$G" rev-list --max-count=500 main | awk 'NR % 20 == 0'); do gitrun 40000 show --stat -p "$c"; done
gitrun 80000 rev-list --all --objects
gitrun 60000 ls-tree -r HEAD
gitrun 60000 show-ref
gitrun 20000 cat-file -p HEAD
for t in $(git -C "$G" tag | head -30); do gitrun 200 describe --tags --long "$t^{commit}"; done
gitrun 20000 count-objects -v
gitrun 20000 fsck --full --no-dangling

# ---- hashes ------------------------------------------------------------------
step hashes
find /usr/lib/python3/dist-packages /usr/share/doc /usr/include -type f -size -200k 2>/dev/null | LC_ALL=C sort > "$WORK/files"
part() { sed -n "$1p" "$WORK/files"; }
run hashes.txt 600000 sha256sum $(part 1,5000)
run hashes.txt 300000 sha1sum $(part 5001,8000)
run hashes.txt 300000 md5sum $(part 8001,12000)
run hashes.txt 300000 b2sum $(part 12001,14000)
run hashes.txt 150000 sha512sum $(part 14001,15000)
run hashes.txt 150000 sha256sum --tag $(part 15001,16000)
run hashes.txt 60000 cksum $(part 16001,17000)
md5sum $(part 17001,17600) > "$WORK/MD5SUMS" 2>/dev/null
run hashes.txt 60000 md5sum -c "$WORK/MD5SUMS"
run hashes.txt 300000 sh -c 'cat /var/lib/dpkg/info/*.md5sums'
run hashes.txt 60000 openssl dgst -sha256 $(part 17601,18000)
run hashes.txt 40000 git hash-object $(part 18001,18400)

# ---- system tools --------------------------------------------------------------
step sysinfo
pids=()
for i in 0 1 2 3; do
    ( exec -a "python3 -u train.py --model_name_or_path meta-llama/Llama-2-7b-hf --local_rank=$i --bf16 --output_dir /checkpoints/run-$i" sleep 60 ) &
    pids+=($!)
done
sleep 0.3
run sysinfo.txt 50000 ps -ww -o pid,ppid,user,pcpu,pmem,vsz,rss,stat,lstart,time,args -p "$(IFS=,; echo "${pids[*]}")"
run sysinfo.txt 20000 top -b -n 1 -w 200 -p "$(IFS=,; echo "${pids[*]}")"
kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null
run sysinfo.txt 250000 ls -la /usr/lib/x86_64-linux-gnu
run sysinfo.txt 200000 ls -laR /usr/lib/python3/dist-packages/numpy
run sysinfo.txt 60000 ls -la --time-style=full-iso /usr/bin
run sysinfo.txt 200000 find /usr/lib/python3/dist-packages -maxdepth 2 -ls
run sysinfo.txt 100000 du -ah --max-depth=2 /usr/share/doc
run sysinfo.txt 150000 ldconfig -p
run sysinfo.txt 20000 ldd /usr/bin/python3 /usr/bin/git
run sysinfo.txt 20000 lscpu
run sysinfo.txt 60000 cat /proc/cpuinfo
run sysinfo.txt 10000 cat /proc/meminfo
run sysinfo.txt 5000 free -m
run sysinfo.txt 5000 uname -a
run sysinfo.txt 5000 cat /etc/os-release
run sysinfo.txt 150000 $PY -m sysconfig
run sysinfo.txt 10000 $PY -m site
run sysinfo.txt 30000 getconf -a
run sysinfo.txt 60000 stat /usr/bin/python3.11 /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/share/doc/git/changelog.Debian.gz
run sysinfo.txt 150000 file /usr/bin/*

# ---- compiler / binutils ---------------------------------------------------------
step compiler
C=$WORK/cc; mkdir -p "$C"
cat > "$C/loader.c" <<'EOF'
#include <stdio.h>
#include <string.h>
int load_shard(const char *path, int idx) {
    char buf[64]; int unused;
    sprintf(buf, "%s/shard-%05d.bin", path, idx);
    unsigned n = strlen(buf);
    if (n < idx) printf("%d\n", n);
    return printf("%s %ld\n", buf, n);
}
EOF
cat > "$C/main.c" <<'EOF'
#include <stdio.h>
int main(int argc, char **argv) {
    int step = 0; double loss;
    if (argc > 1) step = atoi(argv[1]);
    printf("step %d loss %f\n", step, loss);
    return load_shard("/data", step);
}
EOF
printf 'CFLAGS = -O2 -Wall -Wextra -g -fdiagnostics-color=never\nall: trainer\ntrainer: main.o loader.o\n\t$(CC) $(CFLAGS) -o $@ $^\nclean:\n\trm -f *.o trainer\n' > "$C/Makefile"
run compiler.txt 20000 gcc -v
run compiler.txt 60000 make -C "$C"
run compiler.txt 80000 gcc -fdiagnostics-color=never -Wall -Wextra -Wformat=2 -Wconversion -O2 -c "$C/loader.c" -o "$C/l2.o"
run compiler.txt 40000 gcc -H -fsyntax-only "$C/loader.c"
run compiler.txt 60000 sh -c 'gcc -dM -E - </dev/null | sort'
run compiler.txt 120000 gcc -Q --help=warnings
run compiler.txt 50000 ld --verbose
run compiler.txt 200000 objdump -d -l "$C/trainer"
run compiler.txt 60000 gcc -Q -O2 --help=optimizers
run compiler.txt 300000 objdump -d --no-show-raw-insn /usr/bin/git
run compiler.txt 200000 readelf -Ws /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0
run compiler.txt 120000 nm -D --defined-only /usr/lib/x86_64-linux-gnu/libc.so.6
run compiler.txt 100000 sh -c 'readelf -n /usr/bin/* 2>/dev/null'
run compiler.txt 120000 pyflakes3 /usr/lib/python3/dist-packages/matplotlib/axes /usr/lib/python3/dist-packages/tqdm
printf 'def f(x):\n    return x +\n' > "$C/bad.py"
run compiler.txt 5000 $PY -m py_compile "$C/bad.py"

# ---- strace ----------------------------------------------------------------------
step strace
run strace.txt 350000 strace -f -tt -s 80 $PY -c 'import json, hashlib; print(json.dumps({"sha": hashlib.sha256(b"x").hexdigest()}))'
run strace.txt 150000 strace -e trace=network -s 80 $PY -c 'import socket; s = socket.socket(); s.settimeout(1); s.connect_ex(("127.0.0.1", 9))'
run strace.txt 250000 strace -f -tt -s 80 git -C "$G" --no-pager log -3 --stat
run strace.txt 100000 strace -e trace=file,process -f -s 80 sh -c 'ls /usr/lib/python3/dist-packages | head -3'
run strace.txt 50000 strace -c -f $PY -c 'import numpy'
run strace.txt 300000 strace -tt -T -s 64 $PY -c 'import numpy, tqdm'
run strace.txt 150000 strace -f -s 64 apt-cache policy git python3-numpy
run strace.txt 100000 strace -y -e trace=openat,read,write,close -s 64 sha256sum /usr/share/doc/git/copyright /usr/share/doc/gcc-12/README.Bugs

# ---- report ------------------------------------------------------------------------
rm -rf "$WORK"
cd "$OUT" || exit 1
printf '\n%-24s %12s\n' file bytes >&2
total=0
for f in *.txt; do s=$(stat -c %s "$f"); total=$((total + s)); printf '%-24s %12d\n' "$f" "$s" >&2; done
printf '%-24s %12d\n' TOTAL "$total" >&2
step done
strong='AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_|xox[abprs]-[0-9]{6,}-|sk-(proj|ant)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{40,}|hf_[A-Za-z]{34}|-----BEGIN [A-Z ]*PRIVATE KEY|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.'
if grep -EnoH "$strong" ./*.txt >&2; then echo "ERROR: secret-shaped strings found (above)" >&2; exit 3; fi
grep -EnoH '[a-z+]+://[^/ :@"]+:[^/ @"]+@' ./*.txt | head -5 | sed 's/^/WARN url with userinfo: /' >&2
exit 0
