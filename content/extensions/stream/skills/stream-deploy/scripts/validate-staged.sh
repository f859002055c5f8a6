#!/bin/sh
# validate-staged.sh: the stream-deploy Stage 2 checks on a staged configuration folder.
# Prints one OK, WARN or FAIL line per check. Lines name files, never their content, so a
# leaked key is never copied into a terminal or a log.
#
# usage: validate-staged.sh STAGED_DIR SERVICE_USER [--no-network]
#   STAGED_DIR    the staged folder (/etc/stream/<service>.next) with `env` and
#                 `encoder-config.yaml`
#   SERVICE_USER  the user the unit runs as: it must own the key files
#   --no-network  skip the transport check of the output endpoint
# Exit 0 when no line says FAIL, 1 when one does, 2 on bad use.
# Dependencies: POSIX sh, grep, sed, awk; nc for the TCP check (WARN without it).

if [ $# -lt 2 ] || [ $# -gt 3 ] || { [ $# -eq 3 ] && [ "$3" != --no-network ]; }; then
  echo "usage: validate-staged.sh STAGED_DIR SERVICE_USER [--no-network]" >&2
  exit 2
fi
next=$1 user=$2 network=yes
[ "${3:-}" = --no-network ] && network=no
[ -d "$next" ] || { echo "validate-staged: $next is not a folder" >&2; exit 2; }
envf=$next/env
config=$next/encoder-config.yaml
failed=0
ok() { echo "OK: $*"; }
warn() { echo "WARN: $*"; }
fail() { echo "FAIL: $*"; failed=1; }
# Files under the staged folder whose content matches an ERE, names only.
files_matching() { grep -rlE -- "$1" "$next" 2>/dev/null | sort -u | sed 's/^/  /'; }

# a) No literal credential anywhere in the staged configuration (rule 3).
hits=$(files_matching '(rtmps?|srt)://[^[:space:]"]*[?&]([Kk]ey|[Ss]tream[Kk]ey|[Pp]assphrase|[Pp]ass|[Tt]oken)=[^$&{<[:space:]"]')
if [ -n "$hits" ]; then fail "a credential inside a stream URL in:"; echo "$hits"; else ok "no credential in stream URLs"; fi
hits=$(files_matching 'rtmps?://[^[:space:]/"]+/[^[:space:]/"]+/[A-Za-z0-9_-]{16,}')
if [ -n "$hits" ]; then fail "an RTMP URL ends in what looks like a stream key in:"; echo "$hits"; else ok "no key-like RTMP path segment"; fi
hits=$(grep -rEi '^[[:space:]]*(stream_key|passphrase|password|secret|token)[[:space:]]*[:=][[:space:]]*["'\'']?[A-Za-z0-9+/_-]{8,}' "$next" 2>/dev/null \
  | grep -Eiv '[:=][[:space:]]*["'\'']?(env|file|vault):' | cut -d: -f1 | sort -u | sed 's/^/  /')
if [ -n "$hits" ]; then fail "a literal secret value in:"; echo "$hits"; else ok "no literal secret values"; fi

# b) The environment file is there and names every endpoint and key file.
if [ -f "$envf" ]; then
  ok "env file present"
  for var in STREAM_ENDPOINT STREAM_KEY_FILE TEST_STREAM_ENDPOINT TEST_STREAM_KEY_FILE; do
    if grep -q "^$var=." "$envf"; then ok "$var set"; else fail "$var not set in $envf"; fi
  done
else
  fail "env file missing: $envf"
fi

# c) Each key file is owned by the service user and readable by nobody else.
for var in STREAM_KEY_FILE TEST_STREAM_KEY_FILE; do
  key_file=$(sed -n "s/^$var=//p" "$envf" 2>/dev/null | tail -n 1)
  [ -n "$key_file" ] || continue
  if [ ! -f "$key_file" ]; then fail "$var names a missing file"; continue; fi
  # ls -ln is the portable way to read the mode and the owner's uid.
  # shellcheck disable=SC2012
  listing=$(ls -ln "$key_file")
  mode=$(printf '%s\n' "$listing" | awk '{print $1}')
  uid=$(printf '%s\n' "$listing" | awk '{print $3}')
  want_uid=$(id -u "$user" 2>/dev/null) || { fail "no such user: $user"; continue; }
  case $mode in
    -rw-------* | -r--------*) ok "$var mode is 600 or 400" ;;
    *) fail "$var mode is $mode; it must be 600 or 400" ;;
  esac
  if [ "$uid" = "$want_uid" ]; then ok "$var owned by $user"; else fail "$var is not owned by $user"; fi
done

# d) The hardware encoder device exists when acceleration is enabled.
if [ -f "$config" ] && sed -n '/^hardware_acceleration:/,/^[^[:space:]#]/p' "$config" | grep -q 'enabled:[[:space:]]*true'; then
  dev=$(sed -n '/^hardware_acceleration:/,/^[^[:space:]#]/s/^[[:space:]]*device:[[:space:]]*"\{0,1\}\([^"[:space:]]*\).*/\1/p' "$config")
  if [ -n "$dev" ] && [ -c "$dev" ]; then ok "device $dev present"; else fail "hardware device missing: ${dev:-none named}"; fi
fi

# e) Every credential reference is a reference: env:, file:, vault:, or none.
if [ -f "$config" ]; then
  bad=$(awk '
    /^credential_refs:/ { in_refs = 1; next }
    in_refs && /^[^[:space:]#]/ { in_refs = 0 }
    in_refs && /^[[:space:]]+ref:/ {
      v = $0; sub(/^[[:space:]]+ref:[[:space:]]*/, "", v); sub(/[[:space:]]+#.*$/, "", v); gsub(/["\047]/, "", v)
      if (v !~ /^(env|file|vault):./ && v != "none") print "  line " NR
    }' "$config")
  if [ -n "$bad" ]; then fail "credential_refs holds a value that is not env:, file:, vault: or none, at:"; echo "$bad"; else ok "credential_refs are references"; fi
else
  fail "encoder config missing: $config"
fi

# f) The output endpoint accepts a transport connection (no key is sent).
endpoint=$(sed -n 's/^STREAM_ENDPOINT=//p' "$envf" 2>/dev/null | tail -n 1)
if [ "$network" = yes ] && [ -n "$endpoint" ]; then
  host=$(printf '%s\n' "$endpoint" | sed 's|^[a-z]*://||; s|[/:?].*||')
  port=$(printf '%s\n' "$endpoint" | sed -n 's|^[a-z]*://[^/:]*:\([0-9][0-9]*\).*|\1|p')
  case $endpoint in rtmps://*) default_port=443 ;; *) default_port=1935 ;; esac
  [ -n "$port" ] || port=$default_port
  case $endpoint in
    srt://*) warn "SRT runs over UDP: $host is not checked at transport level" ;;
    *) if ! command -v nc >/dev/null 2>&1; then warn "nc is not installed: $host:$port not checked"
       elif nc -z -w 5 "$host" "$port" 2>/dev/null; then ok "$host:$port accepts TCP"
       else fail "no TCP connection to $host:$port"; fi ;;
  esac
fi

exit "$failed"
