#!/usr/bin/env bash
# subcut vs faster-whisper on the same audio and the same weights, side by side.
#
#   scripts/bench-compare.sh [RUNS]            default 3 runs per configuration
#
# Environment (all optional):
#   CONFIGS  space-separated configurations, run in this order, alternating A B A B …:
#            `fw`                   faster-whisper int8 on the CTranslate2 base directory
#            `fw-vad`               the same with its own VAD (vad_filter=True)
#            `LABEL=MODEL[,ENV=VAL…]` `subcut caption --model MODEL` with extra environment,
#                                   e.g. `q8=base-q8_0` or `tiled=base,SUBCUT_SPEECH_ONLY=0`
#            default: "subcut=base fw"
#   CLIPS    which inputs: x5 (talk.mp4 × 5, 74.5 s), sil (10 min, 25 % inserted silence),
#            nosil (the same speech without the inserted silence), jfk (../shared/media/jfk.wav,
#            11 s real voice; skipped when absent); default "x5 sil nosil jfk"
#   THREADS  threads for both engines (default 2)
#   WRITE    1 (default) writes the tables into docs/BENCH.md between the
#            `<!-- bench-compare:start -->` / `<!-- bench-compare:end -->` markers (other
#            sections are kept); 0 only prints them
#
# Both engines get the same thing: language en, greedy decoding (faster-whisper beam_size=1,
# best_of=1; subcut is always greedy), the same threads, each engine's default temperature
# fallback, a fresh process per run (so model load is in the wall time). faster-whisper loads
# ~/.cache/subcut/ct2/base (the very weights `subcut model import` converts) with
# compute_type int8; it is installed with pip into a throw-away venv under target/.
# Wall and peak RSS come from /usr/bin/time -v; subcut's stage seconds from its --json summary;
# WER against the fixtures' truth text (lower-cased words, punctuation dropped).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
configs="${CONFIGS:-subcut=base fw}"
clips="${CLIPS:-x5 sil nosil jfk}"
threads="${THREADS:-2}"
write="${WRITE:-1}"

say() { printf '\033[1mbench-compare:\033[0m %s\n' "$*" >&2; }
command -v ffmpeg >/dev/null || { echo "bench-compare: needs the ffmpeg CLI (apt install ffmpeg)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench-compare: needs GNU time (apt install time)" >&2; exit 2; }
ct2="${XDG_CACHE_HOME:-$HOME/.cache}/subcut/ct2/base"
[[ -f "$ct2/model.bin" ]] || { echo "bench-compare: $ct2 is missing: run scripts/setup.sh" >&2; exit 2; }

work=target/bench-compare
mkdir -p "$work"
if [[ ! -x "$work/venv/bin/python" ]] || ! "$work/venv/bin/python" -c 'import faster_whisper' 2>/dev/null; then
  say "installing faster-whisper into $work/venv"
  rm -rf "$work/venv"
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check 'faster-whisper==1.2.1'
fi
say "building subcut"
cargo build --release --locked --quiet --bin subcut

# Inputs, assembled with the ffmpeg CLI from the committed fixtures.
clipdir="$PWD/$work/clips"
mkdir -p "$clipdir"
if [[ ! -f "$clipdir/talk-x5.mp4" ]]; then
  for _ in 1 2 3 4 5; do echo "file '$PWD/fixtures/talk.mp4'"; done > "$clipdir/x5.txt"
  ffmpeg -v error -y -f concat -safe 0 -i "$clipdir/x5.txt" -c copy "$clipdir/talk-x5.mp4"
fi
if [[ ! -f "$clipdir/sil25.m4a" || ! -f "$clipdir/nosil.m4a" ]]; then
  say "assembling the 10-minute clips"
  for f in talk.mp4 voice.mp3 late-audio.mkv; do
    ffmpeg -v error -y -i "fixtures/$f" -vn -ac 1 -ar 16000 -c:a pcm_s16le "$clipdir/${f%%.*}.wav"
  done
  # A quiet room, not digital zero: white noise at about -65 dBFS RMS.
  for s in 2 3 5 8 13; do
    ffmpeg -v error -y -f lavfi -i "anoisesrc=r=16000:a=0.001:c=white:seed=$s" -t "$s" -ac 1 \
      -c:a pcm_s16le "$clipdir/pause$s.wav"
  done
  # talk, voice, late-audio in turn until ~450 s of content; after each item a pause from the
  # cycle 5 8 2 13 3 s while inserted silence stays under a quarter of the media.
  python3 - "$clipdir" <<'EOF'
import json, sys, wave
d = sys.argv[1]
items = [("talk", "fixtures/talk.truth.json"), ("voice", "fixtures/voice.truth.json"),
         ("late-audio", "fixtures/late-audio.truth.json")]
def secs(p):
    with wave.open(p) as w:
        return w.getnframes() / w.getframerate()
pauses = [5, 8, 2, 13, 3]
sil, nosil, texts = [], [], []
content = inserted = 0.0
i = 0
while content < 450:
    name, truth = items[i % 3]
    wav = f"{d}/{name}.wav"
    sil.append(wav); nosil.append(wav)
    content += secs(wav)
    texts.append(json.load(open(truth))["text"])
    p = pauses[i % len(pauses)]
    if (inserted + p) / (content + inserted + p) <= 0.25:
        sil.append(f"{d}/pause{p}.wav"); inserted += p
    i += 1
for name, files in (("sil25", sil), ("nosil", nosil)):
    with open(f"{d}/{name}.txt", "w") as f:
        f.writelines(f"file '{x}'\n" for x in files)
with open(f"{d}/long.truth.txt", "w") as f:
    f.write(" ".join(texts) + "\n")
print(f"content {content:.1f} s, inserted silence {inserted:.1f} s "
      f"({100 * inserted / (content + inserted):.1f} % of {content + inserted:.1f} s)", file=sys.stderr)
EOF
  for name in sil25 nosil; do
    ffmpeg -v error -y -f concat -safe 0 -i "$clipdir/$name.txt" -c:a aac -b:a 64k "$clipdir/$name.m4a"
  done
fi
python3 - "$clipdir" <<'EOF'
import json, sys
t = json.load(open("fixtures/talk.truth.json"))["text"]
open(f"{sys.argv[1]}/x5.truth.txt", "w").write(" ".join([t] * 5) + "\n")
EOF

inputs=()
for c in $clips; do
  case "$c" in
    x5) inputs+=("talk-x5.mp4=$clipdir/talk-x5.mp4=$clipdir/x5.truth.txt") ;;
    sil) inputs+=("10 min, 25 % silence=$clipdir/sil25.m4a=$clipdir/long.truth.txt") ;;
    nosil) inputs+=("same speech, no inserted silence=$clipdir/nosil.m4a=$clipdir/long.truth.txt") ;;
    jfk) if [[ -f ../shared/media/jfk.wav ]]; then
           inputs+=("jfk.wav (real voice)=$(realpath ../shared/media/jfk.wav)=$(realpath ../shared/media/jfk.txt)")
         else say "no ../shared/media/jfk.wav: skipping the real-voice line"; fi ;;
    *) echo "bench-compare: unknown clip $c" >&2; exit 2 ;;
  esac
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average before: $load_before"
"$work/venv/bin/python" - "$runs" "$threads" "$ct2" "$work" "$load_before" "$write" "$configs" "${inputs[@]}" <<'EOF'
import json, os, re, statistics, subprocess, sys, tempfile, time

runs, threads, ct2, work, load_before, write, configs = sys.argv[1:8]
runs, threads = int(runs), int(threads)
inputs = [a.split("=", 2) for a in sys.argv[8:]]
configs = configs.split()
py = os.path.abspath(f"{work}/venv/bin/python")

FW = r'''
import json, sys, time
t0 = time.perf_counter()
from faster_whisper import WhisperModel, decode_audio
model_dir, path, out, threads, vad = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
m = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
t1 = time.perf_counter()
audio = decode_audio(path, sampling_rate=16000)
t2 = time.perf_counter()
segments, info = m.transcribe(audio, language="en", beam_size=1, best_of=1, vad_filter=vad)
text = " ".join(s.text.strip() for s in segments)
t3 = time.perf_counter()
open(out, "w").write(text + "\n")
print(json.dumps({"load": t1 - t0, "decode": t2 - t1, "transcribe": t3 - t2,
                  "media": len(audio) / 16000}))
'''
fw_script = os.path.abspath(f"{work}/fw_run.py")
open(fw_script, "w").write(FW)

def words(s):
    out = []
    for w in s.split():
        w = "".join(c for c in w if c.isalnum()).lower()
        if w:
            out.append(w)
    return out

def wer(ref, hyp):
    r, h = words(ref), words(hyp)
    prev = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        cur = [i] + [0] * len(h)
        for j in range(1, len(h) + 1):
            cur[j] = min(prev[j - 1] + (r[i - 1] != h[j - 1]), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return prev[len(h)] / max(1, len(r))

def timed(cmd, env=None):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, env=env,
                           capture_output=True, text=True)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            sys.exit(f"bench-compare: {' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read()).group(1))
    return p.stdout, wall, rss / 1024

def run(config, path, outdir):
    if config in ("fw", "fw-vad"):
        out = f"{outdir}/fw.txt"
        stdout, wall, rss = timed([py, fw_script, ct2, path, out, str(threads),
                                   "1" if config == "fw-vad" else "0"])
        j = json.loads(stdout.strip().splitlines()[-1])
        stages = {"load": j["load"], "decode": j["decode"], "transcribe": j["transcribe"]}
        return open(out).read(), wall, rss, stages, j["media"]
    label, spec = config.split("=", 1)
    model, *extra = spec.split(",")
    env = dict(os.environ)
    env.update(e.split("=", 1) for e in extra)
    stdout, wall, rss = timed(["target/release/subcut", "caption", path, "--model", model,
                               "--language", "en", "--threads", str(threads), "--jobs", "1",
                               "--format", "txt", "--json", "-o", outdir], env=env)
    j = json.loads(stdout)["inputs"][0]
    stem = os.path.splitext(os.path.basename(path))[0]
    text = open(f"{outdir}/{stem}.txt").read()
    stages = {k: j[f"{k}_seconds"] for k in ("decode", "analysis", "transcribe", "write")}
    return text, wall, rss, stages, j["media_seconds"]

def label(c):
    if c == "fw":
        return "faster-whisper int8"
    if c == "fw-vad":
        return "faster-whisper int8, vad_filter"
    name, spec = c.split("=", 1)
    model, *extra = spec.split(",")
    return f"subcut {model}" + (f" ({', '.join(extra)})" if extra else "") + (f" [{name}]" if name != "subcut" else "")

med = statistics.median
peer = next((c for c in configs if c == "fw"), None)
tables = []
for name, path, truth_file in inputs:
    truth = open(truth_file).read()
    res = {c: [] for c in configs}
    for r in range(runs):
        for c in configs:
            with tempfile.TemporaryDirectory() as outdir:
                text, wall, rss, stages, media = run(c, path, outdir)
            res[c].append((wall, rss, stages, media, wer(truth, text), text))
            print(f"  {name} run {r + 1}/{runs} {label(c)}: {wall:.2f} s, {rss:.0f} MiB, "
                  f"WER {res[c][-1][4]:.3f}", file=sys.stderr, flush=True)
    media = res[configs[0]][0][3]
    rows = []
    peer_wall = med(x[0] for x in res[peer]) if peer else None
    for c in configs:
        v = res[c]
        wall = med(x[0] for x in v)
        walls = " ".join(f"{x[0]:.2f}" for x in v)
        st = {k: med(x[2][k] for x in v) for k in v[0][2]}
        rtf = lambda k: f"{media / st[k]:.0f}×" if k in st and st[k] > 0 else "–"
        tr = f"{st['transcribe']:.2f} s ({media / st['transcribe']:.1f}×)"
        other = st.get("load", wall - sum(st.values()))
        ratio = f"{wall / peer_wall:.2f}" if peer_wall else "–"
        w = sorted(x[4] for x in v)
        wers = f"{med(w):.3f}" if w[0] == w[-1] else f"{med(w):.3f} ({w[0]:.3f}–{w[-1]:.3f})"
        rows.append(f"| {label(c)} | **{wall:.2f}** ({walls}) | {ratio} | {rtf('decode')} | "
                    f"{rtf('analysis')} | {tr} | {rtf('write')} | {other:.2f} | {wers} | "
                    f"{med(x[1] for x in v):.0f} |")
    tables.append((name, media, rows))
    print(f"\n### {name} ({media:.1f} s)\n", file=sys.stderr)
    print("\n".join(rows), file=sys.stderr)

load_after = open("/proc/loadavg").read().split()[:3]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
md = ["<!-- bench-compare:start -->",
      "## subcut vs faster-whisper (same weights, same audio)", "",
      f"Command: `CONFIGS=\"{' '.join(configs)}\" scripts/bench-compare.sh {runs}` "
      f"({time.strftime('%Y-%m-%d', time.gmtime())}, commit {commit}{' + uncommitted changes' if dirty else ''}, "
      f"{os.cpu_count()} cores ({cpu}), {threads} threads for both engines, median of {runs} "
      f"alternating runs; load average {load_before} before, {' '.join(load_after)} after).", "",
      "faster-whisper 1.2.1 loads `~/.cache/subcut/ct2/base` with `compute_type=\"int8\"`, "
      "`beam_size=1, best_of=1, language=\"en\"` (its defaults otherwise: temperature fallback, "
      "no VAD unless stated); subcut runs `caption --language en --threads "
      f"{threads} --jobs 1 --format txt --json`. Wall = whole process (model load included), "
      "by `/usr/bin/time -v`, which also gives the peak RSS. Stage columns: media seconds per "
      "wall second of that stage (subcut's `--json` summary; faster-whisper: its `decode_audio` "
      "and `transcribe` timed inside the process). \"load + other\" = wall minus the stages "
      "(faster-whisper: model load). WER against the fixtures' truth text.", ""]
for name, media, rows in tables:
    md += [f"**{name}** ({media:.1f} s of media)", "",
           "| engine | wall s, median (runs) | ÷ faster-whisper | decode × RT | analysis × RT | transcription s (× RT) | output × RT | load + other s | WER | peak RSS MiB |",
           "|---|---|---|---|---|---|---|---|---|---|"] + rows + [""]
md.append("<!-- bench-compare:end -->")
section = "\n".join(md)
print("\n" + section)
if write == "1":
    path = "docs/BENCH.md"
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    a, b = old.find("<!-- bench-compare:start -->"), old.find("<!-- bench-compare:end -->")
    if a >= 0 and b > a:
        new = old[:a] + section + old[b + len("<!-- bench-compare:end -->"):]
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    open(path, "w").write(new)
    print(f"bench-compare: wrote the section into {path}", file=sys.stderr)
EOF
