#!/bin/sh
# secret-guard: a PreToolUse hook that blocks a write whose new text holds a literal secret.
#
# Input: the hook's JSON payload on stdin, in any of the shapes the clients send:
#   Claude Code, Qwen, Gemini CLI, Factory, Codex: {"tool_name": ..., "tool_input": {...}}
#   Copilot CLI: {"toolName": ..., "toolArgs": "<JSON text>"} (toolArgs may be an object)
# Only text being written is scanned: content, new_string, new_str, new_source, file_text,
# the `+` lines of an apply_patch, and a shell command only when it writes a file
# (`>`, `tee`, a heredoc). old_string / old_str (text being replaced) are never scanned,
# so removing a secret is never blocked.
#
# Exit 0: nothing found. Exit 2: blocked; stderr names the kind, the file and the line,
# never the value (and a Copilot-shaped payload also gets a deny decision on stdout).
# A line holding `secret-guard: allow` is skipped. SECRET_GUARD_ALLOW lists shell
# patterns of paths never scanned, separated by `:` (`tests/fixtures/*:docs/*`).
# Dependencies: POSIX sh and awk.

LC_ALL=C
export LC_ALL

result=$(awk '
function rep(s, n,   out) { out = ""; while (n-- > 0) out = out s; return out }

BEGIN {
  RS = "\001"
  A = "[A-Za-z0-9]"; U = "[A-Z0-9]"; B64 = "[A-Za-z0-9_-]"
  HC["an AWS access key id"] = "(^|[^A-Za-z0-9])(AKIA|ASIA|AGPA|AIDA|AROA|ANPA)" rep(U, 16) "([^A-Za-z0-9]|$)"
  HC["a GitHub token"] = "(gh[pousr]_" rep(A, 36) "|github_pat_" rep("[A-Za-z0-9_]", 40) ")"
  HC["a GitLab token"] = "glpat-" rep(B64, 20)
  HC["a Slack token"] = "xox[abposr]-[0-9]+-" rep("[0-9A-Za-z-]", 8)
  HC["a Slack webhook URL"] = "hooks\\.slack\\.com/services/T" U "+/B" U "+/" rep(A, 16)
  HC["a Stripe live key"] = "(sk|rk)_live_" rep(A, 16)
  HC["a Google API key"] = "AIza" rep(B64, 35)
  HC["an Anthropic API key"] = "sk-ant-" rep(B64, 24)
  HC["an OpenAI API key"] = "(sk-proj-" rep(B64, 24) "|sk-" rep(A, 20) "T3BlbkFJ)"
  HC["an npm token"] = "npm_" rep(A, 36)
  HC["a SendGrid key"] = "SG\\." rep(B64, 22) "\\." rep(B64, 22)
  HC["a JSON web token"] = "eyJ" rep(B64, 10) "[A-Za-z0-9_-]*\\.eyJ" rep(B64, 10) "[A-Za-z0-9_-]*\\." rep(B64, 10)
  # One cheap test before the format patterns: most lines hold none of their prefixes.
  HCPRE = "(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|gh[pousr]_|github_pat_|glpat-|xox|hooks\\.slack|_live_|AIza|sk-|npm_|SG\\.|eyJ)"
  PEM = "-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"
  BODY = "^[+]?[ \t]*" rep("[A-Za-z0-9+/=]", 40)
  PEMINLINE = PEM "(\\\\r)?\\\\n" rep("[A-Za-z0-9+/=]", 40)
  URLCRED = "[a-z][a-z0-9+.-]*://[^/ \t\"\047@:]*:[^/ \t\"\047@]+@"
  RTMPKEY = "rtmps?://[^/ \t\"\047]+/[^/ \t\"\047]+/" rep("[A-Za-z0-9_-]", 16)
  STREAMQ = "(rtmps?|srt)://[^ \t\"\047]*[?&](key|streamkey|passphrase|pass|token)="
  CONNSTR = "(^|[;\"\047 ])([Pp]assword|PASSWORD|[Pp]wd|PWD)=[^;\"\047 ]+"
  BEARER = "[Bb]earer[ \t]+[A-Za-z0-9._~+/-]" rep("[A-Za-z0-9._~+/=-]", 19)
  NAME = "(^|_)(password|passwd|passphrase|pass|secret|secrets|token|credential|credentials|apikey|api_key|access_key|accesskey|secret_key|private_key|privatekey|auth|auth_token|authtoken|stream_key|streamkey|signing_key|encryption_key|master_key)($|_)"
  NOTNAME = "_(type|url|uri|endpoint|path|file|dir|env|var|name|names|ref|id|length|len|size|ttl|expiry|expires|expiration|header|field|prefix|policy|mode|count|format|method|provider|source|store|manager|kind|label|hint|regex|pattern|lifetime|timeout|required|enabled|rotation|version|hash|key_ref|arn|param|parameter|location|host|port|user|username)$"
  ASSIGN = "[\"\047]?[A-Za-z_][A-Za-z0-9_.-]*[\"\047]?[ \t]*(:=|=>|=|:|,)[ \t]*"
  CONFIG = "((^|/)\\.env($|\\.)|\\.(env|ini|cfg|conf|properties|ya?ml|toml|sh|bash|zsh|envrc|tfvars|netrc|npmrc|pypirc)$|(^|/)(Dockerfile|Containerfile|credentials|config)$)"
  PLACEHOLDER = "(example|changeme|change_me|change-me|your[-_]|yourpass|placeholder|dummy|fake|sample|redacted|xxxx|\\*\\*\\*|\\.\\.\\.|todo|not-a-real|not_a_real|notreal|replace[-_]?me|insert[-_]|test|mock|fixture|foobar|lorem)"
}

{ doc = (NR == 1) ? $0 : doc RS $0 }

# JSON string body (between the quotes, escapes already replaced by \001 and \002) to text.
function unjson(s) {
  gsub(/\\n/, "\n", s); gsub(/\\t/, "\t", s); gsub(/\\r/, "", s); gsub(/\\\//, "/", s)
  gsub(/\\u003[cC]/, "<", s); gsub(/\\u003[eE]/, ">", s); gsub(/\\u0026/, "\\&", s); gsub(/\\u0027/, "\047", s)
  gsub(/\002/, "\"", s); gsub(/\001/, "\\", s)
  return s
}

# Walks a JSON document: the string values of the keys that carry written text go to
# TEXT[], the tool name and the target path are remembered. toolArgs / arguments holding
# JSON text are walked in turn.
function walk(json, depth,   n, P, i, key, before, prev, v, k) {
  gsub(/\\\\/, "\001", json); gsub(/\\"/, "\002", json)
  n = split(json, P, "\"")
  key = ""; prev = ""
  for (i = 2; i <= n; i += 2) {
    before = P[i - 1]
    if (before ~ /^[ \t\r\n]*:/) key = prev
    prev = P[i]
    if (before !~ /:[ \t\r\n]*$/ || (i + 1 <= n && P[i + 1] ~ /^[ \t\r\n]*:/)) continue
    k = key
    if (k == "tool_name" || k == "toolName") { if (TOOL == "") TOOL = P[i]; continue }
    if (k == "file_path" || k == "path" || k == "notebook_path" || k == "filePath") {
      if (FILE == "") FILE = unjson(P[i]); continue
    }
    if ((k == "toolArgs" || k == "arguments") && depth < 2) { walk(unjson(P[i]), depth + 1); continue }
    if (k == "content" || k == "new_string" || k == "new_str" || k == "new_source" || k == "file_text" || k == "text") {
      TEXT[++NT] = unjson(P[i]); KIND[NT] = "file"
    } else if (k == "command" || k == "cmd" || k == "patch" || k == "input") {
      TEXT[++NT] = unjson(P[i]); KIND[NT] = "command"
    }
  }
}

function is_placeholder(v,   low, c) {
  low = tolower(v)
  if (low ~ PLACEHOLDER) return 1
  c = substr(v, 1, 1); gsub(/[][\\^$.|?*+(){}]/, "\\\\&", c)
  if (v ~ ("^(" c ")+$")) return 1
  return 0
}

# A value that looks like a real secret rather than a reference, a word or a placeholder.
function is_literal(v,   low) {
  if (length(v) < 6 || v ~ /[ \t]/) return 0
  if (v ~ /^[{<%!(@&*]/ || v ~ /(\{\{|\$\{|\$\(|#\{)/) return 0
  if (v ~ /^\$[A-Za-z_][A-Za-z0-9_]*$/) return 0
  low = tolower(v)
  if (low ~ /^(env|file|vault|ref|secret|secretref|aws-sm|gcp-sm|azure-kv|keyvault|sm|op):/) return 0
  if (v ~ /^(\/|\.\/|\.\.\/|~\/|https?:\/\/)/) return 0
  if (low ~ /\.(pem|key|crt|cer|p12|pfx|jks|txt|json|ya?ml|toml|env|gpg|asc)$/) return 0
  if (v ~ /^[A-Z][A-Z0-9_]*$/ || v ~ /^[a-z][a-z_.-]*$/) return 0
  return !is_placeholder(v)
}

# The first name = literal assignment in line l that holds a secret, or "".
function assignment(l, config,   rest, name, v, c, before, norm, p, pair) {
  rest = l
  while (match(rest, ASSIGN)) {
    before = (RSTART > 1) ? substr(rest, RSTART - 1, 1) : ""
    name = substr(rest, RSTART, RLENGTH)
    rest = substr(rest, RSTART + RLENGTH)
    if (before ~ /[A-Za-z0-9_$]/ || rest ~ /^[=~]/) continue
    # `"NAME", "value"` (setenv, buildConfigField) counts only with the name quoted.
    pair = (name ~ /,[ \t]*$/)
    if (pair && name !~ /^["\047].*["\047][ \t]*,[ \t]*$/) continue
    sub(/[ \t]*(:=|=>|=|:|,)[ \t]*$/, "", name); gsub(/["\047]/, "", name)
    if (name ~ /[a-z]/) gsub(/[A-Z]/, "_&", name)
    norm = tolower(name); gsub(/[.-]/, "_", norm)
    if (norm !~ NAME || norm ~ NOTNAME) continue
    c = substr(rest, 1, 1)
    if (c ~ /[bfruBFRU]/ && substr(rest, 2, 1) ~ /["\047]/) { rest = substr(rest, 2); c = substr(rest, 1, 1) }
    if (c == "\"" || c == "\047") {
      if (substr(rest, 2, 2) == "\\" c) {
        p = index(substr(rest, 4), "\\" c); v = substr(rest, 4, p - 1)
      } else {
        p = index(substr(rest, 2), c); v = substr(rest, 2, p - 1)
      }
      if (p == 0) continue
    } else {
      if (!config || pair) continue
      v = rest; sub(/[ \t,;)].*$/, "", v)
      if (v ~ /[(\[]/) continue
    }
    if (is_literal(v)) return "a hard-coded password, token or secret value"
  }
  return ""
}

function url_secret(l,   s, pw, m) {
  s = l
  while (match(s, URLCRED)) {
    m = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
    pw = m; sub(/^[a-z][a-z0-9+.-]*:\/\/[^:]*:/, "", pw); sub(/@$/, "", pw)
    if (length(pw) >= 4 && pw !~ /^[$%{<*]/ && pw !~ /\$\{/ && tolower(pw) !~ /^(password|passwd|pass|secret|pwd|pw)$/ && !is_placeholder(pw)) return 1
  }
  return 0
}

function stream_secret(l,   s, k) {
  s = l
  if (match(s, RTMPKEY)) {
    k = substr(s, RSTART, RLENGTH); sub(/.*\//, "", k)
    if (!is_placeholder(k)) return 1
  }
  if (match(s, STREAMQ)) {
    k = substr(s, RSTART + RLENGTH); sub(/[&" \t\047].*$/, "", k)
    if (length(k) >= 4 && k !~ /^[$%{<]/ && !is_placeholder(k)) return 1
  }
  return 0
}

function narrow_allow(s) { return (s ~ /(EXAMPLE|example|XXXX|xxxx)/) }

# The kind of secret on line l, or "".
function scan_line(l, config,   name, m, t) {
  if (index(l, "secret-guard: allow")) return ""
  if (l ~ HCPRE) for (name in HC) if (match(l, HC[name]) && !narrow_allow(substr(l, RSTART, RLENGTH + 8))) return name
  if (match(l, BEARER)) {
    t = substr(l, RSTART, RLENGTH + 40); sub(/^[Bb]earer[ \t]+/, "", t); sub(/[ \t"\047].*$/, "", t)
    if (!is_placeholder(t)) return "a bearer token"
  }
  if (NETRC && match(l, /(^|[ \t])password[ \t]+[^ \t]+/)) {
    t = substr(l, RSTART, RLENGTH); sub(/^[ \t]*password[ \t]+/, "", t)
    if (is_literal(t)) return "a password in a netrc file"
  }
  if (match(l, CONNSTR)) {
    t = substr(l, RSTART, RLENGTH); sub(/^[;"\047 ]?[A-Za-z]+=/, "", t)
    if (is_literal(t)) return "a password inside a connection string"
  }
  if (index(l, "://")) {
    if (url_secret(l)) return "a username and password inside a URL"
    if (stream_secret(l)) return "a stream key inside a streaming URL"
  }
  return assignment(l, config)
}

function scan(text, config, patch,   n, L, i, l, kind) {
  n = split(text, L, "\n")
  for (i = 1; i <= n; i++) {
    l = L[i]
    if (patch) { if (l !~ /^\+/) continue; l = substr(l, 2) }
    if (l ~ PEM) {
      if (L[i + 1] ~ BODY || L[i + 2] ~ BODY || L[i + 3] ~ BODY || l ~ PEMINLINE) { HITLINE = i; return "a private key" }
      continue
    }
    kind = scan_line(l, config)
    if (kind != "") { HITLINE = i; return kind }
  }
  return ""
}

END {
  walk(doc, 0)
  shell = (TOOL ~ /^(Bash|bash|Execute|run_shell_command|shell|exec_command|local_shell|Shell)$/)
  for (i = 1; i <= NT; i++) {
    t = TEXT[i]; path = FILE; patch = 0
    if (KIND[i] == "command" || shell) {
      if (t ~ /\*\*\* (Begin Patch|Add File:|Update File:)/) {
        patch = 1
        if (match(t, /\*\*\* (Add|Update) File: [^\n]*/)) { path = substr(t, RSTART, RLENGTH); sub(/^\*\*\* (Add|Update) File: /, "", path) }
      } else if (t ~ /(>|(^|[ \t|;&])tee[ \t]|<<)/) {
        if (match(t, /(>>?|tee( -a)?)[ \t]*[^ \t<>|;&]+/)) { path = substr(t, RSTART, RLENGTH); sub(/^(>>?|tee( -a)?)[ \t]*/, "", path); gsub(/["\047]/, "", path) }
      } else continue
    }
    config = (path == "" || path ~ CONFIG)
    NETRC = (path ~ /(^|\/)[._]?netrc$/)
    kind = scan(t, config, patch)
    if (kind != "") {
      if (path == "") path = (shell ? "(shell command)" : "(unknown file)")
      printf "%s\t%d\t%s\t%s\n", kind, HITLINE, path, (TOOL ~ /^[a-z]/ && index(doc, "toolName") ? "copilot" : "")
      exit 0
    }
  }
}
')

[ -n "$result" ] || exit 0

tab=$(printf '\t')
kind=${result%%"$tab"*}; rest=${result#*"$tab"}
line=${rest%%"$tab"*}; rest=${rest#*"$tab"}
file=${rest%%"$tab"*}; shape=${rest#*"$tab"}

if [ -n "${SECRET_GUARD_ALLOW:-}" ]; then
  set -f
  old_ifs=$IFS; IFS=:
  for pattern in $SECRET_GUARD_ALLOW; do
    # shellcheck disable=SC2254 # the patterns are globs on purpose
    case $file in $pattern) IFS=$old_ifs; exit 0 ;; esac
  done
  IFS=$old_ifs
fi

reason="secret-guard: blocked a write to $file: line $line of the new text looks like $kind."
{
  echo "$reason"
  echo "Do not write credentials into files. Reference the secret instead: env:NAME, file:/run/secrets/name,"
  echo "or a placeholder resolved from the secret store. A deliberate fake value can carry the"
  echo "comment 'secret-guard: allow' on its line."
} >&2
if [ "$shape" = copilot ]; then
  printf '{"permissionDecision":"deny","permissionDecisionReason":"%s"}\n' "$(printf '%s' "$reason" | sed 's/["\\]//g')"
fi
exit 2
