/*
 * identity.c — identities: a secp256k1 private key and the address it signs as, made from the
 * CSPRNG, an imported key, or a recovery phrase (BIP-39 seed, BIP-32 path). Also owns the one
 * secp256k1 context of the process.
 */
#include "sm/sm.h"

#include "core/error.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

static secp256k1_context *ctx;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_create(void) {
  ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  /* Blinding for side-channel resistance of signing; signatures are the same without it. */
  uint8_t seed[32];
  if (ctx && RAND_bytes(seed, sizeof seed) == 1 && !secp256k1_context_randomize(ctx, seed)) abort();
  OPENSSL_cleanse(seed, sizeof seed);
}

const secp256k1_context *gdb_sm_ctx(void) {
  pthread_once(&ctx_once, ctx_create);
  if (!ctx) abort(); /* allocation failure at first use: nothing in this layer can work */
  return ctx;
}

/* An identity lives on its own page, locked in RAM (never written to swap) and left out of
 * core dumps. Both are best effort: a process over RLIMIT_MEMLOCK still gets its identity. */
static gdb_identity *id_alloc(void) {
  void *p = mmap(NULL, sizeof(gdb_identity), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  (void)mlock(p, sizeof(gdb_identity));
  (void)madvise(p, sizeof(gdb_identity), MADV_DONTDUMP);
  return p;
}

static void id_release(gdb_identity *id) {
  OPENSSL_cleanse(id, sizeof *id);
  (void)munlock(id, sizeof *id);
  munmap(id, sizeof *id);
}

int gdb_id_from_key_bytes(const uint8_t key[32], gdb_identity **out) {
  const secp256k1_context *c = gdb_sm_ctx();
  if (!secp256k1_ec_seckey_verify(c, key))
    return gdb_fail(GDB_EINVAL, "private key is zero or not below the secp256k1 group order");
  gdb_identity *id = id_alloc();
  if (!id) return gdb_fail(GDB_ENOMEM, "out of memory");
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_create(c, &pub, key)) {
    id_release(id);
    return gdb_fail(GDB_EINVAL, "private key is not valid");
  }
  memcpy(id->key, key, 32);
  gdb_pubkey_address(&pub, id->addr);
  gdb_address_format(id->addr, id->address);
  *out = id;
  return GDB_OK;
}

int gdb_id_generate(gdb_identity **out) {
  uint8_t key[32];
  int rc;
  do {
    if (RAND_priv_bytes(key, sizeof key) != 1)
      return gdb_fail(GDB_ECRYPTO, "the system random generator failed (OpenSSL RAND_priv_bytes)");
  } while (!secp256k1_ec_seckey_verify(gdb_sm_ctx(), key)); /* retried with chance 2^-128 */
  rc = gdb_id_from_key_bytes(key, out);
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

int gdb_id_from_private_key(const char *hex, gdb_identity **out) {
  if (!hex) return gdb_fail(GDB_EINVAL, "private key is missing");
  /* Messages never quote the key: it is a secret, and error text ends up in logs. */
  const char *p = hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X') ? hex + 2 : hex;
  size_t len = strlen(p);
  if (len != 64)
    return gdb_fail(GDB_EINVAL, "private key must be 0x followed by 64 hex digits (got %zu digits)",
                    len);
  uint8_t key[32];
  if (!gdb_unhex(p, 64, key, 32)) {
    size_t bad = strspn(p, "0123456789abcdefABCDEF");
    return gdb_fail(GDB_EINVAL,
                    "private key has a character that is not a hex digit (position %zu)",
                    (size_t)(p - hex) + bad + 1);
  }
  int rc = gdb_id_from_key_bytes(key, out);
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

int gdb_id_from_mnemonic(const char *mnemonic, const char *passphrase, const char *path,
                         gdb_identity **out) {
  uint8_t seed[64], key[32];
  int rc = gdb_mnemonic_seed(mnemonic, passphrase, seed);
  if (!rc) rc = gdb_hd_derive(seed, sizeof seed, path, key);
  if (!rc) rc = gdb_id_from_key_bytes(key, out);
  OPENSSL_cleanse(seed, sizeof seed);
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

int gdb_id_from_secret(const char *s, gdb_identity **out) {
  if (!s) return gdb_fail(GDB_EINVAL, "key or recovery phrase is missing");
  if (strpbrk(s, " \t\r\n")) return gdb_id_from_mnemonic(s, NULL, NULL, out);
  int rc = gdb_id_from_private_key(s, out);
  if (rc == GDB_EINVAL)
    gdb_fail_prefix(rc, "not a recovery phrase (those have 12 or 24 words), so read as a key");
  return rc;
}

const char *gdb_id_address(const gdb_identity *id) { return id->address; }

void gdb_id_private_key(const gdb_identity *id, char out[GDB_PRIVKEY_BUFSZ]) {
  out[0] = '0';
  out[1] = 'x';
  gdb_hex(id->key, 32, out + 2);
}

void gdb_id_free(gdb_identity *id) {
  if (id) id_release(id);
}
