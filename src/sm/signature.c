/*
 * signature.c — EIP-191 personal_sign signatures: secp256k1 ECDSA over
 * Keccak-256("\x19Ethereum Signed Message:\n" + decimal length + message), written as
 * "0x" + r + s + v (v = 27 + recovery id), and their strict parsing.
 *
 * Parsing refuses every form that would let one signature be written two ways: s above n/2
 * (ECDSA's (r, n - s) twin), v other than 27/28, r or s out of range. Each refusal has its
 * own reason, so a peer sending malformed signatures can be told from one sending forgeries.
 */
#include "sm/sm.h"

#include "core/error.h"
#include "sm/keccak.h"

#include <openssl/crypto.h>
#include <stdio.h>

static const struct {
  const char *name, *detail;
} REASONS[] = {
    [GDB_SM_OK] = {"ok", "ok"},
    [GDB_SM_MISSING_FIELDS] = {"missing-fields", "missing-fields"},
    [GDB_SM_FIELD_TYPE] = {"missing-fields", "field-type"},
    [GDB_SM_ADDRESS_MISMATCH] = {"address-mismatch", "address-mismatch"},
    [GDB_SM_ADDRESS_FORMAT] = {"address-mismatch", "address-format"},
    [GDB_SM_ADDRESS_CHECKSUM] = {"address-mismatch", "address-checksum"},
    [GDB_SM_SIGNER_MISMATCH] = {"invalid-signature", "signer-mismatch"},
    [GDB_SM_SIG_LENGTH] = {"invalid-signature", "signature-length"},
    [GDB_SM_SIG_NOT_HEX] = {"invalid-signature", "signature-not-hex"},
    [GDB_SM_SIG_V] = {"invalid-signature", "signature-v"},
    [GDB_SM_SIG_HIGH_S] = {"invalid-signature", "signature-high-s"},
    [GDB_SM_SIG_RANGE] = {"invalid-signature", "signature-range"},
    [GDB_SM_SIG_UNRECOVERABLE] = {"invalid-signature", "signature-unrecoverable"},
    [GDB_SM_STALE] = {"stale", "stale"},
};

const char *gdb_sm_reason_name(gdb_sm_reason r) {
  return (unsigned)r < sizeof REASONS / sizeof REASONS[0] ? REASONS[r].name : "unknown";
}
const char *gdb_sm_reason_detail(gdb_sm_reason r) {
  return (unsigned)r < sizeof REASONS / sizeof REASONS[0] ? REASONS[r].detail : "unknown";
}

void gdb_verdict_set(gdb_sm_verdict *v, gdb_sm_reason reason, const uint8_t *addr) {
  v->ok = reason == GDB_SM_OK;
  v->reason = reason;
  if (v->ok && addr)
    gdb_address_format(addr, v->signer);
  else
    v->signer[0] = 0;
}

void gdb_personal_hash(const void *msg, size_t len, uint8_t out[32]) {
  char prefix[64];
  int n = snprintf(prefix, sizeof prefix,
                   "\x19"
                   "Ethereum Signed Message:\n%zu",
                   len);
  gdb_keccak k;
  gdb_keccak_init(&k, GDB_KECCAK_PAD_KECCAK);
  gdb_keccak_update(&k, prefix, (size_t)n);
  gdb_keccak_update(&k, msg, len);
  gdb_keccak_final(&k, out);
}

int gdb_sig_sign_hash(const gdb_identity *id, const uint8_t hash[32],
                      char sig[GDB_SIGNATURE_BUFSZ]) {
  const secp256k1_context *ctx = gdb_sm_ctx();
  secp256k1_ecdsa_recoverable_signature rs;
  /* NULL nonce function: RFC 6979 deterministic nonces; the library always emits low s. */
  if (!secp256k1_ecdsa_sign_recoverable(ctx, &rs, hash, id->key, NULL, NULL))
    return gdb_fail(GDB_ECRYPTO, "secp256k1 signing failed");
  uint8_t raw[65];
  int recid;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, raw, &recid, &rs);
  raw[64] = (uint8_t)(27 + recid);
  sig[0] = '0';
  sig[1] = 'x';
  gdb_hex(raw, 65, sig + 2);
  return GDB_OK;
}

static bool all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) acc |= p[i];
  return acc == 0;
}

gdb_sm_reason gdb_sig_parse(const char *s, size_t len, secp256k1_ecdsa_recoverable_signature *out) {
  if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return GDB_SM_SIG_NOT_HEX;
  if (len != 132) return GDB_SM_SIG_LENGTH;
  uint8_t raw[65];
  if (!gdb_unhex(s + 2, 130, raw, 65)) return GDB_SM_SIG_NOT_HEX;
  if (raw[64] != 27 && raw[64] != 28) return GDB_SM_SIG_V;
  if (all_zero(raw, 32) || all_zero(raw + 32, 32)) return GDB_SM_SIG_RANGE;
  const secp256k1_context *ctx = gdb_sm_ctx();
  /* Fails when r or s is not below the group order. */
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, out, raw, raw[64] - 27))
    return GDB_SM_SIG_RANGE;
  /* normalize() reports whether s was in the upper half; the normalized copy is discarded. */
  secp256k1_ecdsa_signature plain, low;
  secp256k1_ecdsa_recoverable_signature_convert(ctx, &plain, out);
  if (secp256k1_ecdsa_signature_normalize(ctx, &low, &plain)) return GDB_SM_SIG_HIGH_S;
  return GDB_SM_OK;
}

gdb_sm_reason gdb_sig_recover(const uint8_t hash[32], const char *sig, size_t len,
                              uint8_t addr[20]) {
  secp256k1_ecdsa_recoverable_signature rs;
  gdb_sm_reason r = gdb_sig_parse(sig, len, &rs);
  if (r) return r;
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(gdb_sm_ctx(), &pub, &rs, hash)) return GDB_SM_SIG_UNRECOVERABLE;
  gdb_pubkey_address(&pub, addr);
  return GDB_SM_OK;
}

int gdb_sm_sign_message(const gdb_identity *id, const void *msg, size_t len,
                        char sig[GDB_SIGNATURE_BUFSZ]) {
  uint8_t h[32];
  gdb_personal_hash(msg, len, h);
  return gdb_sig_sign_hash(id, h, sig);
}

int gdb_sm_recover_message(const void *msg, size_t len, const char *sig, size_t sig_len,
                           gdb_sm_verdict *v) {
  uint8_t h[32], addr[20];
  gdb_personal_hash(msg, len, h);
  gdb_verdict_set(v, sig ? gdb_sig_recover(h, sig, sig_len, addr) : GDB_SM_MISSING_FIELDS, addr);
  return GDB_OK;
}
