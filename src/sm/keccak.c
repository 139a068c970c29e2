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

static inline uint64_t rotl(uint64_t x, unsigned n) { return x << n | x >> (64 - n); }

/* One permutation with the 25 lanes in named variables (a<x><y> is lane x + 5y) and the rounds
 * written out, two per iteration so the state alternates between the a and e variables. Each
 * output plane is produced at once: theta's column parities (c, d), then rho and pi gather the
 * five lanes of the plane (b0..b4), chi and iota write it. Spelled out this way the lanes stay
 * mostly in registers; the looped textbook form ran about four times slower. */
static void keccak_f1600(uint64_t s[25]) {
  uint64_t a00 = s[0], a10 = s[1], a20 = s[2], a30 = s[3], a40 = s[4];
  uint64_t a01 = s[5], a11 = s[6], a21 = s[7], a31 = s[8], a41 = s[9];
  uint64_t a02 = s[10], a12 = s[11], a22 = s[12], a32 = s[13], a42 = s[14];
  uint64_t a03 = s[15], a13 = s[16], a23 = s[17], a33 = s[18], a43 = s[19];
  uint64_t a04 = s[20], a14 = s[21], a24 = s[22], a34 = s[23], a44 = s[24];
  uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4;
  uint64_t e00, e10, e20, e30, e40, e01, e11, e21, e31, e41, e02, e12, e22, e32, e42, e03, e13, e23,
      e33, e43, e04, e14, e24, e34, e44;
  for (int round = 0; round < 24; round += 2) {
    c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04;
    c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;
    c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24;
    c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;
    c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;
    d0 = c4 ^ rotl(c1, 1);
    d1 = c0 ^ rotl(c2, 1);
    d2 = c1 ^ rotl(c3, 1);
    d3 = c2 ^ rotl(c4, 1);
    d4 = c3 ^ rotl(c0, 1);
    b0 = (a00 ^ d0);
    b1 = rotl((a11 ^ d1), 44);
    b2 = rotl((a22 ^ d2), 43);
    b3 = rotl((a33 ^ d3), 21);
    b4 = rotl((a44 ^ d4), 14);
    e00 = b0 ^ (~b1 & b2) ^ ROUND_CONSTANTS[round];
    e10 = b1 ^ (~b2 & b3);
    e20 = b2 ^ (~b3 & b4);
    e30 = b3 ^ (~b4 & b0);
    e40 = b4 ^ (~b0 & b1);
    b0 = rotl((a30 ^ d3), 28);
    b1 = rotl((a41 ^ d4), 20);
    b2 = rotl((a02 ^ d0), 3);
    b3 = rotl((a13 ^ d1), 45);
    b4 = rotl((a24 ^ d2), 61);
    e01 = b0 ^ (~b1 & b2);
    e11 = b1 ^ (~b2 & b3);
    e21 = b2 ^ (~b3 & b4);
    e31 = b3 ^ (~b4 & b0);
    e41 = b4 ^ (~b0 & b1);
    b0 = rotl((a10 ^ d1), 1);
    b1 = rotl((a21 ^ d2), 6);
    b2 = rotl((a32 ^ d3), 25);
    b3 = rotl((a43 ^ d4), 8);
    b4 = rotl((a04 ^ d0), 18);
    e02 = b0 ^ (~b1 & b2);
    e12 = b1 ^ (~b2 & b3);
    e22 = b2 ^ (~b3 & b4);
    e32 = b3 ^ (~b4 & b0);
    e42 = b4 ^ (~b0 & b1);
    b0 = rotl((a40 ^ d4), 27);
    b1 = rotl((a01 ^ d0), 36);
    b2 = rotl((a12 ^ d1), 10);
    b3 = rotl((a23 ^ d2), 15);
    b4 = rotl((a34 ^ d3), 56);
    e03 = b0 ^ (~b1 & b2);
    e13 = b1 ^ (~b2 & b3);
    e23 = b2 ^ (~b3 & b4);
    e33 = b3 ^ (~b4 & b0);
    e43 = b4 ^ (~b0 & b1);
    b0 = rotl((a20 ^ d2), 62);
    b1 = rotl((a31 ^ d3), 55);
    b2 = rotl((a42 ^ d4), 39);
    b3 = rotl((a03 ^ d0), 41);
    b4 = rotl((a14 ^ d1), 2);
    e04 = b0 ^ (~b1 & b2);
    e14 = b1 ^ (~b2 & b3);
    e24 = b2 ^ (~b3 & b4);
    e34 = b3 ^ (~b4 & b0);
    e44 = b4 ^ (~b0 & b1);
    c0 = e00 ^ e01 ^ e02 ^ e03 ^ e04;
    c1 = e10 ^ e11 ^ e12 ^ e13 ^ e14;
    c2 = e20 ^ e21 ^ e22 ^ e23 ^ e24;
    c3 = e30 ^ e31 ^ e32 ^ e33 ^ e34;
    c4 = e40 ^ e41 ^ e42 ^ e43 ^ e44;
    d0 = c4 ^ rotl(c1, 1);
    d1 = c0 ^ rotl(c2, 1);
    d2 = c1 ^ rotl(c3, 1);
    d3 = c2 ^ rotl(c4, 1);
    d4 = c3 ^ rotl(c0, 1);
    b0 = (e00 ^ d0);
    b1 = rotl((e11 ^ d1), 44);
    b2 = rotl((e22 ^ d2), 43);
    b3 = rotl((e33 ^ d3), 21);
    b4 = rotl((e44 ^ d4), 14);
    a00 = b0 ^ (~b1 & b2) ^ ROUND_CONSTANTS[round + 1];
    a10 = b1 ^ (~b2 & b3);
    a20 = b2 ^ (~b3 & b4);
    a30 = b3 ^ (~b4 & b0);
    a40 = b4 ^ (~b0 & b1);
    b0 = rotl((e30 ^ d3), 28);
    b1 = rotl((e41 ^ d4), 20);
    b2 = rotl((e02 ^ d0), 3);
    b3 = rotl((e13 ^ d1), 45);
    b4 = rotl((e24 ^ d2), 61);
    a01 = b0 ^ (~b1 & b2);
    a11 = b1 ^ (~b2 & b3);
    a21 = b2 ^ (~b3 & b4);
    a31 = b3 ^ (~b4 & b0);
    a41 = b4 ^ (~b0 & b1);
    b0 = rotl((e10 ^ d1), 1);
    b1 = rotl((e21 ^ d2), 6);
    b2 = rotl((e32 ^ d3), 25);
    b3 = rotl((e43 ^ d4), 8);
    b4 = rotl((e04 ^ d0), 18);
    a02 = b0 ^ (~b1 & b2);
    a12 = b1 ^ (~b2 & b3);
    a22 = b2 ^ (~b3 & b4);
    a32 = b3 ^ (~b4 & b0);
    a42 = b4 ^ (~b0 & b1);
    b0 = rotl((e40 ^ d4), 27);
    b1 = rotl((e01 ^ d0), 36);
    b2 = rotl((e12 ^ d1), 10);
    b3 = rotl((e23 ^ d2), 15);
    b4 = rotl((e34 ^ d3), 56);
    a03 = b0 ^ (~b1 & b2);
    a13 = b1 ^ (~b2 & b3);
    a23 = b2 ^ (~b3 & b4);
    a33 = b3 ^ (~b4 & b0);
    a43 = b4 ^ (~b0 & b1);
    b0 = rotl((e20 ^ d2), 62);
    b1 = rotl((e31 ^ d3), 55);
    b2 = rotl((e42 ^ d4), 39);
    b3 = rotl((e03 ^ d0), 41);
    b4 = rotl((e14 ^ d1), 2);
    a04 = b0 ^ (~b1 & b2);
    a14 = b1 ^ (~b2 & b3);
    a24 = b2 ^ (~b3 & b4);
    a34 = b3 ^ (~b4 & b0);
    a44 = b4 ^ (~b0 & b1);
  }

  s[0] = a00;
  s[1] = a10;
  s[2] = a20;
  s[3] = a30;
  s[4] = a40;
  s[5] = a01;
  s[6] = a11;
  s[7] = a21;
  s[8] = a31;
  s[9] = a41;
  s[10] = a02;
  s[11] = a12;
  s[12] = a22;
  s[13] = a32;
  s[14] = a42;
  s[15] = a03;
  s[16] = a13;
  s[17] = a23;
  s[18] = a33;
  s[19] = a43;
  s[20] = a04;
  s[21] = a14;
  s[22] = a24;
  s[23] = a34;
  s[24] = a44;
}

static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

void gdb_keccak_init(gdb_keccak *k, uint8_t pad) {
  memset(k->s, 0, sizeof k->s);
  k->fill = 0;
  k->pad = pad;
}

/* XORs one 136-byte block into the state, a lane at a time, and permutes. */
static void absorb(uint64_t s[25], const uint8_t *p) {
  for (int i = 0; i < GDB_KECCAK256_RATE / 8; i++) s[i] ^= load_le64(p + 8 * i);
  keccak_f1600(s);
}

void gdb_keccak_update(gdb_keccak *k, const void *data, size_t len) {
  const uint8_t *p = data;
  if (k->fill) { /* top up the pending block first */
    size_t n = GDB_KECCAK256_RATE - k->fill < len ? GDB_KECCAK256_RATE - k->fill : len;
    memcpy(k->block + k->fill, p, n);
    k->fill += n;
    p += n;
    len -= n;
    if (k->fill < GDB_KECCAK256_RATE) return;
    absorb(k->s, k->block);
    k->fill = 0;
  }
  for (; len >= GDB_KECCAK256_RATE; len -= GDB_KECCAK256_RATE, p += GDB_KECCAK256_RATE)
    absorb(k->s, p);
  if (len) memcpy(k->block, p, len);
  k->fill = len;
}

void gdb_keccak_final(gdb_keccak *k, uint8_t out[32]) {
  memset(k->block + k->fill, 0, GDB_KECCAK256_RATE - k->fill);
  k->block[k->fill] ^= k->pad;
  k->block[GDB_KECCAK256_RATE - 1] ^= 0x80;
  absorb(k->s, k->block);
  for (int i = 0; i < 32; i++) out[i] = (uint8_t)(k->s[i / 8] >> (8 * (i % 8)));
}

void gdb_keccak256(const void *data, size_t len, uint8_t out[32]) {
  gdb_keccak k;
  gdb_keccak_init(&k, GDB_KECCAK_PAD_KECCAK);
  gdb_keccak_update(&k, data, len);
  gdb_keccak_final(&k, out);
}
