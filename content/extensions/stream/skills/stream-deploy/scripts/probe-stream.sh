#!/bin/sh
# probe-stream.sh: records what a stream really carries, for quality-gate.sh. Reads
# SECONDS of the stream at URL with ffprobe and writes its stream lines (codec, size,
# sample rate) and every packet (type, time, size, flags) to OUT. The URL is read from
# a file so that it (and any key in it) never appears in a process list or a log.
#
# usage: probe-stream.sh URL_FILE SECONDS OUT
# Exit 0 when packets were captured; 1 when ffprobe failed or saw none (its error lines
# go to stderr with every URL redacted); 2 on bad use.
# Dependencies: POSIX sh, ffprobe (FFmpeg 5.1 or later).

[ $# -eq 3 ] || { echo "usage: probe-stream.sh URL_FILE SECONDS OUT" >&2; exit 2; }
url_file=$1 seconds=$2 out=$3
case $seconds in '' | *[!0-9]*) echo "probe-stream: SECONDS must be a whole number" >&2; exit 2 ;; esac
[ -r "$url_file" ] || { echo "probe-stream: cannot read $url_file" >&2; exit 2; }
url=$(head -n 1 "$url_file")
[ -n "$url" ] || { echo "probe-stream: $url_file is empty" >&2; exit 2; }

umask 077
err=$(mktemp) || exit 1
trap 'rm -f "$err"' EXIT
# -rw_timeout (microseconds) bounds a stalled read; the read itself is bounded by SECONDS.
if ! ffprobe -v error -rw_timeout 15000000 -read_intervals "%+$seconds" \
  -show_entries 'stream=codec_type,codec_name,width,height,sample_rate:packet=codec_type,pts_time,size,flags' \
  -of compact "$url" > "$out" 2> "$err"; then
  sed 's|[a-z][a-z0-9+.-]*://[^[:space:]]*|<url redacted>|g' "$err" | tail -n 5 >&2
  exit 1
fi
grep -q '^packet|' "$out" || { echo "probe-stream: no packets in $seconds s" >&2; exit 1; }
exit 0
