# docs_readme_c.sh — the README's C example, compiled with the README's own command against
# this build's library, runs and prints the node it stored: the first-contact docs stay true.
# Environment: GDB_SOURCE (the repository), GDB_LIB (libgenosdb.a), CC, GDB_CFLAGS (the build's
# sanitizer flags, if any).
set -euo pipefail
: "${GDB_SOURCE:?}" "${GDB_LIB:?}" "${CC:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gdb-readme.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# the fenced block after "## From C" that starts with /* app.c */, and the cc command after it
python3 - "$GDB_SOURCE/README.md" "$WORK" <<'PY' || fail "README.md: the C example or its cc command is missing"
import re, sys
text = open(sys.argv[1]).read()
part = text[text.index("## From C"):]
blocks = re.findall(r"```(\w+)\n(.*?)```", part, re.S)
c = next(b for lang, b in blocks if lang == "c" and b.startswith("/* app.c */"))
sh = next(b for lang, b in blocks if lang == "sh" and b.lstrip().startswith("cc "))
open(sys.argv[2] + "/app.c", "w").write(c)
open(sys.argv[2] + "/build.sh", "w").write(sh.replace("\\\n", " "))
PY
cmd=$(cat "$WORK/build.sh")
cmd=${cmd//-Iinclude/-I$GDB_SOURCE/include}
cmd=${cmd//build\/libgenosdb.a/$GDB_LIB}
cmd=${cmd/#cc /$CC ${GDB_CFLAGS:-} }
cd "$WORK"
eval "$cmd" || fail "the README's build command failed: $cmd"
out=$(./app) || fail "app exited $?"
case "$out" in
  *'"value":{"name":"Ada","type":"user"}'*) ;;
  *) fail "unexpected output: $out" ;;
esac
[ -s app.db ] || fail "app.db was not written"
echo "docs_readme_c: the README's example builds with its command and runs"
