#!/bin/sh
# quality-gate.sh: the stream-deploy quality gate. Reads a capture written by
# probe-stream.sh (ffprobe `-of compact` stream and packet lines) and compares what was
# measured with what was configured. Bitrates and frame rate come from the packets over
# time, never from the declared `bit_rate` metadata; keyframe spacing comes from packets
# flagged `K`.
#
# usage: quality-gate.sh CAPTURE --kbps N --fps N --size WxH --codec NAME
#          --gop-seconds N --akbps N --arate N [--encoder-log FILE]
# Prints one PASS/FAIL row per metric. Exit 0: every row PASS; 1: a row FAILs; 2: bad use.
# Dependencies: POSIX sh and awk.

usage() { echo "usage: quality-gate.sh CAPTURE --kbps N --fps N --size WxH --codec NAME --gop-seconds N --akbps N --arate N [--encoder-log FILE]" >&2; exit 2; }

[ $# -ge 1 ] || usage
capture=$1; shift
[ -r "$capture" ] || { echo "quality-gate: cannot read capture $capture" >&2; exit 2; }
kbps='' fps='' size='' codec='' gop='' akbps='' arate='' encoder_log=''
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case $1 in
    --kbps) kbps=$2 ;;
    --fps) fps=$2 ;;
    --size) size=$2 ;;
    --codec) codec=$2 ;;
    --gop-seconds) gop=$2 ;;
    --akbps) akbps=$2 ;;
    --arate) arate=$2 ;;
    --encoder-log) encoder_log=$2 ;;
    *) usage ;;
  esac
  shift 2
done
for v in "$kbps" "$fps" "$gop" "$akbps" "$arate"; do
  case $v in '' | *[!0-9.]*) usage ;; esac
done
case $size in *x*) ;; *) usage ;; esac
[ -n "$codec" ] || usage

# Dropped frames: ffmpeg prints `drop=N` only once a frame was dropped, so none means 0.
drops=0
if [ -n "$encoder_log" ] && [ -r "$encoder_log" ]; then
  drops=$(tr '\r' '\n' < "$encoder_log" | sed -n 's/.*drop=[[:space:]]*\([0-9][0-9]*\).*/\1/p' | tail -n 1)
  [ -n "$drops" ] || drops=0
fi

LC_ALL=C awk -F'|' -v kbps="$kbps" -v fps="$fps" -v size="$size" -v codec="$codec" \
  -v gop="$gop" -v akbps="$akbps" -v arate="$arate" -v drops="$drops" '
function field(name,   i) {
  for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2)
  return ""
}
function row(metric, want, got, pass) {
  printf "%-18s %-14s %-14s %s\n", metric, want, got, (pass ? "PASS" : "FAIL")
  if (!pass) failed = 1
}
function abs(x) { return x < 0 ? -x : x }
$1 == "stream" {
  t = field("codec_type")
  if (t == "video" && vcodec == "") { vcodec = field("codec_name"); vsize = field("width") "x" field("height") }
  if (t == "audio" && acodec == "") { acodec = field("codec_name"); srate = field("sample_rate") }
  next
}
$1 == "packet" {
  t = field("codec_type"); pts = field("pts_time"); sz = field("size")
  if (pts == "" || pts == "N/A") next
  pts += 0
  if (t == "video") {
    vn++; vbytes += sz
    if (vn == 1 || pts < vfirst) vfirst = pts
    if (vn == 1 || pts > vlast) vlast = pts
    if (index(field("flags"), "K")) kf[++kn] = pts
  } else if (t == "audio") {
    an++; abytes += sz
    if (an == 1 || pts < afirst) afirst = pts
    if (an == 1 || pts > alast) alast = pts
  }
}
END {
  printf "%-18s %-14s %-14s %s\n", "metric", "configured", "measured", "status"
  if (vn < 2 || vlast <= vfirst) {
    row("video packets", "a stream", (vn + 0) " packets", 0)
    exit 1
  }
  # Rates over the time the packets span; each packet stands for one frame interval.
  vspan = (vlast - vfirst) * vn / (vn - 1)
  vk = vbytes * 8 / 1000 / vspan
  row("video bitrate", kbps " kbps", sprintf("%.0f kbps", vk), abs(vk - kbps) <= kbps * 0.15)
  mfps = (vn - 1) / (vlast - vfirst)
  row("frame rate", fps " fps", sprintf("%.2f fps", mfps), abs(mfps - fps) <= 0.01 * fps + 0.01)
  row("resolution", size, vsize, vsize == size)
  row("video codec", codec, vcodec, vcodec == codec)
  if (kn < 2) row("keyframe interval", gop " s", (kn + 0) " keyframes", 0)
  else {
    worst = 0; min = ""; max = ""
    for (i = 2; i <= kn; i++) {
      d = kf[i] - kf[i - 1]
      if (min == "" || d < min) min = d
      if (max == "" || d > max) max = d
      if (abs(d - gop) > worst) worst = abs(d - gop)
    }
    row("keyframe interval", gop " s", sprintf("%.3f-%.3f s", min, max), worst <= 0.1)
  }
  if (an < 2 || alast <= afirst) row("audio packets", "a stream", (an + 0) " packets", 0)
  else {
    ak = abytes * 8 / 1000 / ((alast - afirst) * an / (an - 1))
    row("audio bitrate", akbps " kbps", sprintf("%.0f kbps", ak), abs(ak - akbps) <= akbps * 0.10)
    row("audio sample rate", arate " Hz", srate " Hz", srate + 0 == arate + 0)
    off = (afirst - vfirst) * 1000
    row("A/V start offset", "0 ms", sprintf("%.0f ms", off), abs(off) <= 40)
  }
  row("dropped frames", "0", drops, drops + 0 == 0)
  exit failed
}' "$capture"
