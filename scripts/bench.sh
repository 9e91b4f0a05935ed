#!/usr/bin/env bash
# Foundation benchmark: decode / analysis / transcription real-time factors for the fixture
# and a ≥ 60 s clip, the pipeline's transcription vs a bare whisper-rs full() call, and the
# peak RSS of `subcut caption` on a 10-minute input.
#
#   scripts/bench.sh [MODEL] [RUNS]     defaults: base 3
#
# Clips are assembled from fixtures/talk.mp4 with the ffmpeg CLI into a temporary directory.
# Prints markdown; paste it into docs/BENCH.md.
set -euo pipefail
cd "$(dirname "$0")/.."
model_name="${1:-base}"
runs="${2:-3}"

command -v ffmpeg >/dev/null || { echo "bench: needs the ffmpeg CLI (apt install ffmpeg)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench: needs GNU time (apt install time)" >&2; exit 2; }
cargo build --release --locked --quiet --bin subcut --example bench
subcut=target/release/subcut
model=$("$subcut" -q model path "$model_name")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
concat() { # N OUT: talk.mp4 N times back to back
  for _ in $(seq "$1"); do echo "file '$PWD/fixtures/talk.mp4'"; done > "$tmp/list.txt"
  ffmpeg -v error -y -f concat -safe 0 -i "$tmp/list.txt" -c copy "$2"
}
concat 5 "$tmp/talk-x5.mp4"     # 74 s
concat 41 "$tmp/talk-x41.mp4"   # 10 min 11 s

echo "## Foundation stages ($(date -u +%F), commit $(git rev-parse --short HEAD), $(nproc) cores, model $model_name, median of $runs)"
echo
echo "Command: \`scripts/bench.sh $model_name $runs\`"
echo
target/release/examples/bench "$model" "$runs" fixtures/talk.mp4 "$tmp/talk-x5.mp4"
echo
/usr/bin/time -v "$subcut" -q caption "$tmp/talk-x41.mp4" --model "$model_name" --language en -o "$tmp/out" \
  2> "$tmp/time.txt" >/dev/null
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time.txt")
model_mb=$(( $(stat -c %s "$model") / 1048576 ))
echo "Peak RSS of \`subcut caption\` on a 10-minute mp4 (talk-x41.mp4, 611 s): $((rss_kb / 1024)) MiB" \
     "(model file $model_mb MiB, so model + $((rss_kb / 1024 - model_mb)) MiB); wall $wall."
