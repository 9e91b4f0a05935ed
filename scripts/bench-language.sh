#!/usr/bin/env bash
# What per-window language detection costs (issue 15), and what beam search buys.
#
#   scripts/bench-language.sh detect [RUNS] [COPIES]   default 2 runs, talk.mp4 × 8 (119 s)
#   scripts/bench-language.sh beam [BEAMS]             default "1 2 5"
#
# detect: one long single-language clip (fixtures/talk.mp4 repeated COPIES times), captioned
#   with `--language auto` and SUBCUT_DEBUG_WINDOWS=1, which prints every whisper.cpp call
#   ("window … s in full()") and every detection ("language detection … s"). Detection's
#   share is the sum of the detection lines over the sum of both; the same clip with
#   `--language en` (no detection at all) gives the transcription time without it. Runs
#   alternate auto / en; medians of RUNS. Both measured in the same process at the same
#   moment, so the share holds on a busy machine even when the seconds do not.
# beam: the real voices in ../shared/media (jfk en; three AISHELL/WenetSpeech zh utterances;
#   autocut-test001 zh + en), each captioned with --beam-size B (default model, language
#   auto): token error rate against the reference text (English: words; Chinese: characters;
#   punctuation and case dropped, Traditional folded by subcut's own Simplified conversion)
#   and transcription seconds (subcut -v).
# MODEL (default base-q8_0) and THREADS (default 2) apply to both.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-detect}"
model="${MODEL:-base-q8_0}"
threads="${THREADS:-2}"
bin=target/release/subcut
[[ -x $bin ]] || { echo "bench-language: build first: cargo build --release" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
say() { printf '\033[1mbench-language:\033[0m %s\n' "$*" >&2; }

if [[ $what == detect ]]; then
  runs="${2:-2}"
  copies="${3:-8}"
  list="$tmp/list.txt"
  for _ in $(seq "$copies"); do echo "file '$PWD/fixtures/talk.mp4'" >>"$list"; done
  ffmpeg -v error -f concat -safe 0 -i "$list" -c copy "$tmp/long.mp4"
  for r in $(seq "$runs"); do
    for lang in auto en; do
      SUBCUT_DEBUG_WINDOWS=1 "$bin" caption "$tmp/long.mp4" -m "$model" -t "$threads" \
        --language "$lang" -o "$tmp/out-$lang" -v 2>"$tmp/$lang-$r.log" >/dev/null
      say "run $r $lang done"
    done
  done
  python3 - "$tmp" "$runs" <<'PY'
import re, statistics, sys, glob
tmp, runs = sys.argv[1], int(sys.argv[2])
def parse(path):
    full = det = 0.0; n = dets = 0; tr = None; media = None
    for l in open(path):
        m = re.search(r"window ([\d.]+) s: .* ([\d.]+) s in full\(\)", l)
        if m: full += float(m.group(2)); n += 1
        m = re.search(r"language detection ([\d.]+) s", l)
        if m: det += float(m.group(1)); dets += 1
        m = re.search(r"([\d.]+) s of media, .* transcribe ([\d.]+) s", l)
        if m: media, tr = float(m.group(1)), float(m.group(2))
    return full, det, n, dets, tr, media
rows = {lang: [parse(f"{tmp}/{lang}-{r}.log") for r in range(1, runs + 1)] for lang in ("auto", "en")}
med = lambda xs: statistics.median(xs)
a, e = rows["auto"], rows["en"]
share = med([d / (f + d) for f, d, *_ in a])
print(f"| clip | media s | whisper calls (auto) | detections | detection s | full() s | detection share | transcribe s auto | transcribe s en | auto ÷ en |")
print("|---|---|---|---|---|---|---|---|---|---|")
print(f"| talk.mp4 × {len(open(glob.glob(tmp + '/list.txt')[0]).readlines())} | {a[0][5]:.1f} | {a[0][2]} | {a[0][3]} | "
      f"{med([x[1] for x in a]):.2f} | {med([x[0] for x in a]):.2f} | {100 * share:.1f} % | "
      f"{med([x[4] for x in a]):.2f} | {med([x[4] for x in e]):.2f} | {med([x[4] for x in a]) / med([x[4] for x in e]):.3f} |")
PY
elif [[ $what == beam ]]; then
  beams="${2:-1 2 5}"
  media=../shared/media
  [[ -d $media ]] || media=/work/shared/media
  clips=(jfk.wav BAC009S0764W0121.wav IT0011W0001.wav wenetspeech-net-S00000.wav autocut-test001.mp4)
  for b in $beams; do
    for c in "${clips[@]}"; do
      "$bin" caption "$media/$c" -m "$model" -t "$threads" --beam-size "$b" -f json \
        -o "$tmp/b$b" -v 2>"$tmp/b$b-${c%.*}.log" >/dev/null
      say "beam $b $c done"
    done
  done
  python3 - "$tmp" "$media" "$beams" "${clips[@]}" <<'PY'
import json, re, sys, unicodedata
tmp, media, beams, clips = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
def tokens(s):
    out, word = [], ""
    for ch in s:
        cjk = "\u3400" <= ch <= "\u9fff"
        if ch.isalnum() and not cjk:
            word += ch.lower(); continue
        if word: out.append(word); word = ""
        if cjk: out.append(ch)
    if word: out.append(word)
    return out
def ter(ref, hyp):
    r, h = tokens(ref), tokens(hyp)
    d = list(range(len(h) + 1))
    for i, a in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, b in enumerate(h, 1):
            cur = d[j]
            d[j] = prev if a == b else 1 + min(prev, d[j - 1], d[j])
            prev = cur
    return d[len(h)] / max(1, len(r))
print("| clip | " + " | ".join(f"beam {b}: error rate, transcribe s" for b in beams) + " |")
print("|---|" + "---|" * len(beams))
tot = {b: [0.0, 0, 0.0] for b in beams}
for c in clips:
    stem = c.rsplit(".", 1)[0]
    ref = open(f"{media}/{stem}.txt").read()
    cells = []
    for b in beams:
        text = json.load(open(f"{tmp}/b{b}/{stem}.json"))["text"]
        log = open(f"{tmp}/b{b}-{stem}.log").read()
        tr = float(re.search(r"transcribe ([\d.]+) s", log).group(1))
        e = ter(ref, text)
        n = len(tokens(ref))
        tot[b][0] += e * n; tot[b][1] += n; tot[b][2] += tr
        cells.append(f"{e:.3f}, {tr:.2f}")
    print(f"| {c} | " + " | ".join(cells) + " |")
print("| all (token-weighted) | " + " | ".join(f"{tot[b][0] / tot[b][1]:.3f}, {tot[b][2]:.2f}" for b in beams) + " |")
PY
else
  echo "usage: scripts/bench-language.sh detect [RUNS] [COPIES] | beam [BEAMS]" >&2; exit 2
fi
