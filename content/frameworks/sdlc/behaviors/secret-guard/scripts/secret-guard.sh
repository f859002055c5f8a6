#!/bin/sh
# secret-guard: PreToolUse hook for Write|Edit.
# Reads the hook's JSON payload on stdin. Exits 2 (block, message on stderr) when
# the text being written looks like it contains a literal secret; exits 0 otherwise.
# Only new text is scanned: "old_string" values (text being replaced) are removed
# first, so deleting a secret from a file is never blocked.
# Dependencies: POSIX sh, grep, sed.

raw=$(cat)

# Nothing to scan: let the call through.
[ -n "$raw" ] || exit 0

file=$(printf '%s\n' "$raw" \
  | sed -n 's/.*"file_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1)
[ -n "$file" ] || file="(unknown file)"

# Drop every JSON string value of an "old_string" key (escaped quotes included).
payload=$(printf '%s\n' "$raw" \
  | sed -E 's/"old_string"[[:space:]]*:[[:space:]]*"([^"\\]|\\.)*"/"old_string":""/g')

block() {
  {
    echo "secret-guard: blocked a write to $file: it looks like it contains $1."
    echo "Do not write credentials into files. Reference the secret instead, for example"
    echo "env:NAME_OF_VARIABLE, file:/run/secrets/name, or a placeholder resolved from the secret store."
    echo "If this is a false positive, ask a human to write the file."
  } >&2
  exit 2
}

has() {
  printf '%s\n' "$payload" | grep -Eq -- "$1"
}

# Cloud provider access key ids.
has '(AKIA|ASIA)[0-9A-Z]{16}' && block "an AWS access key id"

# PEM private key blocks (RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS#8 ...).
has '-----BEGIN[[:space:]]([A-Z0-9]+[[:space:]])*PRIVATE[[:space:]]KEY-----' && block "a private key"

# Well-known token formats.
has 'gh[pousr]_[A-Za-z0-9]{36}' && block "a GitHub token"
has 'xox[abprs]-[0-9]+-[0-9A-Za-z-]+' && block "a Slack token"

# Credentials embedded in a URL (a user name and password between the scheme and "@").
has '[a-z][a-z0-9+.-]*://[^/[:space:]:@"]+:[^/[:space:]@"$<{\\]{3,}@' \
  && block "a username and password inside a URL"

# Stream keys and passphrases in streaming URLs.
has '(rtmps?|srt)://[^[:space:]"]*[?&](key|streamkey|passphrase|pass|token)=[^$&{<"[:space:]\\]' \
  && block "a stream key or passphrase inside a streaming URL"

# Literal assignments. Double quotes arrive escaped (\") inside the JSON payload.
#   password = "...", api_key: '...', "client_secret": "..."   (quoted value)
#   DB_PASSWORD=<literal>                                      (shell / env file)
NAMES='(password|passwd|pwd|passphrase|secret|client_secret|api_key|apikey|access_key|secret_key|private_key|auth_token|access_token|token|stream_key)'
Q='(\\"|'"'"')'
VAL='[^\\"'"'"'$<{[:space:]][^\\"'"'"'[:space:]]{5,}'
REFS='(env|file|vault|ref|op|secret|secretref|aws-sm|gcp-sm):'

hits=$(printf '%s\n' "$payload" \
  | grep -Eio -- "$NAMES$Q?[[:space:]]*(:|=|:=)[[:space:]]*$Q$VAL|$NAMES=$VAL" \
  | grep -Eiv -- "(:|=)[[:space:]]*$Q?$REFS" || true)
[ -n "$hits" ] && block "a hard-coded password, token or secret value"

exit 0
