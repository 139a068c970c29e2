/*
 * address.c — Ethereum addresses: the last 20 bytes of Keccak-256 of a public key, written
 * with the EIP-55 mixed-case checksum. Reading accepts the three spellings EIP-55 allows (all
 * lower, all upper, correct mixed case); a mixed-case spelling with a wrong checksum is a typo
 * the checksum exists to catch, so it is refused.
 */
#include "sm/sm.h"

#include "core/error.h"
#include "sm/keccak.h"

void gdb_pubkey_address(const secp256k1_pubkey *pub, uint8_t addr[20]) {
  uint8_t ser[65], h[32];
  size_t n = sizeof ser;
  secp256k1_ec_pubkey_serialize(gdb_sm_ctx(), ser, &n, pub, SECP256K1_EC_UNCOMPRESSED);
  gdb_keccak256(ser + 1, 64, h); /* X || Y without the 0x04 prefix */
  memcpy(addr, h + 12, 20);
}

void gdb_address_format(const uint8_t raw[20], char out[GDB_ADDRESS_BUFSZ]) {
  char lower[41];
  uint8_t h[32];
  gdb_hex(raw, 20, lower);
  gdb_keccak256(lower, 40, h);
  out[0] = '0';
  out[1] = 'x';
  for (int i = 0; i < 40; i++) {
    int nibble = i % 2 ? h[i / 2] & 15 : h[i / 2] >> 4;
    char c = lower[i];
    out[2 + i] = (c >= 'a' && nibble >= 8) ? (char)(c - 'a' + 'A') : c;
  }
  out[42] = 0;
}

bool gdb_address_is_checksummed(const char *s, size_t len) {
  bool upper = false, lower = false;
  for (size_t i = 2; i < len; i++) {
    if (s[i] >= 'a' && s[i] <= 'f') lower = true;
    if (s[i] >= 'A' && s[i] <= 'F') upper = true;
  }
  return upper && lower;
}

gdb_sm_reason gdb_address_check(const char *s, size_t len, uint8_t raw[20]) {
  uint8_t tmp[20];
  if (!raw) raw = tmp;
  if (len != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !gdb_unhex(s + 2, 40, raw, 20))
    return GDB_SM_ADDRESS_FORMAT;
  if (gdb_address_is_checksummed(s, len)) {
    char want[GDB_ADDRESS_BUFSZ];
    gdb_address_format(raw, want);
    if (memcmp(want + 2, s + 2, 40)) return GDB_SM_ADDRESS_CHECKSUM;
  }
  return GDB_SM_OK;
}

int gdb_address_parse(const char *s, size_t len, uint8_t raw[20]) {
  switch (gdb_address_check(s, len, raw)) {
  case GDB_SM_OK: return GDB_OK;
  case GDB_SM_ADDRESS_CHECKSUM: {
    uint8_t r[20];
    char want[GDB_ADDRESS_BUFSZ];
    gdb_unhex(s + 2, 40, r, 20);
    gdb_address_format(r, want);
    return gdb_fail(GDB_EINVAL,
                    "address \"%.42s\" has a wrong EIP-55 checksum (mixed case must be %s): a "
                    "character was mistyped, or write it all in lower case",
                    s, want);
  }
  default:
    return gdb_fail(GDB_EINVAL, "\"%.*s%s\" is not an address (0x followed by 40 hex digits)",
                    (int)(len > 60 ? 60 : len), s, len > 60 ? "..." : "");
  }
}

int gdb_address_normalize(const char *s, char out[GDB_ADDRESS_BUFSZ]) {
  uint8_t raw[20];
  int rc = gdb_address_parse(s, strlen(s), raw);
  if (rc) return rc;
  gdb_address_format(raw, out);
  return GDB_OK;
}
