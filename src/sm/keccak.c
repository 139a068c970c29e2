/*
 * keccak.c — the Keccak-f[1600] permutation and a 256-bit sponge (see keccak.h).
 *
 * Written from the Keccak reference description (FIPS 202 §3, with the pre-standard padding
 * byte 0x01). The same code computes SHA3-256 when given padding 0x06, which the unit tests
 * cross-check against OpenSSL for every length around the 136-byte rate.
 */
#include "sm/keccak.h"

#include "genosdb.h"

#include <string.h>

static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* rho rotations and pi destinations, following lane 1 around the pi cycle. */
static const unsigned RHO[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                 27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned PI[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static inline uint64_t rotl(uint64_t x, unsigned n) { return x << n | x >> (64 - n); }

static void keccak_f1600(uint64_t s[25]) {
  for (int round = 0; round < 24; round++) {
    /* theta */
    uint64_t c[5], d;
    for (int x = 0; x < 5; x++) c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
    for (int x = 0; x < 5; x++) {
      d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) s[y + x] ^= d;
    }
    /* rho and pi */
    uint64_t t = s[1];
    for (int i = 0; i < 24; i++) {
      unsigned j = PI[i];
      uint64_t next = s[j];
      s[j] = rotl(t, RHO[i]);
      t = next;
    }
    /* chi */
    for (int y = 0; y < 25; y += 5) {
      uint64_t r[5];
      for (int x = 0; x < 5; x++) r[x] = s[y + x];
      for (int x = 0; x < 5; x++) s[y + x] = r[x] ^ (~r[(x + 1) % 5] & r[(x + 2) % 5]);
    }
    /* iota */
    s[0] ^= ROUND_CONSTANTS[round];
  }
}

static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

void gdb_keccak_init(gdb_keccak *k, uint8_t pad) {
  memset(k, 0, sizeof *k);
  k->pad = pad;
}

void gdb_keccak_update(gdb_keccak *k, const void *data, size_t len) {
  const uint8_t *p = data;
  /* Finish a partly filled block byte by byte. */
  while (len && k->fill) {
    k->s[k->fill / 8] ^= (uint64_t)*p++ << (8 * (k->fill % 8));
    len--;
    if (++k->fill == GDB_KECCAK256_RATE) {
      keccak_f1600(k->s);
      k->fill = 0;
    }
  }
  /* Whole blocks, a lane at a time. */
  for (; len >= GDB_KECCAK256_RATE; len -= GDB_KECCAK256_RATE, p += GDB_KECCAK256_RATE) {
    for (int i = 0; i < GDB_KECCAK256_RATE / 8; i++) k->s[i] ^= load_le64(p + 8 * i);
    keccak_f1600(k->s);
  }
  for (; len; len--, k->fill++) k->s[k->fill / 8] ^= (uint64_t)*p++ << (8 * (k->fill % 8));
}

void gdb_keccak_final(gdb_keccak *k, uint8_t out[32]) {
  k->s[k->fill / 8] ^= (uint64_t)k->pad << (8 * (k->fill % 8));
  k->s[(GDB_KECCAK256_RATE - 1) / 8] ^= 0x80ull << (8 * ((GDB_KECCAK256_RATE - 1) % 8));
  keccak_f1600(k->s);
  for (int i = 0; i < 32; i++) out[i] = (uint8_t)(k->s[i / 8] >> (8 * (i % 8)));
}

void gdb_keccak256(const void *data, size_t len, uint8_t out[32]) {
  gdb_keccak k;
  gdb_keccak_init(&k, GDB_KECCAK_PAD_KECCAK);
  gdb_keccak_update(&k, data, len);
  gdb_keccak_final(&k, out);
}
