#!/bin/sh
# test-stream.sh: sends a synthetic test pattern and tone, in real time (-re), to the test
# ingest named in a stream service's env file, never to production and never live input.
# The key is read from its file for the run only; the ffmpeg log goes to a private folder
# and every URL in it is redacted before anything is printed, so the key never reaches a
# log, a terminal or an error message.
#
# usage: test-stream.sh ENV_FILE SECONDS LOG_DIR
# Encoder settings come from the environment (defaults in brackets): SIZE [1280x720],
# FPS [30], VCODEC [libx264], PRESET [veryfast], KBPS [2500], BUFSIZE_KBPS [2 x KBPS],
# GOP_FRAMES [2 x FPS], AUDIO_RATE [48000], AUDIO_KBPS [128], FORMAT [flv; mpegts for SRT].
# Exit: ffmpeg's exit status (0 when the whole run was sent); 2 on bad use.
# Dependencies: POSIX sh, ffmpeg (FFmpeg 5.1 or later).

[ $# -eq 3 ] || { echo "usage: test-stream.sh ENV_FILE SECONDS LOG_DIR" >&2; exit 2; }
env_file=$1 seconds=$2 log_dir=$3
case $seconds in '' | *[!0-9]*) echo "test-stream: SECONDS must be a whole number" >&2; exit 2 ;; esac
[ -r "$env_file" ] || { echo "test-stream: cannot read $env_file" >&2; exit 2; }

endpoint=$(sed -n 's/^TEST_STREAM_ENDPOINT=//p' "$env_file" | tail -n 1)
key_file=$(sed -n 's/^TEST_STREAM_KEY_FILE=//p' "$env_file" | tail -n 1)
[ -n "$endpoint" ] || { echo "test-stream: TEST_STREAM_ENDPOINT is not set in $env_file" >&2; exit 2; }
if [ -z "$key_file" ] || [ ! -r "$key_file" ]; then
  echo "test-stream: the test key file named by TEST_STREAM_KEY_FILE is not readable" >&2
  exit 2
fi

umask 077
if ! mkdir -p "$log_dir" || ! chmod 700 "$log_dir"; then exit 2; fi
log=$log_dir/test-stream.log

size=${SIZE:-1280x720} fps=${FPS:-30} vcodec=${VCODEC:-libx264} preset=${PRESET:-veryfast}
kbps=${KBPS:-2500} bufsize=${BUFSIZE_KBPS:-$((${KBPS:-2500} * 2))} gop=${GOP_FRAMES:-$((${FPS:-30} * 2))}
arate=${AUDIO_RATE:-48000} akbps=${AUDIO_KBPS:-128}
case $endpoint in srt://*) format=${FORMAT:-mpegts} ;; *) format=${FORMAT:-flv} ;; esac

key=$(cat "$key_file")
case $endpoint in
  srt://*) url="$endpoint" ;;   # SRT carries the passphrase in the env file's endpoint options
  *) url="${endpoint%/}/$key" ;;
esac

ffmpeg -hide_banner -nostdin -loglevel info \
  -re -f lavfi -i "testsrc2=size=$size:rate=$fps:duration=$seconds" \
  -re -f lavfi -i "sine=frequency=1000:sample_rate=$arate:duration=$seconds" \
  -c:v "$vcodec" -preset "$preset" -pix_fmt yuv420p \
  -b:v "${kbps}k" -maxrate "${kbps}k" -bufsize "${bufsize}k" \
  -g "$gop" -keyint_min "$gop" -sc_threshold 0 \
  -c:a aac -ar "$arate" -b:a "${akbps}k" \
  -f "$format" "$url" > "$log" 2>&1
rc=$?

# Redact every URL and the key itself, wherever ffmpeg printed them.
KEY=$key awk '
  BEGIN { key = ENVIRON["KEY"] }
  {
    if (key != "") while ((i = index($0, key)) > 0) $0 = substr($0, 1, i - 1) "<key redacted>" substr($0, i + length(key))
    gsub(/[a-z][a-z0-9+.-]*:\/\/[^ \t"]*/, "<url redacted>")
    print
  }' "$log" > "$log.tmp" && mv "$log.tmp" "$log"
unset key url

if [ "$rc" -ne 0 ]; then
  echo "FAIL: the synthetic stream ended with exit code $rc; last errors (redacted):"
  tr '\r' '\n' < "$log" | grep -iE 'error|fail|refused|denied|401|403|timed out' | tail -n 20
else
  echo "OK: $seconds s of synthetic stream sent in real time; log: $log"
fi
exit "$rc"
