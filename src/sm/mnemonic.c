/*
 * mnemonic.c — BIP-39 recovery phrases (English): generation from the CSPRNG, validation with
 * a message that names the wrong word, and the PBKDF2 seed that hd.c turns into keys.
 *
 * A phrase of n words carries 11n bits: 32n/3 bits of entropy followed by the first n/3 bits of
 * SHA-256 of that entropy, so a mistyped or swapped word is caught with probability
 * 1 - 2^(-n/3) before any key is derived from it.
 */
#include "sm/sm.h"

#include "core/error.h"
#include "core/value.h"

#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>

#define MAX_WORDS 24

int gdb_bip39_index(const char *word, size_t len) {
  int lo = 0, hi = 2047;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    const char *w = gdb_bip39_words[mid];
    size_t wl = strlen(w);
    int c = memcmp(w, word, wl < len ? wl : len);
    if (c == 0) c = wl < len ? -1 : wl > len;
    if (c == 0) return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

/* A word of the list that starts with the first four letters of word (BIP-39 English words
 * are unique in their first four letters), for "did you mean". */
static const char *suggest(const char *word, size_t len) {
  if (len < 4) return NULL;
  for (int i = 0; i < 2048; i++)
    if (!strncmp(gdb_bip39_words[i], word, 4)) return gdb_bip39_words[i];
  return NULL;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Splits a phrase into word indices and writes its normalized form (lower case, single
 * spaces) into norm (when not NULL). Returns the word count or a negative error. */
static int phrase_parse(const char *m, int idx[MAX_WORDS], gdb_buf *norm) {
  int n = 0;
  const char *p = m;
  for (;;) {
    while (is_space(*p)) p++;
    if (!*p) break;
    const char *start = p;
    while (*p && !is_space(*p)) p++;
    size_t len = (size_t)(p - start);
    if (n == MAX_WORDS)
      return gdb_fail(GDB_EINVAL,
                      "recovery phrase has more than %d words; BIP-39 phrases have "
                      "12, 15, 18, 21 or 24",
                      MAX_WORDS);
    char word[16];
    bool ok = len < sizeof word;
    for (size_t i = 0; ok && i < len; i++) {
      char c = start[i];
      if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
      if (c < 'a' || c > 'z') ok = false;
      word[i] = c;
    }
    int k = ok ? gdb_bip39_index(word, len) : -1;
    if (k < 0) {
      const char *s = ok ? suggest(word, len) : NULL;
      int shown = len > 24 ? 24 : (int)len;
      return gdb_fail(GDB_EINVAL,
                      "word %d \"%.*s%s\" of the recovery phrase is not in the BIP-39 English "
                      "word list%s%s%s",
                      n + 1, shown, start, (int)len > shown ? "..." : "",
                      s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
    }
    if (norm) {
      if (n) gdb_buf_putc(norm, ' ');
      gdb_buf_put(norm, word, len);
    }
    idx[n++] = k;
    OPENSSL_cleanse(word, sizeof word);
  }
  if (n == 0) return gdb_fail(GDB_EINVAL, "recovery phrase is empty");
  if (n % 3 || n < 12)
    return gdb_fail(GDB_EINVAL,
                    "recovery phrase has %d words; BIP-39 phrases have 12, 15, 18, "
                    "21 or 24",
                    n);
  return n;
}

/* Checks the checksum bits of n word indices. */
static int phrase_checksum(const int *idx, int n) {
  uint8_t bits[33] = {0}; /* 24 words * 11 bits = 264 bits */
  for (int i = 0; i < n; i++)
    for (int b = 0; b < 11; b++)
      if (idx[i] >> (10 - b) & 1) {
        int at = i * 11 + b;
        bits[at / 8] |= (uint8_t)(0x80 >> (at % 8));
      }
  int ent = n * 32 / 3, cs = n / 3; /* bits */
  uint8_t h[32];
  gdb_sha256(bits, (size_t)ent / 8, h);
  int want = h[0] >> (8 - cs), got = bits[ent / 8] >> (8 - cs);
  OPENSSL_cleanse(bits, sizeof bits);
  if (want != got)
    return gdb_fail(GDB_EINVAL, "recovery phrase checksum does not match: a word is wrong or "
                                "the words are out of order");
  return GDB_OK;
}

int gdb_mnemonic_check(const char *mnemonic) {
  if (!mnemonic) return gdb_fail(GDB_EINVAL, "recovery phrase is missing");
  int idx[MAX_WORDS];
  int n = phrase_parse(mnemonic, idx, NULL);
  int rc = n < 0 ? n : phrase_checksum(idx, n);
  OPENSSL_cleanse(idx, sizeof idx);
  return rc;
}

int gdb_mnemonic_generate(int words, char **out) {
  if (words != 12 && words != 24)
    return gdb_fail(GDB_EINVAL, "a new recovery phrase has 12 or 24 words, not %d", words);
  uint8_t bits[33] = {0};
  size_t ent = words == 12 ? 16 : 32;
  if (RAND_priv_bytes(bits, (int)ent) != 1)
    return gdb_fail(GDB_ECRYPTO, "the system random generator failed (OpenSSL RAND_priv_bytes)");
  uint8_t h[32];
  gdb_sha256(bits, ent, h);
  bits[ent] = h[0]; /* the first words/3 bits of it are the checksum */
  gdb_buf b = {0};
  gdb_buf_grow(&b, (size_t)words * 9); /* words of at most 8 letters: no realloc, no stray copy */
  for (int i = 0; i < words; i++) {
    int k = 0;
    for (int j = 0; j < 11; j++) {
      int at = i * 11 + j;
      k = k << 1 | (bits[at / 8] >> (7 - at % 8) & 1);
    }
    if (i) gdb_buf_putc(&b, ' ');
    gdb_buf_puts(&b, gdb_bip39_words[k]);
  }
  OPENSSL_cleanse(bits, sizeof bits);
  OPENSSL_cleanse(h, sizeof h);
  if (gdb_buf_finish(&b)) {
    gdb_buf_free(&b);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  *out = (char *)b.data;
  return GDB_OK;
}

int gdb_mnemonic_seed(const char *mnemonic, const char *passphrase, uint8_t seed[64]) {
  if (!mnemonic) return gdb_fail(GDB_EINVAL, "recovery phrase is missing");
  int idx[MAX_WORDS];
  gdb_buf norm = {0};
  char *salt = NULL, *pass = NULL;
  /* The normalized phrase is never longer than the input: reserve it all now, so no realloc
   * leaves a copy of the phrase behind in freed memory. */
  gdb_buf_grow(&norm, strlen(mnemonic));
  int n = phrase_parse(mnemonic, idx, &norm);
  int rc = n < 0 ? n : phrase_checksum(idx, n);
  if (rc) goto done;
  if (norm.oom) {
    rc = gdb_fail(GDB_ENOMEM, "out of memory");
    goto done;
  }
  pass = g_utf8_normalize(passphrase ? passphrase : "", -1, G_NORMALIZE_NFKD);
  if (!pass) {
    rc = gdb_fail(GDB_EINVAL, "the BIP-39 passphrase is not valid UTF-8");
    goto done;
  }
  salt = g_strconcat("mnemonic", pass, NULL);
  if (PKCS5_PBKDF2_HMAC((const char *)norm.data, (int)norm.len, (const unsigned char *)salt,
                        (int)strlen(salt), 2048, EVP_sha512(), 64, seed) != 1)
    rc = gdb_fail(GDB_ECRYPTO, "PBKDF2-HMAC-SHA512 failed in OpenSSL");
done:
  if (norm.data) OPENSSL_cleanse(norm.data, norm.cap);
  gdb_buf_free(&norm);
  if (pass) OPENSSL_cleanse(pass, strlen(pass));
  if (salt) OPENSSL_cleanse(salt, strlen(salt));
  g_free(pass);
  g_free(salt);
  OPENSSL_cleanse(idx, sizeof idx);
  return rc;
}

void gdb_secret_free(char *secret) {
  if (!secret) return;
  OPENSSL_cleanse(secret, strlen(secret));
  free(secret);
}
