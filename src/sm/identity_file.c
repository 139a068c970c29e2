/*
 * identity_file.c — identity files (docs/identity.md, format version 1): the private key
 * encrypted with AES-256-GCM under a key scrypt derives from a passphrase, in a small JSON
 * document that shows the address without the passphrase.
 *
 * Each failure has its own error: a file cut short (truncated), a file whose bytes changed
 * (its unkeyed checksum no longer matches), a wrong passphrase (checksum fine, GCM tag not),
 * a newer format. Files are written to a temporary name with mode 0600 and linked into place,
 * so a crash leaves either no file or a whole one, and an existing file is never replaced.
 */
#include "sm/sm.h"

#include "core/error.h"
#include "core/value.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT "genosdb-identity"
#define VERSION 1
#define MAX_FILE (64 * 1024)
/* scrypt memory (128 * r * N bytes) a file may ask for: 1 GiB. */
#define MAX_KDF_MEM (1ull << 30)

static int kdf_check(const gdb_id_kdf *k) {
  if (k->log2_n < 10 || k->log2_n > 30 || k->r < 1 || k->r > 64 || k->p < 1 || k->p > 16 ||
      128ull * k->r * (1ull << k->log2_n) > MAX_KDF_MEM)
    return gdb_fail(GDB_EINVAL,
                    "scrypt parameters log2(N)=%u r=%u p=%u out of range (log2(N) "
                    "10..30, r 1..64, p 1..16, at most 1 GiB of memory)",
                    k->log2_n, k->r, k->p);
  return GDB_OK;
}

static int scrypt(const char *pass, const uint8_t salt[32], const gdb_id_kdf *k, uint8_t out[32]) {
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
  EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  uint64_t n = 1ull << k->log2_n, maxmem = MAX_KDF_MEM + (1u << 20) * 16;
  uint32_t r = k->r, p = k->p;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, strlen(pass)),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, 32),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  int ok = c && EVP_KDF_derive(c, out, 32, params) == 1;
  EVP_KDF_CTX_free(c);
  EVP_KDF_free(kdf);
  return ok ? GDB_OK : gdb_fail(GDB_ECRYPTO, "scrypt failed in OpenSSL (out of memory?)");
}

/* Canonical JSON of a tree. */
static int canon(json_t *j, gdb_buf *out) {
  gdb_buf mp = {0};
  int rc = gdb_value_from_jansson(j, &mp);
  if (!rc) rc = gdb_value_write_json(out, mp.data, mp.len);
  gdb_buf_free(&mp);
  return rc;
}

/* The bytes GCM authenticates besides the key: everything that describes it. */
static int file_aad(json_t *doc, gdb_buf *out) {
  json_t *a =
      json_pack("{s:O,s:O,s:O,s:O,s:O}", "address", json_object_get(doc, "address"), "cipher",
                json_object_get(doc, "cipher"), "format", json_object_get(doc, "format"), "kdf",
                json_object_get(doc, "kdf"), "version", json_object_get(doc, "version"));
  if (!a) return gdb_fail(GDB_ECORRUPT, "identity file lacks a required field");
  int rc = canon(a, out);
  json_decref(a);
  return rc;
}

/* SHA-256 hex of the canonical JSON of doc without "checksum". */
static int file_checksum(json_t *doc, char hex[65]) {
  json_t *c = json_copy(doc);
  if (!c) return gdb_fail(GDB_ENOMEM, "out of memory");
  json_object_del(c, "checksum");
  gdb_buf b = {0};
  int rc = canon(c, &b);
  if (!rc) {
    uint8_t h[32];
    gdb_sha256(b.data, b.len, h);
    gdb_hex(h, 32, hex);
  }
  gdb_buf_free(&b);
  json_decref(c);
  return rc;
}

static json_t *hex_json(const uint8_t *p, size_t n) {
  char s[129];
  gdb_hex(p, n, s);
  return json_string(s);
}

static int write_new_file(const char *path, const char *data, size_t len) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) return gdb_fail(GDB_ENOMEM, "out of memory");
  snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
  int rc = GDB_OK, fd = mkstemp(tmp); /* created with mode 0600 */
  if (fd < 0) {
    rc = gdb_fail(GDB_EIO, "cannot create a file next to %s: %s", path, strerror(errno));
    free(tmp);
    return rc;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  if (off < len || fchmod(fd, 0600) || fsync(fd))
    rc = gdb_fail(GDB_EIO, "cannot write %s: %s", tmp, strerror(errno));
  if (close(fd) && !rc) rc = gdb_fail(GDB_EIO, "cannot write %s: %s", tmp, strerror(errno));
  if (!rc && link(tmp, path)) {
    rc = errno == EEXIST ? gdb_fail(GDB_EINVAL,
                                    "%s already exists; an identity file is never "
                                    "replaced (remove it first or choose another path)",
                                    path)
                         : gdb_fail(GDB_EIO, "cannot create %s: %s", path, strerror(errno));
  }
  unlink(tmp);
  free(tmp);
  return rc;
}

int gdb_id_save(const gdb_identity *id, const char *path, const char *passphrase,
                const gdb_id_kdf *kdf) {
  gdb_id_kdf k = kdf ? *kdf : GDB_ID_KDF_DEFAULT;
  int rc = kdf_check(&k);
  if (rc) return rc;
  if (!passphrase || !*passphrase)
    return gdb_fail(GDB_EINVAL, "an identity file needs a non-empty passphrase");
  uint8_t salt[32], nonce[12], key[32], ct[32], tag[16];
  if (RAND_bytes(salt, sizeof salt) != 1 || RAND_bytes(nonce, sizeof nonce) != 1)
    return gdb_fail(GDB_ECRYPTO, "the system random generator failed (OpenSSL RAND_bytes)");
  json_t *doc =
      json_pack("{s:s,s:i,s:s,s:{s:s,s:i,s:i,s:i,s:o},s:{s:s,s:o}}", "format", FORMAT, "version",
                VERSION, "address", id->address, "kdf", "name", "scrypt", "log2n", (int)k.log2_n,
                "r", (int)k.r, "p", (int)k.p, "salt", hex_json(salt, 32), "cipher", "name",
                "aes-256-gcm", "nonce", hex_json(nonce, 12));
  gdb_buf aad = {0}, text = {0};
  char sum[65];
  if (!doc) return gdb_fail(GDB_ENOMEM, "out of memory");
  rc = scrypt(passphrase, salt, &k, key);
  if (!rc) rc = file_aad(doc, &aad);
  if (!rc) rc = gdb_aead_seal(key, nonce, aad.data, aad.len, id->key, 32, ct, tag);
  if (!rc) {
    json_object_set_new(doc, "ciphertext", hex_json(ct, 32));
    json_object_set_new(doc, "tag", hex_json(tag, 16));
    rc = file_checksum(doc, sum);
  }
  if (!rc) {
    json_object_set_new(doc, "checksum", json_string(sum));
    rc = canon(doc, &text);
    gdb_buf_putc(&text, '\n');
  }
  if (!rc && text.oom) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  if (!rc) rc = write_new_file(path, (const char *)text.data, text.len);
  OPENSSL_cleanse(key, sizeof key);
  json_decref(doc);
  gdb_buf_free(&aad);
  gdb_buf_free(&text);
  return rc;
}

/* Reads at most MAX_FILE + 1 bytes of path. */
static int read_file(const char *path, char **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return gdb_fail(errno == ENOENT ? GDB_ENOTFOUND : GDB_EIO, "cannot open identity file %s: %s",
                    path, strerror(errno));
  char *buf = malloc(MAX_FILE + 2);
  size_t n = 0;
  ssize_t r = 0;
  while (buf && n <= MAX_FILE && (r = read(fd, buf + n, MAX_FILE + 1 - n)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    n += (size_t)r;
  }
  int err = errno;
  close(fd);
  if (!buf) return gdb_fail(GDB_ENOMEM, "out of memory");
  if (r < 0) {
    free(buf);
    return gdb_fail(GDB_EIO, "cannot read identity file %s: %s", path, strerror(err));
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return GDB_OK;
}

/* The hex string member key of obj, exactly n bytes long, or false. */
static bool get_hex(json_t *obj, const char *key, uint8_t *out, size_t n) {
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) && gdb_unhex(json_string_value(v), json_string_length(v), out, n);
}

static bool get_uint(json_t *obj, const char *key, uint32_t max, uint32_t *out) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) return false;
  *out = (uint32_t)json_integer_value(v);
  return true;
}

int gdb_id_load(const char *path, const char *passphrase, gdb_identity **out) {
  char *text = NULL;
  size_t len = 0;
  int rc = read_file(path, &text, &len);
  if (rc) return rc;
  json_t *doc = NULL;
  gdb_buf aad = {0};
  uint8_t key[32], secret[32];
  if (len > MAX_FILE) {
    rc = gdb_fail(GDB_EINVAL, "%s is not an identity file (over %d bytes)", path, MAX_FILE);
    goto done;
  }
  json_error_t err;
  doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  if (!doc) {
    rc = len == 0 || json_error_code(&err) == json_error_premature_end_of_input
             ? gdb_fail(GDB_ECORRUPT,
                        "identity file %s is truncated (it ends after %zu bytes); "
                        "restore it from a backup or from the recovery phrase",
                        path, len)
             : gdb_fail(GDB_ECORRUPT,
                        "identity file %s is damaged: not valid JSON at byte %d "
                        "(%s); restore it from a backup",
                        path, err.position, err.text);
    goto done;
  }
  json_t *format = json_object_get(doc, "format");
  if (!json_is_object(doc) || !json_is_string(format) ||
      strcmp(json_string_value(format), FORMAT)) {
    rc = gdb_fail(GDB_EINVAL, "%s is not a genosdb identity file", path);
    goto done;
  }
  json_t *version = json_object_get(doc, "version");
  if (!json_is_integer(version) || json_integer_value(version) != VERSION) {
    rc = json_is_integer(version) && json_integer_value(version) > VERSION
             ? gdb_fail(GDB_EVERSION,
                        "identity file %s has format version %lld; this build reads "
                        "version %d (upgrade genosdb)",
                        path, (long long)json_integer_value(version), VERSION)
             : gdb_fail(GDB_ECORRUPT, "identity file %s has no valid version: it was modified",
                        path);
    goto done;
  }
  char sum[65];
  json_t *stored = json_object_get(doc, "checksum");
  rc = file_checksum(doc, sum);
  if (rc) {
    rc = gdb_fail(GDB_ECORRUPT, "identity file %s was modified (%s)", path, gdb_errmsg());
    goto done;
  }
  if (!json_is_string(stored) || strcmp(json_string_value(stored), sum)) {
    rc = gdb_fail(GDB_ECORRUPT,
                  "identity file %s was modified since it was written (its checksum "
                  "does not match); restore it from a backup",
                  path);
    goto done;
  }
  /* The checksum holds, so these fields are as written; still, check them before use. */
  json_t *kdf = json_object_get(doc, "kdf"), *cipher = json_object_get(doc, "cipher");
  json_t *addr = json_object_get(doc, "address");
  uint8_t salt[32], nonce[12], ct[32], tag[16], claimed[20];
  uint32_t log2n = 0;
  gdb_id_kdf k = {0};
  if (!json_is_string(json_object_get(kdf, "name")) ||
      strcmp(json_string_value(json_object_get(kdf, "name")), "scrypt") ||
      !json_is_string(json_object_get(cipher, "name")) ||
      strcmp(json_string_value(json_object_get(cipher, "name")), "aes-256-gcm") ||
      !get_uint(kdf, "log2n", 255, &log2n) || !get_uint(kdf, "r", 1024, &k.r) ||
      !get_uint(kdf, "p", 1024, &k.p) || !get_hex(kdf, "salt", salt, 32) ||
      !get_hex(cipher, "nonce", nonce, 12) || !get_hex(doc, "ciphertext", ct, 32) ||
      !get_hex(doc, "tag", tag, 16) || !json_is_string(addr) ||
      gdb_address_parse(json_string_value(addr), json_string_length(addr), claimed)) {
    rc = gdb_fail(GDB_ECORRUPT, "identity file %s has a missing or malformed field", path);
    goto done;
  }
  k.log2_n = (uint8_t)log2n;
  if ((rc = kdf_check(&k))) {
    rc = gdb_fail_prefix(GDB_ECORRUPT, path);
    goto done;
  }
  if (!passphrase) passphrase = "";
  if ((rc = scrypt(passphrase, salt, &k, key)) || (rc = file_aad(doc, &aad))) goto done;
  if (aad.oom) {
    rc = gdb_fail(GDB_ENOMEM, "out of memory");
    goto done;
  }
  if (!gdb_aead_open(key, nonce, aad.data, aad.len, ct, 32, tag, secret)) {
    rc = gdb_fail(GDB_ECRYPTO, "wrong passphrase for identity file %s", path);
    goto done;
  }
  rc = gdb_id_from_key_bytes(secret, out);
  if (!rc && memcmp((*out)->addr, claimed, 20)) {
    gdb_id_free(*out);
    *out = NULL;
    rc = gdb_fail(GDB_ECORRUPT,
                  "identity file %s holds a key whose address is not the one it "
                  "names",
                  path);
  }
done:
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(secret, sizeof secret);
  json_decref(doc);
  gdb_buf_free(&aad);
  free(text);
  return rc;
}
