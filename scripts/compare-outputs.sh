#!/usr/bin/env bash
# Runs one subcut binary over the fixtures and records everything it writes, so that two
# builds (before and after a refactoring) can be compared byte for byte:
#
#   scripts/compare-outputs.sh BINARY DEST        # writes DEST/ (outputs, stdout/stderr, hashes)
#   diff -r DEST_BEFORE DEST_AFTER                # nothing printed: the same behaviour
#
# What it runs: `caption` (all formats, the tiny.en model and a replayed transcript), `cut`
# (all exports, the timeline, --no-captions, --dry-run, audio-only and late-audio inputs),
# `align` (a script and --retime-only), `presets list|show`, every subcommand's --help and a
# few errors. Every run happens in the same scratch folder with the same absolute paths, so
# paths inside outputs match. A video is recorded by the MD5 of each decoded frame and audio
# packet (`ffmpeg -f framemd5`), not its bytes, so a muxer that writes another header
# still compares equal when the pictures and sound are the same.
#
# Needs the models of scripts/setup.sh (tiny.en) and the ffmpeg CLI.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 BINARY DEST" >&2; exit 2; }
bin=$(realpath "$1")
dest=$(realpath -m "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=/tmp/subcut-compare
rm -rf "$scratch" "$dest"
mkdir -p "$scratch/bin" "$scratch/in" "$dest"
cp "$bin" "$scratch/bin/subcut"
cp "$root"/fixtures/{talk.mp4,voice.mp3,late-audio.mkv} "$scratch/in/"
mkdir -p "$scratch/presets" # no user presets
export SUBCUT_PRESETS_DIR="$scratch/presets"
unset SUBCUT_MODEL_URL SUBCUT_SPEECH_ONLY SUBCUT_PACK_MAX SUBCUT_PAD_END SUBCUT_AUDIO_CTX \
  SUBCUT_DEBUG_WINDOWS JOB_COMPLETION_INDEX SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT
export NO_COLOR=1 COLUMNS=100
cd "$scratch"

n=0
# run NAME ARGS…: runs subcut in the scratch folder, records exit code, stdout, stderr.
run() {
  local name=$1
  shift
  n=$((n + 1))
  local rc=0
  bin/subcut "$@" >"$dest/$name.stdout" 2>"$dest/$name.stderr" </dev/null || rc=$?
  echo "$rc" >"$dest/$name.rc"
}
# keep NAME DIR: moves what a run wrote into DEST/NAME/ (videos as frame hashes).
keep() {
  local name=$1 dir=$2
  mkdir -p "$dest/$name"
  for f in "$dir"/*; do
    [[ -e "$f" ]] || continue
    case "$f" in
      *.mp4 | *.mkv | *.mov | *.mp3 | *.m4a | *.wav)
        ffmpeg -v error -i "$f" -map 0 -f framemd5 - >"$dest/$name/$(basename "$f").framemd5"
        ;;
      *) cp "$f" "$dest/$name/" ;;
    esac
  done
  rm -rf "$dir"
}

# Presets.
run presets-list presets list
for p in $(bin/subcut presets list 2>/dev/null | awk 'NR>0 {print $1}' | grep -E '^[a-z][a-z0-9-]*$'); do
  run "presets-show-$p" presets show "$p"
done

# The renders below use one encoder thread: x264 with several threads does not always
# encode the same frames to the same bits. A user preset NAME-1t per shipped preset sets it.
for p in $(ls "$root/presets" | sed 's/\.toml$//'); do
  printf 'base = "%s"\n[render]\nthreads = 1\n' "$p" >"$scratch/presets/$p-1t.toml"
done

# Captions with a real model (2 threads: the same decode every run).
run caption-tiny caption in/talk.mp4 -m tiny.en -t 2 -j 1 -f srt,vtt,ass,json,txt -o out
keep caption-tiny out
cp "$dest/caption-tiny/talk.json" "$scratch/talk.json" # the transcript the other runs replay
run caption-replay-zh caption in/talk.mp4 --fake-transcript talk.json -l zh --chinese keep -f srt,ass -o out
keep caption-replay-zh out
run caption-json caption in/talk.mp4 in/voice.mp3 --fake-transcript talk.json --json -o out
keep caption-json out

# Cuts on a replayed transcript.
run cut-all cut in/talk.mp4 -p default-1t --fake-transcript talk.json --export json,edl,fcpxml --timeline -o out
keep cut-all out
run cut-repeats cut in/talk.mp4 -p default-1t --fake-transcript talk.json --remove-repeats --fillers both \
  --margin 0.1s,0.3s --min-silence 0.4s --export json -o out
keep cut-repeats out
run cut-nocaptions cut in/talk.mp4 -p default-1t --no-captions --export edl -o out
keep cut-nocaptions out
run cut-dry cut in/talk.mp4 --fake-transcript talk.json --dry-run
run cut-audio cut in/voice.mp3 -p default-1t --fake-transcript talk.json --export json,edl,fcpxml -o out
keep cut-audio out
run cut-late cut in/late-audio.mkv -p default-1t --no-captions --export json,fcpxml --timeline -o out
keep cut-late out
run cut-burn cut in/talk.mp4 -p default-1t --fake-transcript talk.json --burn-in -o out
keep cut-burn out
run cut-report cut in/talk.mp4 -p default-1t --fake-transcript talk.json --report report.json -o out
sed -E 's/"(seconds|[a-z_]*_seconds)": *[0-9.e-]+/"\1": T/g' report.json >"$dest/cut-report.json"
rm -f report.json
keep cut-report out

# Preset-driven jobs.
for p in shorts podcast lecture zh-talking-head youtube; do
  run "run-$p" run --preset "$p-1t" in/talk.mp4 --fake-transcript talk.json -o out
  keep "run-$p" out
done

# Align: a plain script, and an SRT retimed only.
sed -n '/^[^0-9]/p' "$dest/caption-tiny/talk.srt" | grep -v -- '-->' >"$scratch/script.txt"
run align-script align in/talk.mp4 --script script.txt -m tiny.en -t 2 -o out
keep align-script out
run align-retime align in/talk.mp4 --script "$dest/caption-tiny/talk.srt" --retime-only -m tiny.en -t 2 -o out
keep align-retime out

# Help and version text.
run help --help
run version --version
for c in run caption cut review align presets model watch; do run "help-$c" "$c" --help; done
for c in "model list" "model import" "model pull" "model path" "presets show"; do
  run "help-${c// /-}" $c --help
done

# Errors.
run err-missing caption in/nope.mp4 --fake-transcript talk.json
run err-nocaptions-fillers cut in/talk.mp4 --no-captions --fillers en
run err-align-noscript align in/talk.mp4
run err-bad-export cut in/talk.mp4 --export aaf
run err-bad-preset caption in/talk.mp4 --preset nosuch
printf '[cut]\nmin_silence = -1\n' >bad.toml
run err-preset-value cut in/talk.mp4 --preset bad.toml
printf 'mode = "cut"\n[caption]\nmax_linechars = 3\n' >bad2.toml
run err-preset-key caption in/talk.mp4 --preset bad2.toml
rm -f bad.toml bad2.toml

# Timings vary between runs: blank them in what the runs printed.
for f in "$dest"/*.stdout "$dest"/*.stderr; do
  sed -i -E 's/[0-9]+(\.[0-9]+)? ?(s|ms)\b/T/g; s/[0-9.]+x realtime/Tx realtime/g;
    s/"([a-z_]*seconds)": *[0-9.e-]+/"\1": T/g' "$f"
done
(cd "$dest" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum >SHA256SUMS)
echo "$n runs; outputs and hashes in $dest" >&2
