#!/usr/bin/env bash
# Runs clang-tidy (Debian's clang-tidy-14, the checks in the repository's .clang-tidy) over every
# source file under src/ that the build compiles, with that build's compile_commands.json.
#   scripts/check-tidy.sh [BUILD_DIR]           # default: $BUILD_DIR, else build-test
#   scripts/check-tidy.sh BUILD_DIR FILE...     # only these files (e.g. the ones you changed)
#   TIDY_JOBS=1 scripts/check-tidy.sh           # parallel clang-tidy processes (default 2)
#   TIDY_CACHE=0 scripts/check-tidy.sh          # check every file, ignoring earlier clean runs
#   TIDY_BUDGET=240 scripts/check-tidy.sh       # start no file after 240 s (the rest: next run)
# Exit 1 with the findings when any check fires (.clang-tidy makes every warning an error).
# Headers under src/ are checked through the files that include them.
#
# A whole run costs ~10 s of CPU per file (~100 files: about 10 minutes on 2 cores), so a file
# found clean is remembered in BUILD_DIR/tidy-clean/, under a hash of everything its result
# depends on: clang-tidy's version, .clang-tidy, the file's compile command and the contents of
# the file and of every header it includes (the build's dependency list, `ninja -t deps`). The
# next run checks again only files where any of that changed, most recently committed first.
# The ctest tidy_check (label lint) runs this with a budget: a first run in a fresh build
# directory checks what fits (the files of the latest commits first) and says how many are left
# for the next runs; once the cache is full, a run checks what the last build changed. Exits 77
# (ctest: skipped) when clang-tidy is not installed (scripts/install-deps.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
build="$(realpath "${1:-${BUILD_DIR:-$here/build-test}}")"
[ $# -gt 0 ] && shift
tidy="${CLANG_TIDY:-}"
if [ -z "$tidy" ]; then
  tidy="$(command -v clang-tidy-14 || true)"
fi
if [ -z "$tidy" ]; then
  echo "check-tidy: SKIPPED: clang-tidy-14 is not installed (scripts/install-deps.sh)" >&2
  exit 77
fi
db="$build/compile_commands.json"
if [ ! -f "$db" ]; then
  echo "check-tidy: $db not found: configure a build first (scripts/build.sh or scripts/test.sh;" \
    "CMAKE_EXPORT_COMPILE_COMMANDS is on)" >&2
  exit 1
fi
cache="$build/tidy-clean"
mkdir -p "$cache"
# Lines "FILE<TAB>KEY": the files to check (those given, else every src/ file in the database, so
# a file outside this configuration is not checked with guessed flags) and each one's cache key
# ("-" when the build has no dependency list for it yet: always checked).
list="$(mktemp)"
out="$(mktemp)"
ninja_deps="$(mktemp)"
trap 'rm -f "$list" "$out" "$ninja_deps"' EXIT
ninja -C "$build" -t deps >"$ninja_deps" 2>/dev/null || true
TIDY_VERSION="$("$tidy" --version)" python3 - "$db" "$here" "$ninja_deps" "$@" >"$list" <<'PY'
import hashlib, json, os, sys
db, top, ninja_deps, given = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
entries = {}
for e in json.load(open(db)):
    f = os.path.realpath(os.path.join(e["directory"], e["file"]))
    entries.setdefault(f, []).append(e)
if given:
    files = [os.path.realpath(f) for f in given]
else:
    files = sorted(f for f in entries if f.startswith(os.path.join(top, "src") + os.sep))
    # The files of the latest commits first: with a budget, what just changed is checked first.
    rank = {}
    try:
        import subprocess
        log = subprocess.run(["git", "-C", top, "log", "--format=", "--name-only", "-n", "300"],
                             capture_output=True, text=True).stdout.split()
        for name in log:
            rank.setdefault(os.path.realpath(os.path.join(top, name)), len(rank))
    except OSError:
        pass
    files.sort(key=lambda f: rank.get(f, len(rank)))
# Dependency lists per source file, from `ninja -t deps` (the source is an object's first dep).
deps, current = {}, None
for line in open(ninja_deps).read().splitlines():
    if not line.strip():
        current = None
    elif not line.startswith(" "):
        current = []
    elif current is not None:
        path = line.strip()
        if not current:
            src = os.path.realpath(path if os.path.isabs(path) else os.path.join(os.path.dirname(db), path))
            deps.setdefault(src, current)
        current.append(path)
digests = {}
def digest(path):
    if path not in digests:
        try:
            with open(path, "rb") as fh:
                digests[path] = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            digests[path] = "missing"
    return digests[path]
base = hashlib.sha256()
base.update(os.environ["TIDY_VERSION"].encode())
base.update(digest(os.path.join(top, ".clang-tidy")).encode())
build = os.path.dirname(db)
for f in files:
    if f not in deps or f not in entries:
        print(f"{f}\t-")
        continue
    h = base.copy()
    h.update(json.dumps(entries[f], sort_keys=True).encode())
    for d in deps[f]:
        p = d if os.path.isabs(d) else os.path.join(build, d)
        h.update(p.encode() + b"\0" + digest(p).encode())
    print(f"{f}\t{h.hexdigest()}")
PY
total=$(wc -l <"$list")
if [ "$total" -eq 0 ]; then
  echo "check-tidy: no source files under $here/src in $db" >&2
  exit 1
fi
todo=()
while IFS=$'\t' read -r f key; do
  if [ "${TIDY_CACHE:-1}" != "0" ] && [ "$key" != "-" ] && [ -e "$cache/$key" ]; then continue; fi
  todo+=("$f" "$key")
done <"$list"
jobs="${TIDY_JOBS:-2}"
start=$(date +%s)
deadline=$((start + ${TIDY_BUDGET:-0}))
[ "${TIDY_BUDGET:-0}" -gt 0 ] || deadline=0
skipped="$(mktemp)"
trap 'rm -f "$list" "$out" "$ninja_deps" "$skipped"' EXIT
status=0
# Boost 1.74's Asio enables co_await for clang only with <experimental/coroutine>; clang 14 has
# C++20 coroutines (the build's GCC gets them detected), so say so, or net/ does not parse.
# The compile commands are GCC's, with -Werror when the build has C2C_WERROR (scripts/test.sh,
# CI): -Wno-error makes the result the same with or without it (.clang-tidy decides what fails),
# and -Wno-unknown-warning-option quiets GCC-only flags such as -Wshadow=local.
# --quiet drops the "N warnings generated" lines (counts of system-header warnings clang-tidy
# filters out); a file is clean when clang-tidy exits 0 and prints nothing.
if [ ${#todo[@]} -gt 0 ]; then
  printf '%s\0' "${todo[@]}" |
    xargs -0 -n 2 -P "$jobs" sh -c '
      if [ "$4" -gt 0 ] && [ "$(date +%s)" -ge "$4" ]; then echo "$5" >>"$3"; exit 0; fi
      tidy_out=$("$0" -p "$1" --quiet --extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 \
        --extra-arg=-Wno-error --extra-arg=-Wno-unknown-warning-option "$5" 2>&1) && st=0 || st=$?
      if [ "$st" -eq 0 ] && ! printf "%s" "$tidy_out" | grep -q "warning:\|error:"; then
        [ "$6" = "-" ] || : >"$2/$6"
      else
        printf "%s\n" "$tidy_out"
        exit 1
      fi' "$tidy" "$build" "$cache" "$skipped" "$deadline" >"$out" 2>&1 || status=$?
fi
secs=$(($(date +%s) - start))
left=$(wc -l <"$skipped")
checked=$((${#todo[@]} / 2 - left))
if [ "$status" -ne 0 ] || grep -q 'warning:\|error:' "$out"; then
  grep -v '^[0-9]* warnings\? generated\.$\|^Suppressed [0-9]* warnings\|^Use -header-filter\|^Use -system-headers' \
    "$out" >&2 || true
  n=$(grep -c 'error:\|warning:' "$out" || true)
  echo "check-tidy: $n findings in $checked files checked (${secs}s); fix them, or add a" \
    "NOLINT(check) with the reason when the check is wrong there" >&2
  exit 1
fi
echo "check-tidy: $checked files checked now, clean (${secs}s, -j$jobs);" \
  "$((total - checked - left)) unchanged since a clean run; $left left for the next run" \
  "(TIDY_BUDGET=${TIDY_BUDGET:-0}s; $("$tidy" --version | grep -o 'version [0-9.]*'))"
