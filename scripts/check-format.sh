#!/usr/bin/env bash
# Checks that every tracked C++ file is formatted with the repository's .clang-format, using
# Debian's clang-format 14 (other versions format some constructs differently).
#   scripts/check-format.sh          # exit 1 and list the files to reformat
#   scripts/check-format.sh --fix    # reformat them in place
# Runs as the ctest format_check (about a second). Exits 77 (ctest: skipped) when clang-format
# is not installed; scripts/install-deps.sh installs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
fmt="${CLANG_FORMAT:-}"
if [ -z "$fmt" ]; then
  fmt="$(command -v clang-format-14 || command -v clang-format || true)"
fi
if [ -z "$fmt" ]; then
  echo "check-format: SKIPPED: clang-format-14 is not installed (scripts/install-deps.sh)" >&2
  exit 77
fi
# Tracked files when this is a git checkout; otherwise every C++ file of the source tree.
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  while IFS= read -r -d '' f; do
    [ -f "$f" ] && files+=("$f")  # a file deleted but not yet committed is not checked
  done < <(git ls-files -z -- '*.cpp' '*.hpp' '*.h')
else
  while IFS= read -r -d '' f; do files+=("$f"); done < <(find src tests bench \
    \( -name node_modules -o -name 'build*' \) -prune -o \
    \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -type f -print0)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "check-format: no C++ files found under $here" >&2
  exit 1
fi
if [ "${1:-}" = "--fix" ]; then
  "$fmt" -i --style=file "${files[@]}"
  exit 0
fi
# One clang-format process per ~50 files keeps the command line short and the check fast.
status=0
out=$(printf '%s\0' "${files[@]}" |
  xargs -0 -n 50 "$fmt" --style=file --dry-run --Werror 2>&1) || status=$?
if [ "$status" -ne 0 ]; then
  bad=$(printf '%s\n' "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u)
  if [ -z "$bad" ]; then
    printf '%s\n' "$out" >&2  # not a formatting finding (e.g. a broken .clang-format): show it
    echo "check-format: clang-format failed (exit $status)" >&2
    exit 1
  fi
  echo "check-format: ${#files[@]} files checked; these are not clang-formatted:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  echo "check-format: run scripts/check-format.sh --fix (or clang-format -i FILE)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files clang-formatted ($("$fmt" --version | head -1))"
