/*
 * keccak.h — Keccak-256 with the original Keccak padding (0x01), as Ethereum uses it for
 * addresses and message hashes. Debian's OpenSSL 3.0 ships SHA3-256 (padding 0x06) but not
 * Keccak-256, so the sponge lives here; the public entry point is gdb_keccak256() in genosdb.h.
 */
#ifndef GDB_SM_KECCAK_H
#define GDB_SM_KECCAK_H

#include <stddef.h>
#include <stdint.h>

/* Rate of the 256-bit sponge in bytes: 1600 - 2*256 bits. */
#define GDB_KECCAK256_RATE 136

/* An incremental Keccak-256 / SHA3-256 hash. */
typedef struct gdb_keccak {
  uint64_t s[25];
  uint8_t block[GDB_KECCAK256_RATE]; /* input not yet absorbed */
  size_t fill;                       /* bytes in block */
  uint8_t pad;                       /* 0x01 for Keccak-256, 0x06 for SHA3-256 */
} gdb_keccak;

/* pad: GDB_KECCAK_PAD_KECCAK (Ethereum) or GDB_KECCAK_PAD_SHA3 (FIPS 202, for cross-checks). */
enum { GDB_KECCAK_PAD_KECCAK = 0x01, GDB_KECCAK_PAD_SHA3 = 0x06 };

void gdb_keccak_init(gdb_keccak *k, uint8_t pad);
void gdb_keccak_update(gdb_keccak *k, const void *data, size_t len);
/* Writes the 32-byte digest; k must be re-initialised before reuse. */
void gdb_keccak_final(gdb_keccak *k, uint8_t out[32]);

#endif
