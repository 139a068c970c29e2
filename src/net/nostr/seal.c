/*
 * seal.c — sealing of signaling payloads: AES-256-GCM (OpenSSL EVP) under the key
 * SHA-256("<secret>:<appId>:<roomId>"), a fresh 12-byte IV per message, the 16-byte tag
 * appended; written "gs1:" + base64(iv || ciphertext || tag). Only holders of the room
 * password derive the key, so relays and outsiders see random bytes of the right length.
 */
#include "core/error.h"
#include "genosdb.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_PREFIX "gs1:"
#define IV_LEN 12
#define TAG_LEN 16
#define SEAL_MAX (1u << 20) /* signaling payloads are small: refuse anything larger */

static int derive(const char *secret, const char *app, const char *room, uint8_t key[32]) {
  if (!secret || !app || !room)
    return gdb_fail(GDB_EINVAL, "seal: secret, app and room are needed");
  size_t n = strlen(secret) + strlen(app) + strlen(room) + 3;
  char *s = malloc(n);
  if (!s) return gdb_fail(GDB_ENOMEM, "seal: out of memory");
  snprintf(s, n, "%s:%s:%s", secret, app, room);
  SHA256((const uint8_t *)s, strlen(s), key);
  OPENSSL_cleanse(s, n);
  free(s);
  return GDB_OK;
}

int gdb_signal_seal(const char *secret, const char *app, const char *room, const char *plain,
                    size_t len, char **out) {
  *out = NULL;
  if (len > SEAL_MAX) return gdb_fail(GDB_ETOOBIG, "seal: %zu bytes is over %u", len, SEAL_MAX);
  uint8_t key[32];
  int rc = derive(secret, app, room, key);
  if (rc) return rc;
  size_t raw_len = IV_LEN + len + TAG_LEN;
  uint8_t *raw = malloc(raw_len);
  char *txt = malloc(sizeof SEAL_PREFIX + 4 * ((raw_len + 2) / 3) + 1);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0, fin = 0;
  if (!raw || !txt || !c) {
    rc = gdb_fail(GDB_ENOMEM, "seal: out of memory");
    goto done;
  }
  if (RAND_bytes(raw, IV_LEN) != 1 ||
      EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
      EVP_EncryptInit_ex(c, NULL, NULL, key, raw) != 1 ||
      EVP_EncryptUpdate(c, raw + IV_LEN, &n, (const uint8_t *)plain, (int)len) != 1 ||
      EVP_EncryptFinal_ex(c, raw + IV_LEN + n, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + IV_LEN + len) != 1) {
    rc = gdb_fail(GDB_ECRYPTO, "seal: AES-256-GCM encryption failed");
    goto done;
  }
  memcpy(txt, SEAL_PREFIX, strlen(SEAL_PREFIX));
  EVP_EncodeBlock((uint8_t *)txt + strlen(SEAL_PREFIX), raw, (int)raw_len);
  *out = txt;
  txt = NULL;
done:
  OPENSSL_cleanse(key, sizeof key);
  EVP_CIPHER_CTX_free(c);
  free(raw);
  free(txt);
  return rc;
}

int gdb_signal_unseal(const char *secret, const char *app, const char *room, const char *sealed,
                      char **out, size_t *out_len) {
  *out = NULL;
  size_t plen = strlen(SEAL_PREFIX), slen = strlen(sealed);
  if (slen < plen || memcmp(sealed, SEAL_PREFIX, plen))
    return gdb_fail(GDB_ECRYPTO, "unseal: not a sealed payload (no \"%s\" prefix)", SEAL_PREFIX);
  const char *b64 = sealed + plen;
  size_t blen = slen - plen;
  if (blen % 4 || blen / 4 * 3 > SEAL_MAX + IV_LEN + TAG_LEN + 3)
    return gdb_fail(GDB_ECRYPTO, "unseal: malformed base64");
  uint8_t key[32];
  int rc = derive(secret, app, room, key);
  if (rc) return rc;
  uint8_t *raw = malloc(blen / 4 * 3 + 1);
  char *plain = NULL;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (!raw || !c) {
    rc = gdb_fail(GDB_ENOMEM, "unseal: out of memory");
    goto done;
  }
  int raw_len = EVP_DecodeBlock(raw, (const uint8_t *)b64, (int)blen);
  if (raw_len < 0) {
    rc = gdb_fail(GDB_ECRYPTO, "unseal: malformed base64");
    goto done;
  }
  if (blen >= 1 && b64[blen - 1] == '=') raw_len--; /* EVP_DecodeBlock counts padding */
  if (blen >= 2 && b64[blen - 2] == '=') raw_len--;
  if (raw_len < IV_LEN + TAG_LEN) {
    rc = gdb_fail(GDB_ECRYPTO, "unseal: too short to be sealed");
    goto done;
  }
  size_t len = (size_t)raw_len - IV_LEN - TAG_LEN;
  plain = malloc(len + 1);
  int n = 0, fin = 0;
  if (!plain) {
    rc = gdb_fail(GDB_ENOMEM, "unseal: out of memory");
    goto done;
  }
  if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
      EVP_DecryptInit_ex(c, NULL, NULL, key, raw) != 1 ||
      EVP_DecryptUpdate(c, (uint8_t *)plain, &n, raw + IV_LEN, (int)len) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + IV_LEN + len) != 1 ||
      EVP_DecryptFinal_ex(c, (uint8_t *)plain + n, &fin) != 1) {
    rc = gdb_fail(GDB_ECRYPTO, "unseal: authentication failed (wrong password, app or room)");
    goto done;
  }
  plain[len] = 0;
  *out = plain;
  plain = NULL;
  if (out_len) *out_len = len;
done:
  OPENSSL_cleanse(key, sizeof key);
  EVP_CIPHER_CTX_free(c);
  free(raw);
  free(plain);
  return rc;
}
