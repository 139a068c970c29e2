#!/usr/bin/env bash
# sm_vectors.sh — every case of tests/vectors/sm.json through the genosdb CLI:
# identity (id address), canonicalize (sm canon), sign (sm sign), verify (sm verify),
# envelope (sm envelope, then sm envelope-verify on the expected envelope).
set -euo pipefail
: "${GENOSDB:?path of the genosdb binary}" "${GDB_TEST_DIR:?path of tests/}"
exec python3 - "$GENOSDB" "$GDB_TEST_DIR/vectors/sm.json" <<'PY'
import json, subprocess, sys

cli, path = sys.argv[1], sys.argv[2]
vec = json.load(open(path, encoding="utf-8"))
failures, count = [], 0

def run(args, stdin=""):
    p = subprocess.run([cli] + args, input=stdin.encode(), capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()

def check(name, cond, detail):
    global count
    count += 1
    if not cond:
        failures.append(f"{name}: {detail}")

def text(v):
    return json.dumps(v, ensure_ascii=False)

for c in vec["identity"]:
    rc, out, err = run(["id", "address", c["input"]["key"]])
    check(c["name"], rc == 0 and json.loads(out) == {"address": c["expected"]}, f"rc={rc} out={out!r} err={err!r}")

for c in vec["canonicalize"]:
    rc, out, err = run(["sm", "canon"], text(c["input"]))
    check(c["name"], rc == 0 and out == c["expected"] + "\n", f"rc={rc} out={out!r} want={c['expected']!r} err={err!r}")

for c in vec["sign"]:
    rc, out, err = run(["sm", "sign", "--key", c["key"]], text(c["input"]))
    ok = rc == 0 and json.loads(out) == c["expected"]
    # The output is canonical JSON: canonicalizing it again changes nothing.
    if ok:
        rc2, again, _ = run(["sm", "canon"], out)
        ok = rc2 == 0 and again == out
    check(c["name"], ok, f"rc={rc} out={out!r} err={err!r}")

for c in vec["verify"]:
    rc, out, err = run(["sm", "verify"], text(c["input"]))
    exp = c["expected"]
    try:
        got = json.loads(out)
    except ValueError:
        got = {}
    if exp["ok"]:
        ok = got == {"ok": True, "signer": exp["normalizedOriginEthAddress"]}
    else:
        ok = got.get("ok") is False and got.get("reason") == exp["reason"]
    check(c["name"], rc == 0 and ok, f"rc={rc} out={out!r} want={exp} err={err!r}")

env = vec["envelope"]
inp = env["input"]
rc, out, err = run(["sm", "envelope", "--key", env["key"], "--kind", inp["kind"], "--at", str(inp["at"])],
                   text(inp["value"]))
check("envelope-sign", rc == 0 and json.loads(out) == env["expected"], f"rc={rc} out={out!r} err={err!r}")
rc, out, err = run(["sm", "envelope-verify", "--now", str(inp["at"] + 30000)], text(env["expected"]))
check("envelope-verify", rc == 0 and json.loads(out) == {"ok": True, "signer": env["expected"]["from"]},
      f"rc={rc} out={out!r} err={err!r}")
rc, out, err = run(["sm", "envelope-verify", "--now", str(inp["at"] + 60001)], text(env["expected"]))
got = json.loads(out) if rc == 0 else {}
check("envelope-verify-stale", got.get("ok") is False and got.get("signer", 1) is None and got.get("reason") == "stale",
      f"rc={rc} out={out!r}")

# All verify cases at once, as JSON Lines: one verdict per line, in order.
lines = "\n".join(text(c["input"]) for c in vec["verify"]) + "\n"
rc, out, err = run(["sm", "verify"], lines)
got = [json.loads(l) for l in out.splitlines()]
check("verify-json-lines", rc == 0 and len(got) == len(vec["verify"]) and
      all(g["ok"] == c["expected"]["ok"] for g, c in zip(got, vec["verify"])), f"rc={rc} out={out!r}")

total = len(vec["identity"]) + len(vec["canonicalize"]) + len(vec["sign"]) + len(vec["verify"])
if failures:
    print("\n".join("FAIL " + f for f in failures), file=sys.stderr)
    sys.exit(1)
print(f"sm_vectors: {count} checks passed ({total} vector cases + envelope)", file=sys.stderr)
PY
