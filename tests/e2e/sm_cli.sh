#!/usr/bin/env bash
# sm_cli.sh — the id and sm commands end to end beyond the vectors: every malformed or
# malleated signature refused with its own reason, bad keys and phrases (exit 2), identity
# files (mode 0600, wrong passphrase, truncated, modified), sealed values.
set -euo pipefail
: "${GENOSDB:?path of the genosdb binary}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
exec python3 - "$GENOSDB" "$work" <<'PY'
import json, os, stat, subprocess, sys

cli, work = sys.argv[1], sys.argv[2]
failures, count = [], 0
ALICE = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ALICE_ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

def run(args, stdin="", env=None):
    e = dict(os.environ)
    e.pop("GENOSDB_KEY", None)
    e.pop("GENOSDB_PASSPHRASE", None)
    e.update(env or {})
    p = subprocess.run([cli] + args, input=stdin.encode(), capture_output=True, timeout=60, env=e)
    return p.returncode, p.stdout.decode(), p.stderr.decode()

def check(name, cond, detail=""):
    global count
    count += 1
    if not cond:
        failures.append(f"{name}: {detail}")

OP = '{"type":"upsert","id":"doc:1","value":{"n":1},"timestamp":{"physical":1750000000000,"logical":1}}'
rc, signed, err = run(["sm", "sign", "--key", ALICE], OP)
check("sign", rc == 0, err)
op = json.loads(signed)
sig = op["signature"]

def verdict(edit):
    o = dict(op)
    edit(o)
    rc, out, err = run(["sm", "verify"], json.dumps(o))
    return rc, (json.loads(out) if rc == 0 else None), err

def with_sig(s):
    return lambda o: o.__setitem__("signature", s)

r, s, v = int(sig[2:66], 16), int(sig[66:130], 16), int(sig[130:], 16)
high = "0x%064x%064x%02x" % (r, N - s, 55 - v)  # (r, n-s) with the other v: same key, high s
cases = [
    ("high-s", with_sig(high), "invalid-signature", "signature-high-s"),
    ("v-29", with_sig(sig[:130] + "1d"), "invalid-signature", "signature-v"),
    ("v-0", with_sig(sig[:130] + "00"), "invalid-signature", "signature-v"),
    ("v-1", with_sig(sig[:130] + "01"), "invalid-signature", "signature-v"),
    ("short", with_sig(sig[:-2]), "invalid-signature", "signature-length"),
    ("long", with_sig(sig + "00"), "invalid-signature", "signature-length"),
    ("non-hex", with_sig(sig[:40] + "zz" + sig[42:]), "invalid-signature", "signature-not-hex"),
    ("no-0x", with_sig(sig[2:]), "invalid-signature", "signature-not-hex"),
    ("r-zero", with_sig("0x" + "0" * 64 + sig[66:]), "invalid-signature", "signature-range"),
    ("s-is-n", with_sig("0x%064x%064x%02x" % (r, N, v)), "invalid-signature", "signature-range"),
    ("not-a-string", with_sig(12), "missing-fields", "field-type"),
    # One letter's case flipped: mixed case with a wrong EIP-55 checksum.
    ("bad-checksum", lambda o: o.__setitem__("originEthAddress", ALICE_ADDR.replace("f39F", "F39F")),
     "address-mismatch", "address-checksum"),
    ("bad-address", lambda o: o.__setitem__("originUser", "0x1234"), "address-mismatch", "address-format"),
    ("lower-originUser", lambda o: o.__setitem__("originUser", ALICE_ADDR.lower()), "invalid-signature", "signer-mismatch"),
    ("no-signature", lambda o: o.pop("signature"), "missing-fields", "missing-fields"),
]
for name, edit, reason, detail in cases:
    rc, got, err = verdict(edit)
    check("verify-" + name, rc == 0 and got == {"ok": False, "reason": reason, "detail": detail},
          f"rc={rc} got={got} err={err!r}")
rc, got, _ = verdict(lambda o: o.__setitem__("originEthAddress", ALICE_ADDR.lower()))
check("verify-lower-originEthAddress-accepted", got == {"ok": True, "signer": ALICE_ADDR}, str(got))

# Unreadable input: exit 2 with a message, for every command that reads JSON.
for args in (["sm", "canon"], ["sm", "verify"], ["sm", "sign", "--key", ALICE], ["sm", "envelope-verify"]):
    for bad in ('{"a":', "", "{\"a\":1,\"a\":2}", "[1] x"):
        rc, out, err = run(args, bad)
        check(f"bad-json {' '.join(args[:2])} {bad!r}", rc == 2 and err.startswith("genosdb: "), f"rc={rc} err={err!r}")
rc, _, err = run(["sm", "verify"], "[1]")
check("verify-array", rc == 2 and "JSON object" in err, err)

# Keys and phrases: each problem named, exit 2.
bad_secrets = [
    ("0x1234", "64 hex digits"),
    ("0x" + "g" * 64, "not a hex digit"),
    ("0x" + "0" * 64, "zero or not below"),
    ("test test test test test test test test test test test test", "checksum does not match"),
    ("test test test test test test test test test test test jnuk", "not in the BIP-39 English word list"),
    ("test test test test test test test test test test junk", "has 11 words"),
]
for secret, msg in bad_secrets:
    rc, out, err = run(["id", "address", secret])
    check(f"id-address {secret[:20]}", rc == 2 and msg in err and out == "", f"rc={rc} err={err!r}")
rc, out, err = run(["id", "address", "-"], ALICE + "\n")
check("id-address-stdin", rc == 0 and json.loads(out) == {"address": ALICE_ADDR}, out + err)
rc, out, err = run(["sm", "sign"], OP)
check("sign-without-key", rc == 2 and "--key" in err, err)
rc, out, err = run(["sm", "sign"], OP, {"GENOSDB_KEY": ALICE})
check("sign-GENOSDB_KEY", rc == 0 and json.loads(out) == op, out + err)

# New identities: 12 and 24 words, the phrase gives the address back.
for words in ("12", "24"):
    rc, out, err = run(["id", "new", "--words", words])
    got = json.loads(out)
    check(f"id-new-{words}", rc == 0 and len(got["mnemonic"].split()) == int(words), out + err)
    rc, out2, err = run(["id", "address", got["mnemonic"]])
    check(f"id-new-{words}-recovers", rc == 0 and json.loads(out2)["address"] == got["address"], out2 + err)
rc, _, err = run(["id", "new", "--words", "15"])
check("id-new-15", rc == 2, err)

# Identity files.
path = os.path.join(work, "me.id")
PASS = {"GENOSDB_PASSPHRASE": "correct horse"}
rc, out, err = run(["id", "new", "--out", path], env=PASS)
check("idfile-new", rc == 0, err)
addr = json.loads(out)["address"]
check("idfile-mode-0600", stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode))
rc, out, err = run(["sm", "sign", "--id", path], OP, PASS)
check("idfile-sign", rc == 0 and json.loads(out)["originUser"] == addr, out + err)
rc, out, err = run(["sm", "verify"], out)
check("idfile-verify", json.loads(out) == {"ok": True, "signer": addr}, out + err)
rc, out, err = run(["sm", "sign", "--id", path], OP, {"GENOSDB_PASSPHRASE": "wrong horse"})
check("idfile-wrong-passphrase", rc == 2 and "wrong passphrase" in err, f"rc={rc} {err!r}")
rc, out, err = run(["id", "new", "--out", path], env=PASS)
check("idfile-never-replaced", rc == 2 and "already exists" in err, err)
data = open(path, "rb").read()
cut = os.path.join(work, "cut.id")
with open(cut, "wb") as f:
    f.write(data[: len(data) // 2])
rc, out, err = run(["sm", "sign", "--id", cut], OP, PASS)
check("idfile-truncated", rc == 3 and "truncated" in err, f"rc={rc} {err!r}")
doc = json.loads(data)
doc["tag"] = ("0" if doc["tag"][0] != "0" else "1") + doc["tag"][1:]
bent = os.path.join(work, "bent.id")
with open(bent, "w") as f:
    f.write(json.dumps(doc))
rc, out, err = run(["sm", "sign", "--id", bent], OP, PASS)
check("idfile-tampered", rc == 3 and "modified" in err, f"rc={rc} {err!r}")
rc, out, err = run(["sm", "sign", "--id", os.path.join(work, "none.id")], OP, PASS)
check("idfile-missing", rc == 1 and "cannot open" in err, f"rc={rc} {err!r}")
imp = os.path.join(work, "alice.id")
rc, out, err = run(["id", "import", "--out", imp], env={**PASS, "GENOSDB_KEY": ALICE})
check("idfile-import", rc == 0 and json.loads(out) == {"address": ALICE_ADDR}, out + err)
rc, out, err = run(["id", "address", "--id", imp], env=PASS)
check("idfile-address", rc == 0 and json.loads(out) == {"address": ALICE_ADDR}, out + err)

# Sealed values.
rc, sealed, err = run(["sm", "seal", "--key", ALICE], '{"pin":1234}')
w = json.loads(sealed)
check("seal", rc == 0 and w["_sealed"] == 1 and w["owner"] == ALICE_ADDR and "1234" not in sealed, sealed + err)
rc, out, err = run(["sm", "open", "--key", ALICE], sealed)
check("open-own", json.loads(out) == {"state": "opened", "value": {"pin": 1234}}, out + err)
rc, out, err = run(["sm", "open", "--id", imp], sealed, PASS)
check("open-own-from-file", json.loads(out) == {"state": "opened", "value": {"pin": 1234}}, out + err)
rc, out, err = run(["sm", "open", "--id", path], sealed, PASS)
check("open-foreign", rc == 0 and json.loads(out) == {"state": "foreign", "value": w}, out + err)

if failures:
    print("\n".join("FAIL " + f for f in failures), file=sys.stderr)
    sys.exit(1)
print(f"sm_cli: {count} checks passed", file=sys.stderr)
PY
