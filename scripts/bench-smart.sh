#!/usr/bin/env bash
# Smart-render benchmark (issue 14): on generated camera-like clips (grainy 1080p30 / 2160p30
# H.264 with B-frames, GOP 1 s or 2 s, speech-like bursts with pauses), side by side and
# alternating: `subcut cut --no-captions` with --render smart and --render reencode,
# auto-editor 23.32.1 (same threshold and margins; its venv as in scripts/bench-cut.sh), and a
# plain `ffmpeg -c copy` of the same kept spans (the concat demuxer with inpoint/outpoint: the
# physical floor, cutting at key frames only). Reports median wall time, peak RSS (GNU time)
# and, for subcut, the share of frames re-encoded, and the PSNR/SSIM of the re-encoded edge
# frames against the source frames they show.
#
#   scripts/bench-smart.sh [RUNS] [CLIPS]     defaults: 3  "1080:1:120 1080:2:120 2160:1:60"
#
# A clip is HEIGHT:GOP_SECONDS:DURATION_SECONDS. Environment: AE_VENV (see bench-cut.sh),
# SUBCUT=PATH (a built binary), BENCH_MD=FILE (replace the section between
# <!-- bench-smart:start --> and <!-- bench-smart:end -->; default docs/BENCH.md; empty: print).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
clips="${2:-1080:1:120 1080:2:120 2160:1:60}"
ae_venv="${AE_VENV:-/tmp/subcut-bench-auto-editor}"
bench_md="${BENCH_MD-docs/BENCH.md}"
for c in ffmpeg ffprobe python3 /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "bench-smart: needs $c" >&2; exit 2; }
done
if [[ -n "${SUBCUT:-}" ]]; then subcut="$SUBCUT"; else
  cargo build --release --locked --quiet --bin subcut
  subcut=target/release/subcut
fi
ae="$ae_venv/bin/auto-editor"
if ! [[ -x "$ae" ]] || [[ "$("$ae" --version 2>/dev/null)" != *"23.32.1"* ]]; then
  echo "bench-smart: installing auto-editor 23.32.1 into $ae_venv" >&2
  python3 -m venv "$ae_venv"
  "$ae_venv/bin/pip" install -q --no-deps auto-editor==23.32.1
  "$ae_venv/bin/pip" install -q av==12.3.0 "numpy<2" pillow 2>&1 | grep -v 'requires\|incompatible' >&2 || true
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# auto-editor's `-c:v h264` becomes subcut's default encoder settings (as in bench-cut.sh).
mkdir -p "$tmp/ffbin"
cat > "$tmp/ffbin/ffmpeg" <<'EOF'
#!/usr/bin/env bash
args=() prev=
for a in "$@"; do
  if [[ $prev == -c:v && $a == h264 ]]; then args+=(libx264 -crf 23 -preset veryfast); else args+=("$a"); fi
  prev=$a
done
exec ffmpeg "${args[@]}"
EOF
chmod +x "$tmp/ffbin/ffmpeg"
ln -s "$(command -v ffprobe)" "$tmp/ffbin/ffprobe"

make_clip() { # HEIGHT GOP_S SECS OUT: grainy moving picture, speech-like bursts with pauses
  local h=$1 g=$2 secs=$3 w=$(( $1 * 16 / 9 ))
  # Pauses of 0.6–1.4 s between 2–4 s of "speech" (noise-modulated tones).
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=${w}x${h}:rate=30,noise=alls=12:allf=t" \
    -f lavfi -i "aevalsrc='0.4*sin(2*PI*(180+40*sin(3*t))*t)*(0.6+0.4*sin(17*t))*lt(mod(t\,4.3+0.8*sin(t/7))\,3.1)':s=48000" \
    -t "$secs" -c:v libx264 -preset faster -crf 18 -g $(( 30 * g )) -keyint_min $(( 30 * g )) \
    -sc_threshold 0 -bf 3 -pix_fmt yuv420p -c:a aac -b:a 160k -movflags +faststart "$4"
}
measure() { # NAME CMD...: appends "NAME wall_s rss_kb" to $tmp/times
  local name=$1; shift
  /usr/bin/time -f "$name %e %M" -a -o "$tmp/times" "$@" >/dev/null 2>"$tmp/last.err" \
    || { echo "bench-smart: $name failed:" >&2; cat "$tmp/last.err" >&2; exit 1; }
}
opts=(--no-captions --threshold=-35dB --margin 0.15s,0.2s --min-silence 0.5s)
section=$(mktemp)
{
  echo "Generated clips, $runs alternating runs each (median wall time, peak RSS), $(nproc) cores,"
  echo "$(date -u +%F), $(git rev-parse --short HEAD). \`smart\` / \`reencode\`: \`subcut cut --no-captions"
  echo "--render MODE\`; auto-editor 23.32.1 with the same threshold, margins and x264 settings;"
  echo "\`copy\`: \`ffmpeg -f concat\` with inpoint/outpoint per kept span and \`-c copy\` (cuts at key"
  echo "frames only: the floor). Edge quality: PSNR/SSIM of the smart output's re-encoded frames against"
  echo "the source frames they show; every copied frame is compared too (bit-exact: PSNR inf)."
  echo
  echo "| clip | input | smart | reencode | auto-editor | copy | smart / auto-editor | smart / copy | frames re-encoded | edge frames PSNR / SSIM (mean/worst) | AAC frames encoded (smart) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} > "$section"
for c in $clips; do
  IFS=: read -r h g secs <<<"$c"
  in="$tmp/in-${h}p-gop${g}.mp4"
  echo "bench-smart: making ${h}p GOP ${g}s ${secs}s" >&2
  make_clip "$h" "$g" "$secs" "$in"
  size=$(du -m "$in" | cut -f1)
  # The kept spans, once, for the copy and the reference.
  rm -rf "$tmp/sm0"
  "$subcut" cut "$in" "${opts[@]}" --render smart --export json --json -o "$tmp/sm0" >"$tmp/sm0.json" 2>/dev/null
  cutlist=$(ls "$tmp"/sm0/*.cutlist.json)
  python3 - "$cutlist" "$in" > "$tmp/copy.txt" <<'EOF'
import json, sys
for k in json.load(open(sys.argv[1]))["keep"]:
    print(f"file '{sys.argv[2]}'\ninpoint {k['start']}\noutpoint {k['end']}")
EOF
  read -r frames copied afr acopied < <(python3 -c "
import json; r = json.load(open('$tmp/sm0.json'))['inputs'][0]['render']
print(r['frames'], r['copied_frames'], r.get('audio_frames', 0), r.get('audio_copied_frames', 0))" 2>/dev/null || echo "0 0 0 0")
  : > "$tmp/times"
  for r in $(seq "$runs"); do
    rm -rf "$tmp"/o-*; mkdir -p "$tmp/o-ae"
    measure smart "$subcut" cut "$in" "${opts[@]}" --render smart -o "$tmp/o-smart"
    measure reencode "$subcut" cut "$in" "${opts[@]}" --render reencode -o "$tmp/o-re"
    measure ae "$ae" "$in" --edit "audio:threshold=0.0178,mincut=15,minclip=9" --margin 0.15s,0.2s \
      --video-codec h264 --video-bitrate unset --audio-codec aac \
      --ffmpeg-location "$tmp/ffbin/ffmpeg" --no-open --progress none -o "$tmp/o-ae/out.mp4"
    measure copy ffmpeg -v error -y -f concat -safe 0 -i "$tmp/copy.txt" -c copy "$tmp/o-copy.mp4"
  done
  # Edge quality: the smart output against the source frames it shows (picked by frame
  # number from the cut list, both sides re-timed by index). Copied frames are bit-exact
  # (PSNR inf, counted); the figures are over the re-encoded frames.
  python3 - "$cutlist" > "$tmp/ref.filter" <<'EOF'
import json, sys
keep = json.load(open(sys.argv[1]))["keep"]
cond = "+".join(f"between(n\\,{k['start_frame']}\\,{k['end_frame'] - 1})" for k in keep)
print(f"[0:v]select='{cond}',setpts=N/FRAME_RATE/TB[ref];[1:v]setpts=N/FRAME_RATE/TB[out]")
EOF
  smart_out=$(ls "$tmp"/sm0/*.cut.mp4)
  for m in psnr ssim; do
    (cat "$tmp/ref.filter"; echo ";[ref][out]$m=stats_file=$tmp/$m.txt") > "$tmp/$m.filter"
    ffmpeg -v error -i "$in" -i "$smart_out" -filter_complex_script "$tmp/$m.filter" -f null - 2>/dev/null || true
  done
  read -r psnr ssim exact < <(python3 - "$tmp/psnr.txt" "$tmp/ssim.txt" <<'EOF'
import sys, re
def col(path, key):
    return [m.group(1) for line in open(path) if (m := re.search(key + r":(\S+)", line))]
p = col(sys.argv[1], "psnr_avg"); s = col(sys.argv[2], "All")
edges = [i for i, v in enumerate(p) if v != "inf"]
pe = [float(p[i]) for i in edges]; se = [float(s[i]) for i in edges if i < len(s)]
print(f"{sum(pe) / max(len(pe), 1):.1f}/{min(pe, default=0):.1f}",
      f"{sum(se) / max(len(se), 1):.4f}/{min(se, default=0):.4f}", len(p) - len(edges))
EOF
  )
  python3 - "$tmp/times" "$c" "$size" "$frames" "$copied" "$psnr" "$ssim" "$exact" "$afr" "$acopied" >> "$section" <<'EOF'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    n, w, m = line.split(); rows.setdefault(n, []).append((float(w), int(m)))
med = {n: (st.median(w for w, _ in v), max(m for _, m in v) / 1024) for n, v in rows.items()}
c, size, frames, copied, psnr, ssim, exact, afr, acopied = sys.argv[2:]
h, g, secs = c.split(":")
cell = lambda n: f"{med[n][0]:.1f} s, {med[n][1]:.0f} MB"
re_share = 100 * (int(frames) - int(copied)) / max(int(frames), 1)
print(f"| {h}p30 GOP {g} s, {secs} s | {size} MB | {cell('smart')} | {cell('reencode')} | {cell('ae')} | "
      f"{cell('copy')} | {med['smart'][0] / med['ae'][0]:.2f} | {med['smart'][0] / med['copy'][0]:.1f} | "
      f"{int(frames) - int(copied)} of {frames} ({re_share:.0f} %); {exact} copied frames bit-exact | {psnr} dB / {ssim} | "
      f"{int(afr) - int(acopied)} of {afr} |")
EOF
  tail -n 1 "$section"  # each row as soon as it is measured
  rm -f "$in"
done
cat "$section"
if [[ -n "$bench_md" ]]; then
  python3 - "$bench_md" "$section" <<'EOF'
import sys, re
md, body = open(sys.argv[1]).read(), open(sys.argv[2]).read()
start, end = "<!-- bench-smart:start -->", "<!-- bench-smart:end -->"
block = f"{start}\n{body}{end}"
md = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, md, flags=re.S) if start in md \
    else md.rstrip() + f"\n\n## Smart render (`scripts/bench-smart.sh`)\n\n{block}\n"
open(sys.argv[1], "w").write(md)
EOF
fi
