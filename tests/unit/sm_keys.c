/* sm_keys.c — identities: private keys, EIP-55 addresses, BIP-39 phrases and the embedded
 * word list, BIP-32 derivation; each against published vectors and each bad input rejected
 * with its own message. */
#include "test.h"

#include "core/buf.h"
#include "core/value.h"
#include "genosdb.h"
#include "sm/sm.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/resource.h>

static json_t *vectors(void) {
  json_error_t e;
  json_t *v = json_load_file(gdb_test_path("vectors/sm.json"), 0, &e);
  if (!v) fprintf(stderr, "cannot load sm.json: %s\n", e.text);
  return v;
}

TEST(sm_identity_vectors) {
  json_t *v = vectors();
  CHECK(v);
  json_t *cases = json_object_get(v, "identity"), *c;
  size_t i;
  CHECK(json_array_size(cases) == 8);
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *key = json_string_value(json_object_get(json_object_get(c, "input"), "key"));
    gdb_identity *id = NULL;
    int rc = gdb_id_from_secret(key, &id);
    CHECK_MSG(rc == 0, "%s: %s", name, gdb_errmsg());
    CHECK_MSG(!strcmp(gdb_id_address(id), json_string_value(json_object_get(c, "expected"))),
              "%s: got %s", name, gdb_id_address(id));
    gdb_id_free(id);
  }
  json_decref(v);
}

TEST(sm_private_key_round_trip_and_forms) {
  gdb_identity *a, *b, *c;
  CHECK_OK(gdb_id_from_private_key(
      "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", &a));
  CHECK_OK(gdb_id_from_private_key(
      "AC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80", &b));
  CHECK_STR(gdb_id_address(a), gdb_id_address(b));
  char hex[GDB_PRIVKEY_BUFSZ];
  gdb_id_private_key(a, hex);
  CHECK_STR(hex, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  CHECK_OK(gdb_id_generate(&c));
  CHECK(strcmp(gdb_id_address(c), gdb_id_address(a)) != 0);
  gdb_id_private_key(c, hex);
  gdb_identity *d;
  CHECK_OK(gdb_id_from_private_key(hex, &d));
  CHECK_STR(gdb_id_address(d), gdb_id_address(c));
  gdb_id_free(a);
  gdb_id_free(b);
  gdb_id_free(c);
  gdb_id_free(d);
}

static void expect_key_error(const char *key, const char *fragment) {
  gdb_identity *id = NULL;
  int rc = gdb_id_from_private_key(key, &id);
  if (rc != GDB_EINVAL || !strstr(gdb_errmsg(), fragment))
    gdb_test_failed(__FILE__, __LINE__, "key \"%s\": rc %d, message \"%s\", want \"%s\"", key, rc,
                    gdb_errmsg(), fragment);
  if (id) gdb_id_free(id);
  /* The message never repeats the key. */
  if (strlen(key) > 8 && strstr(gdb_errmsg(), key + 4))
    gdb_test_failed(__FILE__, __LINE__, "message quotes the key: %s", gdb_errmsg());
}

TEST(sm_private_key_rejects_bad_input) {
  expect_key_error("0x1234", "64 hex digits (got 4");
  expect_key_error("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff8000",
                   "got 66");
  expect_key_error("0xzc0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
                   "not a hex digit (position 3)");
  expect_key_error("0x0000000000000000000000000000000000000000000000000000000000000000",
                   "zero or not below");
  /* The group order n itself and above. */
  expect_key_error("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
                   "zero or not below");
  expect_key_error("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                   "zero or not below");
  gdb_identity *id;
  /* n - 1 is the largest valid key. */
  CHECK_OK(gdb_id_from_private_key(
      "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", &id));
  gdb_id_free(id);
}

TEST(sm_eip55_published_vectors) {
  /* EIP-55's own examples: all caps, all lower, mixed case. */
  static const char *const GOOD[] = {
      "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
      "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
      "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
  };
  static const char *const MIXED[] = {
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
      "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
      "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
  };
  for (size_t i = 0; i < 8; i++)
    CHECK_MSG(gdb_address_parse(GOOD[i], 42, NULL) == 0, "%s: %s", GOOD[i], gdb_errmsg());
  for (size_t i = 0; i < 4; i++) {
    uint8_t raw[20];
    char out[GDB_ADDRESS_BUFSZ], lower[43];
    CHECK_OK(gdb_address_parse(MIXED[i], 42, raw));
    gdb_address_format(raw, out);
    CHECK_STR(out, MIXED[i]);
    for (int k = 0; k < 43; k++)
      lower[k] = (char)(MIXED[i][k] >= 'A' && MIXED[i][k] <= 'F' ? MIXED[i][k] + 32 : MIXED[i][k]);
    CHECK_OK(gdb_address_normalize(lower, out));
    CHECK_STR(out, MIXED[i]);
  }
}

TEST(sm_address_rejects_bad_checksum_and_format) {
  /* One letter's case flipped in an EIP-55 address. */
  const char *typo = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
  CHECK_INT(gdb_address_parse(typo, 42, NULL), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "wrong EIP-55 checksum"));
  CHECK(
      strstr(gdb_errmsg(), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")); /* says the right one */
  CHECK_INT(gdb_address_check(typo, 42, NULL), GDB_SM_ADDRESS_CHECKSUM);
  CHECK_STR(gdb_sm_reason_detail(GDB_SM_ADDRESS_CHECKSUM), "address-checksum");
  static const char *const BAD[] = {
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA",     /* 38 digits */
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", /* 42 digits */
      "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00",   /* no 0x */
      "0xgaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",   /* not hex */
      "",
  };
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    CHECK_INT(gdb_address_parse(BAD[i], strlen(BAD[i]), NULL), GDB_EINVAL);
    CHECK_MSG(strstr(gdb_errmsg(), "is not an address"), "%s: %s", BAD[i], gdb_errmsg());
    CHECK_INT(gdb_address_check(BAD[i], strlen(BAD[i]), NULL), GDB_SM_ADDRESS_FORMAT);
  }
}

TEST(sm_wordlist_embedded_matches_spec) {
  /* The list compiled into the library, re-joined as the file was, hashes to the SHA-256
   * spec/SIGNING.md gives for the English list; and it is sorted (lookup is a binary search). */
  gdb_buf b = {0};
  for (int i = 0; i < 2048; i++) {
    gdb_buf_puts(&b, gdb_bip39_words[i]);
    gdb_buf_putc(&b, '\n');
    if (i) CHECK_MSG(strcmp(gdb_bip39_words[i - 1], gdb_bip39_words[i]) < 0, "unsorted at %d", i);
    CHECK_INT(gdb_bip39_index(gdb_bip39_words[i], strlen(gdb_bip39_words[i])), i);
  }
  uint8_t h[32];
  char hex[65];
  gdb_sha256(b.data, b.len, h);
  gdb_hex(h, 32, hex);
  CHECK_STR(hex, "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda");
  gdb_buf_free(&b);
  CHECK_INT(gdb_bip39_index("zooo", 4), -1);
  CHECK_INT(gdb_bip39_index("ab", 2), -1);
}

TEST(sm_mnemonic_bip39_published_seeds) {
  /* BIP-39's reference vectors (passphrase "TREZOR"). */
  static const char *const V[][2] = {
      {"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
       "about",
       "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2"
       "cf141630c7a3c4ab7c81b2f001698e7463b04"},
      {"legal winner thank year wave sausage worth useful legal winner thank yellow",
       "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c"
       "1069be3a3a5bd381ee6260e8d9739fce1f607"},
      {"letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
       "d71de856f81a8acc65e6fc851a38d4d7ec216fd0796d0a6827a3ad6ed5511a30fa280f12eb2e47ed2ac03b5c462"
       "a0358d18d69fe4f985ec81778c1b370b652a8"},
      {"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
       "ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13332572917f0f8e5a589620c6f15"
       "b11c61dee327651a14c34e18231052e48c069"},
      {"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
       "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
       "abandon art",
       "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d56"
       "1a7c3de6f5d4a10be8ed2a5e608d68f92fcc8"},
  };
  for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
    uint8_t seed[64];
    char hex[129];
    CHECK_OK(gdb_mnemonic_seed(V[i][0], "TREZOR", seed));
    gdb_hex(seed, 64, hex);
    CHECK_MSG(!strcmp(hex, V[i][1]), "vector %zu: %s", i, hex);
  }
  /* Case and spacing do not matter; the seed is that of the normalized phrase. */
  uint8_t a[64], b[64];
  CHECK_OK(gdb_mnemonic_seed(
      "  Legal WINNER thank year wave sausage worth useful legal winner\tthank yellow\n", "TREZOR",
      a));
  CHECK_OK(gdb_mnemonic_seed(V[1][0], "TREZOR", b));
  CHECK(!memcmp(a, b, 64));
}

static void expect_phrase_error(const char *m, const char *fragment) {
  int rc = gdb_mnemonic_check(m);
  if (rc != GDB_EINVAL || !strstr(gdb_errmsg(), fragment))
    gdb_test_failed(__FILE__, __LINE__, "\"%s\": rc %d, message \"%s\", want \"%s\"", m, rc,
                    gdb_errmsg(), fragment);
  gdb_identity *id = NULL;
  if (gdb_id_from_mnemonic(m, NULL, NULL, &id) != GDB_EINVAL || id)
    gdb_test_failed(__FILE__, __LINE__, "\"%s\" derived an identity", m);
  gdb_id_free(id);
}

TEST(sm_mnemonic_rejects_bad_checksum_unknown_word_and_count) {
  /* Last word changed: a valid word, wrong checksum. */
  expect_phrase_error("test test test test test test test test test test test test",
                      "checksum does not match");
  /* Two words swapped. */
  expect_phrase_error("test test test test test test test test test test junk test",
                      "checksum does not match");
  expect_phrase_error(
      "test test test test test test test test test test test jnuk",
      "word 12 \"jnuk\" of the recovery phrase is not in the BIP-39 English word list");
  /* A word with extra letters gets a suggestion (words are unique in their first 4 letters). */
  expect_phrase_error("abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                      "abandon abandon abouts",
                      "did you mean \"about\"?");
  expect_phrase_error("test test test test tést test test test test test test junk", "word 5");
  expect_phrase_error("test test test test test test test test test test junk",
                      "has 11 words; BIP-39 phrases have 12, 15, 18, 21 or 24");
  expect_phrase_error("", "empty");
  expect_phrase_error("   ", "empty");
  char many[400] = "";
  for (int i = 0; i < 25; i++) strcat(many, "zoo ");
  expect_phrase_error(many, "more than 24 words");
  /* And the good one passes. */
  CHECK_OK(gdb_mnemonic_check("test test test test test test test test test test test junk"));
}

TEST(sm_mnemonic_generate_round_trips) {
  for (int words = 12; words <= 24; words += 12) {
    char *m = NULL;
    CHECK_OK(gdb_mnemonic_generate(words, &m));
    int n = 1;
    for (const char *p = m; *p; p++) n += *p == ' ';
    CHECK_INT(n, words);
    CHECK_OK(gdb_mnemonic_check(m));
    gdb_identity *a, *b;
    CHECK_OK(gdb_id_from_mnemonic(m, NULL, NULL, &a));
    CHECK_OK(gdb_id_from_secret(m, &b));
    CHECK_STR(gdb_id_address(a), gdb_id_address(b));
    gdb_id_free(a);
    gdb_id_free(b);
    gdb_secret_free(m);
  }
  char *m = NULL;
  CHECK_INT(gdb_mnemonic_generate(15, &m), GDB_EINVAL);
  CHECK(m == NULL);
}

TEST(sm_bip32_published_vector_1) {
  /* BIP-32 test vector 1: private keys along m/0'/1/2'/2/1000000000. */
  uint8_t seed[16], key[32];
  char hex[65];
  for (int i = 0; i < 16; i++) seed[i] = (uint8_t)i;
  static const char *const V[][2] = {
      {"m", "e8f32e723decf4051aefac8e2c93c9c5b214313817cdb01a1494b917c8436b35"},
      {"m/0'", "edb2e14f9ee77d26dd93b4ecede8d16ed408ce149b6cd80b0715a2d911a0afea"},
      {"m/0'/1", "3c6cb8d0f6a264c91ea8b5030fadaa8e538b020f0a387421a12de9319dc93368"},
      {"m/0H/1/2h", "cbce0d719ecf7431d88e6a89fa1483e02e35092af60c042b1df2ff59fa424dca"},
      {"m/0'/1/2'/2", "0f479245fb19a38a1954c5c7c0ebab2f9bdfd96a17563ef28a6a4b1a2a764ef4"},
      {"m/0'/1/2'/2/1000000000",
       "471b76e389e528d6de6d816857e012c5455051cad6660850e58372a6c3e6e7c8"},
  };
  for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
    CHECK_OK(gdb_hd_derive(seed, sizeof seed, V[i][0], key));
    gdb_hex(key, 32, hex);
    CHECK_MSG(!strcmp(hex, V[i][1]), "%s: %s", V[i][0], hex);
  }
  static const char *const BAD[] = {"", "x/0", "m/", "m/a", "m/2147483648", "m/0''", "m/0/"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
    CHECK_MSG(gdb_hd_derive(seed, sizeof seed, BAD[i], key) == GDB_EINVAL, "path \"%s\"", BAD[i]);
}

TEST(sm_mnemonic_accounts_follow_the_path) {
  /* The well-known development phrase: account 0 and 1 at m/44'/60'/0'/0/i. */
  const char *m = "test test test test test test test test test test test junk";
  gdb_identity *a, *b;
  CHECK_OK(gdb_id_from_mnemonic(m, NULL, "m/44'/60'/0'/0/0", &a));
  CHECK_OK(gdb_id_from_mnemonic(m, NULL, "m/44'/60'/0'/0/1", &b));
  CHECK_STR(gdb_id_address(a), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  CHECK_STR(gdb_id_address(b), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  gdb_id_free(a);
  gdb_id_free(b);
  /* A BIP-39 passphrase gives another wallet. */
  CHECK_OK(gdb_id_from_mnemonic(m, "extra", NULL, &a));
  CHECK(strcmp(gdb_id_address(a), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266") != 0);
  gdb_id_free(a);
}

/* kB of locked memory of this process (VmLck in /proc/self/status), or -1. */
static long locked_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmLck:", 6)) kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

/* An identity's page is locked in RAM while it lives, unlocked when it is freed (the lock is
 * best effort: skipped where RLIMIT_MEMLOCK allows no page). */
TEST(sm_identity_memory_is_locked) {
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_MEMLOCK, &rl) == 0);
  long before = locked_kb();
  CHECK(before >= 0);
  gdb_identity *id[4];
  for (int i = 0; i < 4; i++) CHECK_OK(gdb_id_generate(&id[i]));
  long during = locked_kb();
#if !defined(__SANITIZE_ADDRESS__) /* AddressSanitizer turns mlock into a no-op */
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)(before + 16) * 1024)
    CHECK(during >= before + 16); /* four pages */
#else
  (void)during;
#endif
  for (int i = 0; i < 4; i++) gdb_id_free(id[i]);
  CHECK(locked_kb() == before);
}
