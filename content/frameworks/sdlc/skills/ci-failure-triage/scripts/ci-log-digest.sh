#!/bin/sh
# ci-log-digest.sh: the facts of a failed CI log, short enough to read in full.
# Strips ANSI colours and CI timestamps, then prints the failing tests (cargo, pytest, Jest
# and Vitest, Go, JUnit/Maven), the first error lines with two lines of context before
# each, and the exit line.
#
# usage: ci-log-digest.sh [LOG]    (reads standard input without LOG)
# Exit 0 when the log was read (whatever it says); 2 when LOG cannot be read.
# Dependencies: POSIX sh and awk.

if [ $# -gt 1 ]; then echo "usage: ci-log-digest.sh [LOG]" >&2; exit 2; fi
if [ $# -eq 1 ] && [ ! -r "$1" ]; then echo "ci-log-digest: cannot read $1" >&2; exit 2; fi

LC_ALL=C awk -v max_errors="${CI_DIGEST_MAX_ERRORS:-8}" '
{
  line = $0
  gsub(/\033\[[0-9;]*[A-Za-z]/, "", line)
  sub(/\r$/, "", line)
  sub(/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]*Z /, "", line)
  n++
  prev2 = prev1; prev1 = last; last = line

  test_name = ""
  if (match(line, /^test [^ ]+ \.\.\. FAILED$/)) { test_name = line; sub(/^test /, "", test_name); sub(/ \.\.\. FAILED$/, "", test_name) }
  else if (match(line, /^FAILED [^ ]+/)) { test_name = substr(line, 8); sub(/ .*$/, "", test_name) }
  else if (match(line, /^[ \t]*--- FAIL: [^ ]+/)) { test_name = line; sub(/^[ \t]*--- FAIL: /, "", test_name); sub(/ .*$/, "", test_name) }
  else if (match(line, /^[ \t]*(✕|×) /)) { test_name = line; sub(/^[ \t]*(✕|×) /, "", test_name) }
  else if (match(line, /^FAIL [^ ]+\.(js|ts|jsx|tsx|mjs|cjs)/)) { test_name = substr(line, 6); sub(/ .*$/, "", test_name) }
  else if (match(line, /^\[ERROR\] +[A-Za-z0-9_.]+(\.|#)[A-Za-z0-9_]+.*(FAILURE|ERROR)/)) { test_name = line; sub(/^\[ERROR\] +/, "", test_name); sub(/[ :].*$/, "", test_name) }
  if (test_name != "" && !(test_name in seen)) { seen[test_name] = 1; tests[++nt] = test_name }

  if (line ~ /(^|[^A-Za-z])(error|ERROR|Error)(\[[A-Z0-9]+\])?:|^error\b|panicked at|Traceback \(most recent call last\)|^E   |FATAL|npm ERR!|Segmentation fault|Killed|command not found|No space left|timed out|OOM/ && ne < max_errors) {
    ne++
    err[ne] = sprintf("%6d: %s", n, line)
    ctx[ne] = (n > 2 ? sprintf("%6d: %s\n", n - 2, prev2) : "") (n > 1 ? sprintf("%6d: %s\n", n - 1, prev1) : "")
  }
  if (line ~ /(Process completed with exit code [0-9]+|exit status [0-9]+|exited with (code|status) [0-9]+|process didn.t exit successfully|Error: Process completed)/) exit_line = sprintf("%6d: %s", n, line)
}
END {
  printf "log: %d lines\n\n", n
  printf "failing tests (%d):\n", nt
  for (i = 1; i <= nt && i <= 50; i++) printf "  %s\n", tests[i]
  if (nt > 50) printf "  ... and %d more\n", nt - 50
  printf "\nfirst error lines (%d shown):\n", ne
  for (i = 1; i <= ne; i++) printf "%s%s\n  --\n", ctx[i], err[i]
  printf "\nexit: %s\n", (exit_line == "" ? "no exit line found" : exit_line)
}' "$@"
