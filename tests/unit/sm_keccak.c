/* sm_keccak.c — Keccak-256 against published digests and, through its SHA3-256 mode, against
 * OpenSSL's SHA3-256 for every length across several sponge blocks. */
#include "test.h"

#include "core/buf.h"
#include "genosdb.h"
#include "sm/keccak.h"

#include <openssl/evp.h>
#include <stdlib.h>

static void hex_of(const uint8_t d[32], char out[65]) { gdb_hex(d, 32, out); }

static const char *keccak_hex(const void *p, size_t n) {
  static char out[65];
  uint8_t d[32];
  gdb_keccak256(p, n, d);
  hex_of(d, out);
  return out;
}

TEST(keccak_spec_vectors) {
  /* spec/SIGNING.md */
  CHECK_STR(keccak_hex("", 0), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  CHECK_STR(keccak_hex("abc", 3),
            "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  char a200[200];
  memset(a200, 'a', sizeof a200);
  CHECK_STR(keccak_hex(a200, 200),
            "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d");
}

TEST(keccak_published_vectors) {
  /* The Keccak-256 digests Ethereum tooling documents. */
  const char *fox = "The quick brown fox jumps over the lazy dog";
  CHECK_STR(keccak_hex(fox, strlen(fox)),
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
  CHECK_STR(keccak_hex("hello", 5),
            "1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8");
  /* The ERC-20 transfer selector is the first 4 bytes of this digest: a9059cbb. */
  const char *sel = "transfer(address,uint256)";
  CHECK_STR(keccak_hex(sel, strlen(sel)),
            "a9059cbb2ab09eb219583f4a59a5d0623ade346d962bcd4e46b11da047c9049b");
}

TEST(keccak_sha3_mode_matches_openssl_every_length) {
  /* Keccak-256 and SHA3-256 differ only in the padding byte, so checking the SHA3 mode against
   * OpenSSL for lengths 0..600 (four blocks, every position of the padding) checks the
   * permutation and the sponge; the Keccak padding is checked by the vectors above. */
  uint8_t data[600];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 131 + 7);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  CHECK(ctx);
  for (size_t len = 0; len <= sizeof data; len++) {
    uint8_t want[32], got[32];
    unsigned int n = 32;
    CHECK(EVP_DigestInit_ex(ctx, EVP_sha3_256(), NULL) && EVP_DigestUpdate(ctx, data, len) &&
          EVP_DigestFinal_ex(ctx, want, &n));
    gdb_keccak k;
    gdb_keccak_init(&k, GDB_KECCAK_PAD_SHA3);
    gdb_keccak_update(&k, data, len);
    gdb_keccak_final(&k, got);
    CHECK_MSG(!memcmp(want, got, 32), "SHA3-256 differs from OpenSSL at length %zu", len);
  }
  EVP_MD_CTX_free(ctx);
}

TEST(keccak_incremental_equals_one_shot) {
  uint8_t data[500];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i ^ 0x5a);
  uint8_t whole[32];
  gdb_keccak256(data, sizeof data, whole);
  /* Every split point, in pieces of 1, 7 and 136 bytes after it. */
  size_t steps[] = {1, 7, 136};
  for (size_t s = 0; s < 3; s++)
    for (size_t split = 0; split <= sizeof data; split += 17) {
      gdb_keccak k;
      gdb_keccak_init(&k, GDB_KECCAK_PAD_KECCAK);
      gdb_keccak_update(&k, data, split);
      for (size_t at = split; at < sizeof data; at += steps[s]) {
        size_t n = sizeof data - at < steps[s] ? sizeof data - at : steps[s];
        gdb_keccak_update(&k, data + at, n);
      }
      uint8_t got[32];
      gdb_keccak_final(&k, got);
      CHECK_MSG(!memcmp(got, whole, 32), "split %zu step %zu", split, steps[s]);
    }
}
