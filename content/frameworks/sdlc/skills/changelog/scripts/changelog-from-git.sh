#!/bin/sh
# Draft a changelog section from git history.
#
# Usage: changelog-from-git.sh [FROM_REF [TO_REF [VERSION]]]
#   FROM_REF  start (exclusive); default: the most recent tag, or the first commit
#   TO_REF    end (inclusive); default: HEAD
#   VERSION   heading to print; default: Unreleased
#
# Commit subjects in Conventional Commits form (feat:, fix:, perf:, refactor:,
# docs:, ...; "!" or "BREAKING CHANGE" marks a breaking change) are sorted into
# Keep-a-Changelog groups. Other subjects go under "Other". The output is a draft
# for a human to edit, printed on stdout. POSIX sh, git, sed, grep only.

set -eu

if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "changelog-from-git: not inside a git repository" >&2
  exit 2
fi

to_ref=${2:-HEAD}
version=${3:-Unreleased}
if [ "${1:-}" != "" ]; then
  from_ref=$1
else
  from_ref=$(git describe --tags --abbrev=0 "$to_ref" 2>/dev/null || true)
fi

if [ -n "$from_ref" ]; then
  range="$from_ref..$to_ref"
else
  range="$to_ref"
fi

TAB=$(printf '\t')
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT INT TERM

# One line per commit: subject, a tab, then "B" when the body declares a breaking change.
git log --no-merges --format='%s%x09%b%x1e' "$range" \
  | tr '\n' ' ' | tr '\036' '\n' \
  | sed -e 's/^[[:space:]]*//' -e '/^$/d' \
  | sed -e "s/$TAB.*BREAKING[ -]CHANGE.*/${TAB}B/" -e "/${TAB}B\$/!s/$TAB.*//" \
  > "$tmp"

# A subject without its type; a scope is kept in bold: "feat(cli): x" -> "**cli**: x".
strip() {
  sed -E 's/^[a-z]+\(([^)]*)\)!?:[[:space:]]*/**\1**: /; s/^[a-z]+!?:[[:space:]]*//; s/'"$TAB"'B$//'
}

# Print the entries whose subject type matches $2 (an ERE), stripped of the prefix.
section() {
  title=$1
  pattern=$2
  lines=$(grep -E "^($pattern)(\([^)]*\))?!?:" "$tmp" | strip || true)
  if [ -n "$lines" ]; then
    printf '\n### %s\n\n' "$title"
    printf '%s\n' "$lines" | sed 's/^/- /'
  fi
}

date_today=$(date +%Y-%m-%d)
if [ "$version" = "Unreleased" ]; then
  printf '## [Unreleased]\n'
else
  printf '## [%s] - %s\n' "$version" "$date_today"
fi

breaking=$(grep -E "^[a-z]+(\\([^)]*\\))?!:|${TAB}B\$" "$tmp" | strip || true)
if [ -n "$breaking" ]; then
  printf '\n### Breaking changes\n\n'
  printf '%s\n' "$breaking" | sed 's/^/- /'
fi

# Keep a Changelog's sections, in the order the skill asks for.
section "Security" "security|sec"
section "Added" "feat"
section "Changed" "perf|refactor|build|revert"
section "Deprecated" "deprecate"
section "Removed" "remove"
section "Fixed" "fix"

# Everything not placed in a group above and not an omitted type lands here, so an
# unknown type such as "deps:" is never dropped silently.
other=$(grep -vE '^(feat|fix|security|sec|perf|refactor|build|revert|deprecate|remove|chore|test|ci|style)(\([^)]*\))?!?:' "$tmp" | strip || true)
if [ -n "$other" ]; then
  printf '\n### Other\n\n'
  printf '%s\n' "$other" | sed 's/^/- /'
fi

count=$(grep -c '' "$tmp" || true)
printf '\n<!-- %s commits in %s; chore/test/ci/style commits are omitted from the groups above -->\n' "$count" "$range"
