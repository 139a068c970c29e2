/*
 * aead.c — AES-256-GCM through OpenSSL's EVP interface, the one cipher of this layer: identity
 * files and sealed values both use it with a fresh random 12-byte nonce per encryption.
 */
#include "sm/sm.h"

#include "core/error.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

int gdb_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_len,
                  const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16]) {
  if (len > INT_MAX || aad_len > INT_MAX)
    return gdb_fail(GDB_ETOOBIG, "cannot encrypt more than 2 GiB at once");
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  uint8_t fin[16]; /* GCM's final step writes no bytes */
  int n = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) &&
                  (!aad_len || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len)) &&
                  (!len || EVP_EncryptUpdate(c, ct, &n, pt, (int)len)) &&
                  EVP_EncryptFinal_ex(c, fin, &n) &&
                  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
  EVP_CIPHER_CTX_free(c);
  return ok ? GDB_OK : gdb_fail(GDB_ECRYPTO, "AES-256-GCM encryption failed in OpenSSL");
}

bool gdb_aead_open(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_len,
                   const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt) {
  if (len > INT_MAX || aad_len > INT_MAX) return false;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  uint8_t t[16], fin[16];
  memcpy(t, tag, 16);
  int n = 0, ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) &&
                  (!aad_len || EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len)) &&
                  (!len || EVP_DecryptUpdate(c, pt, &n, ct, (int)len)) &&
                  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, t) &&
                  EVP_DecryptFinal_ex(c, fin, &n) > 0;
  EVP_CIPHER_CTX_free(c);
  if (!ok && len) OPENSSL_cleanse(pt, len);
  return ok;
}
