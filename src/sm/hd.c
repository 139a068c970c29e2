/*
 * hd.c — BIP-32 hierarchical deterministic keys, private derivation only: the master key of a
 * BIP-39 seed and its descendants along a path such as m/44'/60'/0'/0/0 (Ethereum's first
 * account). HMAC-SHA512 comes from OpenSSL, the scalar addition from libsecp256k1.
 */
#include "sm/sm.h"

#include "core/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define HARDENED 0x80000000u

typedef struct hd_node {
  uint8_t key[32];
  uint8_t chain[32];
} hd_node;

static int hmac512(const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen,
                   uint8_t out[64]) {
  unsigned int n = 64;
  if (!HMAC(EVP_sha512(), key, (int)klen, data, dlen, out, &n) || n != 64)
    return gdb_fail(GDB_ECRYPTO, "HMAC-SHA512 failed in OpenSSL");
  return GDB_OK;
}

/* CKDpriv: the child of parent at index i. */
static int hd_child(const hd_node *parent, uint32_t i, hd_node *child) {
  uint8_t data[37], I[64];
  const secp256k1_context *ctx = gdb_sm_ctx();
  if (i & HARDENED) {
    data[0] = 0;
    memcpy(data + 1, parent->key, 32);
  } else {
    secp256k1_pubkey pub;
    size_t n = 33;
    if (!secp256k1_ec_pubkey_create(ctx, &pub, parent->key))
      return gdb_fail(GDB_ECRYPTO, "BIP-32: invalid parent key");
    secp256k1_ec_pubkey_serialize(ctx, data, &n, &pub, SECP256K1_EC_COMPRESSED);
  }
  data[33] = (uint8_t)(i >> 24);
  data[34] = (uint8_t)(i >> 16);
  data[35] = (uint8_t)(i >> 8);
  data[36] = (uint8_t)i;
  int rc = hmac512(parent->chain, 32, data, sizeof data, I);
  if (!rc) {
    memcpy(child->key, parent->key, 32);
    memcpy(child->chain, I + 32, 32);
    /* child = parse256(IL) + k mod n; fails when IL >= n or the sum is 0 (chance ~2^-127). */
    if (!secp256k1_ec_seckey_tweak_add(ctx, child->key, I))
      rc = gdb_fail(GDB_ECRYPTO,
                    "BIP-32: index %u%s derives an invalid key (a 2^-127 event); "
                    "use the next index",
                    i & ~HARDENED, i & HARDENED ? "'" : "");
  }
  OPENSSL_cleanse(data, sizeof data);
  OPENSSL_cleanse(I, sizeof I);
  return rc;
}

/* Parses "m/44'/60'/0'/0/0" into indices. Returns the count or a negative error. */
static int path_parse(const char *path, uint32_t *idx, int max) {
  if (path[0] != 'm' || (path[1] && path[1] != '/') || (path[1] == '/' && !path[2]))
    return gdb_fail(GDB_EINVAL, "derivation path \"%s\" must start with \"m/\" (e.g. %s)", path,
                    GDB_HD_PATH_DEFAULT);
  int n = 0;
  const char *p = path + 1;
  while (*p == '/') {
    p++;
    if (*p < '0' || *p > '9')
      return gdb_fail(GDB_EINVAL, "derivation path \"%s\": expected a number after '/'", path);
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
      v = v * 10 + (uint64_t)(*p++ - '0');
      if (v >= HARDENED)
        return gdb_fail(GDB_EINVAL, "derivation path \"%s\": index over 2^31 - 1", path);
    }
    if (*p == '\'' || *p == 'h' || *p == 'H') {
      v |= HARDENED;
      p++;
    }
    if (n == max)
      return gdb_fail(GDB_EINVAL, "derivation path \"%s\" is deeper than %d", path, max);
    idx[n++] = (uint32_t)v;
  }
  if (*p) return gdb_fail(GDB_EINVAL, "derivation path \"%s\": unexpected \"%s\"", path, p);
  return n;
}

int gdb_hd_derive(const uint8_t *seed, size_t seed_len, const char *path, uint8_t key[32]) {
  uint32_t idx[32];
  int n = path_parse(path ? path : GDB_HD_PATH_DEFAULT, idx, 32);
  if (n < 0) return n;
  hd_node node, next;
  uint8_t I[64];
  static const uint8_t MASTER[] = "Bitcoin seed";
  int rc = hmac512(MASTER, sizeof MASTER - 1, seed, seed_len, I);
  if (rc) goto done;
  memcpy(node.key, I, 32);
  memcpy(node.chain, I + 32, 32);
  if (!secp256k1_ec_seckey_verify(gdb_sm_ctx(), node.key)) {
    rc = gdb_fail(GDB_ECRYPTO, "BIP-32: this seed gives an invalid master key (a 2^-127 event)");
    goto done;
  }
  for (int i = 0; i < n && !rc; i++) {
    rc = hd_child(&node, idx[i], &next);
    node = next;
  }
  if (!rc) memcpy(key, node.key, 32);
done:
  OPENSSL_cleanse(&node, sizeof node);
  OPENSSL_cleanse(&next, sizeof next);
  OPENSSL_cleanse(I, sizeof I);
  return rc;
}
