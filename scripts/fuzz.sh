#!/usr/bin/env bash
# Fuzzes the readers of user files for about SECONDS (default 300), then stops: the SRT and
# WebVTT readers (subcut-core, subtitle::format::fuzz), the preset TOML loader, the
# CTranslate2 model reader and import, and the ggml header reader (src/fuzz.rs). The targets
# are #[ignore]d proptest tests named fuzz_*, so the test suite (and CI) never runs them;
# this script does, in rounds of SUBCUT_FUZZ_CASES random and mutated inputs per target
# (default 2000 for the subtitle readers, 200 for the rest), each round with a fresh seed,
# until the time is up. A panic, a failed property, a round over ROUND_LIMIT seconds (a
# hang) or an allocation past the MEM_LIMIT_KB address-space limit (a huge allocation:
# "memory allocation of N bytes failed") stops it, with proptest's smallest failing input.
#
#   scripts/fuzz.sh          # about 5 minutes
#   scripts/fuzz.sh 60       # about a minute
#
# The subtitle readers run in the dev profile, so integer overflow panics there too; the
# rest runs in --release (whisper.cpp and FFmpeg are built in release only), where overflow
# wraps: those readers use checked arithmetic instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_WANTED=${1:-300}
ROUND_LIMIT=${ROUND_LIMIT:-600}
MEM_LIMIT_KB=${MEM_LIMIT_KB:-8000000}
export CMAKE_PROJECT_INCLUDE=${CMAKE_PROJECT_INCLUDE:-$PWD/cmake/whisper-patches.cmake}

echo "building the fuzz targets"
cargo test -p subcut-core --no-run -q
cargo test --release --lib --no-run -q

start=$(date +%s)
round=0
while :; do
  round=$((round + 1))
  echo "round $round"
  (
    ulimit -v "$MEM_LIMIT_KB"
    SUBCUT_FUZZ_CASES=${SUBCUT_FUZZ_CASES:-2000} timeout "$ROUND_LIMIT" \
      cargo test -q -p subcut-core fuzz_ -- --ignored
    SUBCUT_FUZZ_CASES=${SUBCUT_FUZZ_CASES:-200} timeout "$ROUND_LIMIT" \
      cargo test -q --release --lib fuzz_ -- --ignored
  ) || { echo "fuzz.sh: round $round failed (see above; rc 124 is a hang)" >&2; exit 1; }
  elapsed=$(( $(date +%s) - start ))
  if [ "$elapsed" -ge "$SECONDS_WANTED" ]; then
    echo "fuzz.sh: $round rounds in ${elapsed} s, nothing found"
    break
  fi
done
