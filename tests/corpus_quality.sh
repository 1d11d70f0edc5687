#!/bin/sh
# corpus_quality.sh LIB SOURCE_DIR CLEAN_DIR CORPUS - the `corpus-quality` test.
#
# Builds the clean corpus (tools/corpus/build_clean_corpus.sh: real tool
# output, ~24 MB, a few minutes) into CLEAN_DIR, then runs tools/corpus_eval.py
# --check on the shared peer corpus and that clean corpus: fails unless every
# recall and false-mask target of corpus_eval.py is met.  The peer corpus is
# read where it lies (it is third-party test data and is not copied into the
# repository); without it the test fails, it does not skip.
set -u
[ $# -eq 4 ] || { echo "usage: $0 LIB SOURCE_DIR CLEAN_DIR CORPUS" >&2; exit 2; }
lib=$1 src=$2 clean=$3 corpus=$4
if [ ! -r "$corpus" ]; then
    echo "FAIL: the shared peer corpus $corpus is missing or unreadable;" \
         "corpus-quality needs it (it is not part of the repository)" >&2
    exit 1
fi
start=$(date +%s)
if ! bash "$src/tools/corpus/build_clean_corpus.sh" "$clean" > "$clean.log" 2>&1; then
    tail -20 "$clean.log" >&2
    echo "FAIL: building the clean corpus into $clean failed (log: $clean.log)" >&2
    exit 1
fi
echo "clean corpus built in $(( $(date +%s) - start )) s: $clean"
# CORPUS_EVAL_PRELOAD: the sanitizer runtime in the ASan build (tests/CMakeLists.txt).
exec env ${CORPUS_EVAL_PRELOAD:+LD_PRELOAD="$CORPUS_EVAL_PRELOAD"} python3 "$src/tools/corpus_eval.py" --lib "$lib" --corpus "$corpus" --clean-dir "$clean" --check
