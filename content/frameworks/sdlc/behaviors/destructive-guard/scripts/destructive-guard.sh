#!/bin/sh
# destructive-guard: a PreToolUse hook that blocks shell commands which destroy what
# cannot be brought back: recursive deletes of /, home, the project or system folders,
# force pushes to protected branches, dropped databases, deleted namespaces, destroyed
# infrastructure, overwritten disks.
#
# Input: the hook's JSON payload on stdin (Claude-shaped `tool_name` + `tool_input.command`
# from Claude Code, Codex, Factory, Qwen, Gemini CLI; Copilot CLI `toolName` + `toolArgs`).
# The command is split the way the shell would (quotes, `;`, `&&`, `|`, newlines, heredoc
# bodies), wrappers are looked through (sudo, env, nohup, timeout, xargs, `sh -c`, ssh), and
# each simple command is checked. Quoted text is data: `git commit -m "rm -rf /"` passes.
#
# Exit 0: allowed. Exit 2: blocked, the reason on stderr (and a Copilot-shaped payload also
# gets a deny decision on stdout). DESTRUCTIVE_GUARD_PROTECTED adds branch names (or
# patterns ending in `*`), separated by spaces, to main, master, trunk, develop, production,
# prod, stable and release*.
# Dependencies: POSIX sh and awk.

LC_ALL=C
export LC_ALL

result=$(awk -v extra="${DESTRUCTIVE_GUARD_PROTECTED:-}" '
BEGIN {
  RS = "\001"
  PROTECTED = "^(main|master|trunk|develop|production|prod|stable|release.*)$"
  n = split(extra, X, /[ \t:,]+/)
  for (i = 1; i <= n; i++) if (X[i] != "") {
    p = X[i]; gsub(/[.+?()|{}\[\]^$]/, "\\\\&", p); sub(/\*$/, ".*", p); PROTECTED = PROTECTED "|^(" p ")$"
  }
  DBCLIENT = "^(psql|mysql|mariadb|sqlite3|sqlcmd|cockroach|clickhouse|clickhouse-client|mongosh|mongo|redis-cli|snowsql|bq|duckdb|sqlplus)$"
  SQL = "(drop[ \t]+(database|schema|table|keyspace|collection)|truncate[ \t]|delete[ \t]+from[ \t]+[a-z0-9_.\"`]+[ \t]*(;|$)|dropdatabase\\(|\\.drop\\(\\)|flushall|flushdb)"
}

{ doc = (NR == 1) ? $0 : doc RS $0 }

function unjson(s) {
  gsub(/\\n/, "\n", s); gsub(/\\t/, "\t", s); gsub(/\\r/, "", s); gsub(/\\\//, "/", s)
  gsub(/\\u003[cC]/, "<", s); gsub(/\\u003[eE]/, ">", s); gsub(/\\u0026/, "\\&", s); gsub(/\\u0027/, "\047", s)
  gsub(/\002/, "\"", s); gsub(/\001/, "\\", s)
  return s
}

# The tool name and the command text of a payload (toolArgs holding JSON text walked too).
function walk(json, depth,   n, P, i, key, before, prev) {
  gsub(/\\\\/, "\001", json); gsub(/\\"/, "\002", json)
  n = split(json, P, "\"")
  key = ""; prev = ""
  for (i = 2; i <= n; i += 2) {
    before = P[i - 1]
    if (before ~ /^[ \t\r\n]*:/) key = prev
    prev = P[i]
    if (before !~ /:[ \t\r\n]*$/ || (i + 1 <= n && P[i + 1] ~ /^[ \t\r\n]*:/)) continue
    if (key == "tool_name" || key == "toolName") { if (TOOL == "") TOOL = P[i] }
    else if ((key == "toolArgs" || key == "arguments") && depth < 2) walk(unjson(P[i]), depth + 1)
    else if ((key == "command" || key == "cmd") && CMD == "") CMD = unjson(P[i])
  }
}

function block(reason) { if (REASON == "") REASON = reason }

function base(w) { sub(/^.*\//, "", w); return w }

# A target whose recursive removal (or chmod/chown) cannot be undone.
function dangerous_target(t) {
  if (t ~ /^\/+\*?$/ || t ~ /^\/+[^\/]+\/*\*?$/) return 1
  if (t ~ /^(~|\$HOME|\$\{HOME\})\/*\*?$/) return 1
  if (t ~ /^(\.|\.\.|\.\/|\.\.\/|\*|\.\/\*|\.\*)$/ || t ~ /^(\.\/)?\.git\/?$/) return 1
  if (t ~ /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\/\*?$/) return 1
  return 0
}

function check_rm(W, i, n,   j, recursive, t, hit) {
  recursive = 0; hit = ""
  for (j = i + 1; j <= n; j++) {
    if (W[j] == "--") { j++; break }
    if (W[j] == "--no-preserve-root") block("rm --no-preserve-root")
    if (W[j] ~ /^-[A-Za-z]*[rR]/ || W[j] == "--recursive") recursive = 1
  }
  for (j = i + 1; j <= n; j++) if (W[j] !~ /^-/ && dangerous_target(W[j])) hit = W[j]
  if (recursive && hit != "") block("a recursive delete of `" hit "`")
}

# find START... -delete, or -exec rm on what it finds, from a start that cannot be undone.
function check_find(W, i, n,   j, deletes, start) {
  deletes = 0; start = ""
  for (j = i + 1; j <= n; j++) {
    if (W[j] == "-delete") deletes = 1
    if ((W[j] == "-exec" || W[j] == "-execdir") && base(W[j + 1]) == "rm") deletes = 1
  }
  for (j = i + 1; j <= n && W[j] !~ /^[-(!]/; j++) if (dangerous_target(W[j])) start = W[j]
  if (deletes && start != "") block("find `" start "` with -delete")
}

function check_chmod(W, i, n, what,   j, recursive) {
  recursive = 0
  for (j = i + 1; j <= n; j++) if (W[j] ~ /^-[A-Za-z]*R/ || W[j] == "--recursive") recursive = 1
  if (!recursive) return
  for (j = i + 1; j <= n; j++) if (W[j] !~ /^-/ && W[j] ~ /^\// && dangerous_target(W[j])) block("a recursive " what " of `" W[j] "`")
}

function check_git(W, i, n,   j, sub_, force, mirror, del, refs, r, dst, k) {
  j = i + 1
  while (j <= n && W[j] ~ /^-/) { if (W[j] == "-C" || W[j] == "-c") j++; j++ }
  if (W[j] != "push") return
  force = 0; mirror = 0; del = 0; refs = 0
  for (k = j + 1; k <= n; k++) {
    if (W[k] ~ /^(--force|-f|--force-with-lease.*|--force-if-includes)$/ || W[k] ~ /^-[A-Za-z]*f[A-Za-z]*$/ && W[k] !~ /^--/) force = 1
    else if (W[k] == "--mirror") mirror = 1
    else if (W[k] == "--delete" || W[k] == "-d") del = 1
    else if (W[k] ~ /^-/) { if (W[k] ~ /^(-o|--push-option|--repo|--receive-pack|--exec)$/) k++ }
    else R[++refs] = W[k]
  }
  if (mirror) { block("git push --mirror (it overwrites and deletes remote branches)"); return }
  # The first positional is the remote; the rest are refspecs.
  if ((force || del) && refs < 2) { block((del ? "a branch deletion" : "a force push") " without a named, unprotected branch"); return }
  for (r = 2; r <= refs; r++) {
    dst = R[r]
    if (dst ~ /^\+/) { force = 1; sub(/^\+/, "", dst) }
    if (dst ~ /^:/) { del = 1 }
    if (index(dst, ":")) sub(/^[^:]*:/, "", dst)
    sub(/^refs\/heads\//, "", dst)
    if ((force || del) && (dst ~ PROTECTED || dst == "HEAD" || dst == "")) {
      block((del ? "deleting" : "a force push to") " the protected branch `" (dst == "" ? R[r] : dst) "`")
      return
    }
  }
}

function check_kubectl(W, i, n,   j, k, res) {
  for (j = i + 1; j <= n && W[j] != "delete"; j++) ;
  if (j > n) return
  for (k = j + 1; k <= n; k++) {
    res = tolower(W[k])
    if (res ~ /^(--all|--all-namespaces)$/ || W[k] == "-A") { block("kubectl delete " W[k]); return }
    if (res ~ /^(ns|namespace|namespaces|pv|persistentvolume|persistentvolumes|pvc|persistentvolumeclaim|persistentvolumeclaims|crd|crds|customresourcedefinition|customresourcedefinitions|node|nodes|no)(\/|,|$)/) {
      block("kubectl delete " W[k]); return
    }
  }
}

function check_terraform(W, i, n,   j, k) {
  for (j = i + 1; j <= n && W[j] ~ /^-/; j++) ;
  if (W[j] == "destroy") { block(base(W[i]) " destroy"); return }
  if (W[j] == "apply") for (k = j + 1; k <= n; k++) if (W[k] == "-destroy" || W[k] == "--destroy") block(base(W[i]) " apply -destroy")
}

function check_cloud(W, i, n, cmd,   all, k) {
  all = ""
  for (k = i + 1; k <= n; k++) all = all " " W[k]
  all = all " "
  if (cmd == "aws" && all ~ / s3 rb / && all ~ / --force /) block("aws s3 rb --force")
  if (cmd == "aws" && all ~ / s3 rm / && all ~ / --recursive /) block("aws s3 rm --recursive")
  if (cmd == "gsutil" && all ~ / rm / && all ~ / -[a-zA-Z]*r/) block("gsutil rm -r")
  if (cmd == "gcloud" && all ~ / projects delete /) block("gcloud projects delete")
  if (cmd == "az" && all ~ / group delete /) block("az group delete")
  if (cmd == "docker" && all ~ / volume (rm|prune) /) block("docker volume " (all ~ / rm / ? "rm" : "prune"))
  if (cmd == "docker" && all ~ / system prune / && all ~ / --volumes /) block("docker system prune --volumes")
}

# One simple command, tokens W[1..n] with quotes removed; body = heredoc text fed to it.
function simple(W, n, body, depth,   i, cmd, j, rest, k, line) {
  i = 1
  while (i <= n) {
    if (W[i] ~ /^[A-Za-z_][A-Za-z0-9_]*=/) { i++; continue }
    cmd = base(W[i])
    if (cmd == "sudo" || cmd == "doas") {
      i++
      while (i <= n && W[i] ~ /^-/) { if (W[i] ~ /^-[ugCDhprtU]$/) i++; i++ }
      continue
    }
    if (cmd == "env") { i++; while (i <= n && (W[i] ~ /^-/ || index(W[i], "="))) { if (W[i] == "-u") i++; i++ }; continue }
    if (cmd ~ /^(nohup|exec|command|builtin|time|nice|ionice|stdbuf|watch|timeout)$/) {
      i++
      while (i <= n && W[i] ~ /^-/) { if (W[i] ~ /^-[ncpdk]$/) i++; i++ }
      if (cmd == "timeout" && W[i] ~ /^[0-9.]+[smhd]?$/) i++
      continue
    }
    if (cmd == "xargs") { i++; while (i <= n && W[i] ~ /^-/) { if (W[i] ~ /^-[InPdLsEa]$/) i++; i++ }; continue }
    break
  }
  if (i > n) return
  cmd = base(W[i])
  if (cmd ~ /^(sh|bash|zsh|dash|ksh)$/) {
    for (j = i + 1; j <= n; j++) if (W[j] ~ /^-[a-z]*c[a-z]*$/) { if (j + 1 <= n && depth < 4) parse(W[j + 1], depth + 1); return }
    if (body != "" && depth < 4) parse(body, depth + 1)
    return
  }
  if (cmd == "eval") {
    rest = ""
    for (k = i + 1; k <= n; k++) rest = rest " " W[k]
    if (depth < 4) parse(rest, depth + 1)
    return
  }
  if (cmd == "ssh") {
    for (j = i + 1; j <= n && W[j] ~ /^-/; j++) if (W[j] ~ /^-[ipl oJFbcDEeLmOQRSWwB]$/) j++
    rest = ""
    for (k = j + 1; k <= n; k++) rest = rest " " W[k]
    if (rest != "" && depth < 4) parse(rest, depth + 1)
    return
  }
  if (cmd == "kubectl" || cmd == "docker") {
    for (j = i + 1; j <= n; j++) if (W[j] == "--") {
      rest = ""; for (k = j + 1; k <= n; k++) rest = rest " " W[k]
      if (depth < 4) parse(rest, depth + 1)
      return
    }
  }
  if (cmd == "rm") check_rm(W, i, n)
  else if (cmd == "find") check_find(W, i, n)
  else if (cmd == "chmod") check_chmod(W, i, n, "chmod")
  else if (cmd == "chown" || cmd == "chgrp") check_chmod(W, i, n, cmd)
  else if (cmd == "git") check_git(W, i, n)
  else if (cmd == "kubectl" || cmd == "oc") check_kubectl(W, i, n)
  else if (cmd ~ /^(terraform|tofu|terragrunt)$/) check_terraform(W, i, n)
  else if (cmd ~ /^(aws|gsutil|gcloud|az|docker)$/) check_cloud(W, i, n, cmd)
  else if (cmd ~ /^mkfs(\..*)?$/ || cmd == "wipefs") block(cmd " (it erases a file system)")
  else if (cmd == "dd") { for (j = i + 1; j <= n; j++) if (W[j] ~ /^of=\/dev\/(sd|hd|vd|xvd|nvme|mmcblk|disk)/) block("dd onto the disk `" substr(W[j], 4) "`") }
  else if (cmd == "shred") { for (j = i + 1; j <= n; j++) if (W[j] ~ /^\/dev\//) block("shred of `" W[j] "`") }
  if (cmd ~ DBCLIENT) {
    line = ""
    for (k = i + 1; k <= n; k++) line = line " " W[k]
    line = tolower(line "\n" body)
    if (match(line, SQL)) block("`" substr(line, RSTART, RLENGTH) "` sent to " cmd)
  }
}

# Splits shell text into simple commands, honouring quotes and heredocs.
function parse(text, depth,   len, p, c, q, tok, nt, W, segs, S, SN, SL, SP, s, line, body, k, delim, pending, L, nl, li, strip, t, intok, piped) {
  nl = split(text, L, "\n")
  segs = 0; nt = 0; tok = ""; intok = 0; q = ""; pending = ""; piped = 0
  for (li = 1; li <= nl; li++) {
    line = L[li]; len = length(line)
    for (p = 1; p <= len; p++) {
      c = substr(line, p, 1)
      if (q != "") {
        if (c == q) q = ""
        else if (c == "\\" && q == "\"" && p < len) { p++; tok = tok substr(line, p, 1) }
        else tok = tok c
        continue
      }
      if (c == "\047" || c == "\"") { q = c; intok = 1; continue }
      if (c == "\\" && p < len) { p++; tok = tok substr(line, p, 1); intok = 1; continue }
      if (c == "#" && !intok) break
      if (c == "<" && substr(line, p, 2) == "<<" && substr(line, p, 3) != "<<<") {
        if (intok) { W[++nt] = tok; tok = ""; intok = 0 }
        p += 2; strip = 0
        if (substr(line, p, 1) == "-") { strip = 1; p++ }
        while (substr(line, p, 1) ~ /[ \t]/) p++
        delim = ""
        while (p <= len && substr(line, p, 1) !~ /[ \t;&|<>()]/) { delim = delim substr(line, p, 1); p++ }
        gsub(/["\047\\]/, "", delim); p--
        pending = pending (pending == "" ? "" : "\001") delim (strip ? "\002" : "")
        continue
      }
      if (c ~ /[ \t]/) { if (intok) { W[++nt] = tok; tok = ""; intok = 0 }; continue }
      if (c ~ /[;&|()`]/ || c == "<" || c == ">") {
        if (intok) { W[++nt] = tok; tok = ""; intok = 0 }
        if (c == "<" || c == ">") {
          # A redirection: its target is not an argument.
          while (substr(line, p + 1, 1) ~ /[>&0-9]/) p++
          W[++nt] = "\003"
          continue
        }
        if (nt) { segs++; for (k = 1; k <= nt; k++) S[segs, k] = W[k]; SN[segs] = nt; SL[segs] = li; SP[segs] = piped; nt = 0; piped = 0 }
        # What a pipe feeds a command is its input: the line goes with it.
        if (c == "|" && substr(line, p + 1, 1) != "|" && substr(line, p - 1, 1) != "|") piped = 1
        continue
      }
      tok = tok c; intok = 1
    }
    if (q != "") { tok = tok "\n"; continue }
    if (intok) { W[++nt] = tok; tok = ""; intok = 0 }
    if (nt) { segs++; for (k = 1; k <= nt; k++) S[segs, k] = W[k]; SN[segs] = nt; SL[segs] = li; SP[segs] = piped; nt = 0; piped = 0 }
    # Heredoc bodies follow the line that opened them; they are data for that line.
    while (pending != "") {
      delim = pending; sub(/\001.*$/, "", delim)
      if (index(pending, "\001")) sub(/^[^\001]*\001/, "", pending); else pending = ""
      strip = (delim ~ /\002$/); sub(/\002$/, "", delim)
      body = ""
      while (li < nl) {
        li++; t = L[li]
        if (strip) sub(/^\t+/, "", t)
        if (t == delim) break
        body = body t "\n"
      }
      BODY[depth, SL[segs]] = BODY[depth, SL[segs]] body
    }
  }
  for (s = 1; s <= segs; s++) {
    nt = 0
    for (k = 1; k <= SN[s]; k++) {
      if (S[s, k] == "\003") { k++; continue }
      W[++nt] = S[s, k]
    }
    simple(W, nt, BODY[depth, SL[s]] (SP[s] ? "\n" L[SL[s]] : ""), depth)
  }
}

END {
  walk(doc, 0)
  if (CMD == "" || TOOL !~ /^(Bash|bash|Execute|run_shell_command|shell|exec_command|local_shell|Shell)$/) exit 0
  parse(CMD, 0)
  if (REASON != "") printf "%s\t%s\n", REASON, (TOOL == "bash" && index(doc, "toolName") ? "copilot" : "")
}
')

[ -n "$result" ] || exit 0
tab=$(printf '\t')
reason=${result%%"$tab"*}
shape=${result#*"$tab"}
message="destructive-guard: blocked $reason. It cannot be undone; ask the user to run it themselves if it is really meant."
echo "$message" >&2
if [ "$shape" = copilot ]; then
  printf '{"permissionDecision":"deny","permissionDecisionReason":"%s"}\n' "$(printf '%s' "$message" | sed 's/["\\]//g')"
fi
exit 2
