/*
 * seal.c — sealed values: a value only the identity that sealed it can read, stored in the
 * graph like any other value as {"_sealed":1,"owner":ADDRESS,"payload":BASE64}.
 *
 * key     = HKDF-SHA256(IKM = private key, salt = "genosdb-seal", info = "v1 aes-256-gcm"), 32 B
 * payload = base64(nonce (12 random bytes) || AES-256-GCM(canonical JSON of the value) || tag)
 * AAD     = the owner's EIP-55 address, so a payload cannot be passed off under another owner.
 * Opening anything else (a plain value, another owner's seal, a seal that fails its tag) gives
 * the input back unchanged with a state saying which, never an error that tells more.
 */
#include "sm/sm.h"

#include "core/error.h"
#include "core/mp.h"
#include "core/value.h"

#include <msgpack.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdlib.h>

#define SEAL_VERSION 1
#define HKDF_SALT "genosdb-seal"
#define HKDF_INFO "v1 aes-256-gcm"

static int seal_key(const gdb_identity *id, uint8_t out[32]) {
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)id->key, 32),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, HKDF_SALT, sizeof HKDF_SALT - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, HKDF_INFO, sizeof HKDF_INFO - 1),
      OSSL_PARAM_construct_end(),
  };
  int ok = c && EVP_KDF_derive(c, out, 32, params) == 1;
  EVP_KDF_CTX_free(c);
  EVP_KDF_free(kdf);
  return ok ? GDB_OK : gdb_fail(GDB_ECRYPTO, "HKDF-SHA256 failed in OpenSSL");
}

/* Strict standard base64 with padding. Returns the decoded length or -1. */
static long base64_decode(const char *s, size_t len, uint8_t *out) {
  if (len % 4 || len > (size_t)INT32_MAX) return -1;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i >= len - 2);
    if (!ok) return -1;
  }
  if (len == 0) return 0;
  if (s[len - 2] == '=' && s[len - 1] != '=') return -1;
  int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
  if (n < 0) return -1;
  return n - (s[len - 1] == '=') - (s[len - 2] == '=');
}

static int mp_buf_write(void *data, const char *p, size_t len) {
  gdb_buf_put(data, p, len);
  return 0;
}

static void pack_cstr(msgpack_packer *pk, const char *s, size_t n) {
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

int gdb_sm_seal(const gdb_identity *id, const uint8_t *value, size_t len, uint8_t **out,
                size_t *out_len) {
  gdb_buf canon = {0}, json = {0}, res = {0}, b64 = {0};
  uint8_t key[32], *blob = NULL;
  int rc = gdb_value_canonicalize_into(value, len, &canon);
  if (!rc) rc = gdb_value_write_json(&json, canon.data, canon.len);
  if (!rc) rc = seal_key(id, key);
  if (rc) goto done;
  blob = malloc(12 + json.len + 16);
  if (!blob) {
    rc = gdb_fail(GDB_ENOMEM, "out of memory");
    goto done;
  }
  if (RAND_bytes(blob, 12) != 1) {
    rc = gdb_fail(GDB_ECRYPTO, "the system random generator failed (OpenSSL RAND_bytes)");
    goto done;
  }
  rc = gdb_aead_seal(key, blob, id->address, 42, json.data, json.len, blob + 12,
                     blob + 12 + json.len);
  if (rc) goto done;
  size_t blen = 12 + json.len + 16, need = 4 * ((blen + 2) / 3);
  if (!gdb_buf_grow(&b64, need)) {
    rc = gdb_fail(GDB_ENOMEM, "out of memory");
    goto done;
  }
  EVP_EncodeBlock(b64.data, blob, (int)blen);
  b64.len = need;
  /* Keys in canonical order: "_sealed" < "owner" < "payload". */
  msgpack_packer pk;
  msgpack_packer_init(&pk, &res, mp_buf_write);
  msgpack_pack_map(&pk, 3);
  pack_cstr(&pk, "_sealed", 7);
  msgpack_pack_int64(&pk, SEAL_VERSION);
  pack_cstr(&pk, "owner", 5);
  pack_cstr(&pk, id->address, 42);
  pack_cstr(&pk, "payload", 7);
  pack_cstr(&pk, (const char *)b64.data, b64.len);
  if (res.oom) rc = gdb_fail(GDB_ENOMEM, "out of memory");
done:
  OPENSSL_cleanse(key, sizeof key);
  if (json.data) OPENSSL_cleanse(json.data, json.len);
  if (canon.data) OPENSSL_cleanse(canon.data, canon.len);
  gdb_buf_free(&canon);
  gdb_buf_free(&json);
  gdb_buf_free(&b64);
  free(blob);
  if (rc) {
    gdb_buf_free(&res);
    return rc;
  }
  *out = res.data;
  *out_len = res.len;
  return GDB_OK;
}

/* The members of a sealed wrapper, or false if value is not one (wrong shape). */
static bool wrapper_read(const uint8_t *value, size_t len, int64_t *version, mp_item *owner,
                         mp_item *payload) {
  mp_cur c = mp_cursor(value, len), v;
  mp_item it, ver;
  if (!mp_next(&c, &it) || it.kind != MP_MAP || it.v.n != 3) return false;
  c = mp_cursor(value, len);
  if (!mp_map_find(c, "_sealed", 7, &v) || !mp_next(&v, &ver) || ver.kind != MP_INT) return false;
  if (!mp_map_find(c, "owner", 5, &v) || !mp_next(&v, owner) || owner->kind != MP_STR) return false;
  if (!mp_map_find(c, "payload", 7, &v) || !mp_next(&v, payload) || payload->kind != MP_STR)
    return false;
  *version = ver.v.i;
  return true;
}

static int copy_out(const uint8_t *p, size_t len, uint8_t **out, size_t *out_len) {
  uint8_t *c = malloc(len ? len : 1);
  if (!c) return gdb_fail(GDB_ENOMEM, "out of memory");
  if (len) memcpy(c, p, len);
  *out = c;
  *out_len = len;
  return GDB_OK;
}

int gdb_sm_open(const gdb_identity *id, const uint8_t *value, size_t len, uint8_t **out,
                size_t *out_len, gdb_seal_state *state) {
  if (!mp_check(value, len, GDB_VALUE_MAX_DEPTH))
    return gdb_fail(GDB_EINVAL, "value is not one well-formed MessagePack value");
  int64_t version;
  mp_item owner, payload;
  if (!wrapper_read(value, len, &version, &owner, &payload)) {
    *state = GDB_SEAL_PLAIN;
    return copy_out(value, len, out, out_len);
  }
  uint8_t raw[20];
  if (gdb_address_check(owner.v.s.p, owner.v.s.len, raw) || memcmp(raw, id->addr, 20)) {
    *state = GDB_SEAL_FOREIGN;
    return copy_out(value, len, out, out_len);
  }
  /* Ours from here on: any failure means the wrapper cannot be opened, whatever the cause. */
  *state = GDB_SEAL_UNREADABLE;
  uint8_t key[32], *blob = NULL, *plain = NULL;
  int rc = GDB_OK;
  long n = -1;
  if (version == SEAL_VERSION && payload.v.s.len >= 4) {
    blob = malloc(payload.v.s.len / 4 * 3);
    if (!blob) return gdb_fail(GDB_ENOMEM, "out of memory");
    n = base64_decode(payload.v.s.p, payload.v.s.len, blob);
  }
  if (n >= 12 + 16 && !(rc = seal_key(id, key))) {
    size_t clen = (size_t)n - 12 - 16;
    plain = malloc(clen + 1);
    if (!plain) {
      rc = gdb_fail(GDB_ENOMEM, "out of memory");
    } else if (gdb_aead_open(key, blob, id->address, 42, blob + 12, clen, blob + 12 + clen,
                             plain)) {
      /* Sealed by us, so the plaintext is canonical JSON; parse it back all the same. */
      uint8_t *mp;
      size_t mplen;
      int prc = gdb_json_to_value((const char *)plain, clen, &mp, &mplen);
      if (!prc) {
        *state = GDB_SEAL_OPENED;
        *out = mp;
        *out_len = mplen;
      }
      OPENSSL_cleanse(plain, clen);
    }
  }
  OPENSSL_cleanse(key, sizeof key);
  free(blob);
  free(plain);
  if (rc) return rc;
  if (*state == GDB_SEAL_OPENED) return GDB_OK;
  gdb_clear_error();
  return copy_out(value, len, out, out_len);
}

int gdb_sm_seal_json(const gdb_identity *id, const char *json, size_t len, char **out,
                     size_t *out_len) {
  uint8_t *mp = NULL, *sealed = NULL;
  size_t mplen, slen;
  int rc = gdb_json_to_value(json, len, &mp, &mplen);
  if (!rc) rc = gdb_sm_seal(id, mp, mplen, &sealed, &slen);
  if (!rc) rc = gdb_value_to_json(sealed, slen, out, out_len);
  if (mp) OPENSSL_cleanse(mp, mplen);
  free(mp);
  free(sealed);
  return rc;
}

int gdb_sm_open_json(const gdb_identity *id, const char *json, size_t len, char **out,
                     size_t *out_len, gdb_seal_state *state) {
  uint8_t *mp = NULL, *opened = NULL;
  size_t mplen, olen = 0;
  int rc = gdb_json_to_value(json, len, &mp, &mplen);
  if (!rc) rc = gdb_sm_open(id, mp, mplen, &opened, &olen, state);
  if (!rc) rc = gdb_value_to_json(opened, olen, out, out_len);
  if (opened) OPENSSL_cleanse(opened, olen);
  free(mp);
  free(opened);
  return rc;
}
