/* sm_identity_file.c — identity files: round trip, mode 0600, and a distinct error for each
 * way a file can fail to unlock (wrong passphrase, truncated, modified, newer version, not an
 * identity file, missing, existing path). */
#include "test.h"

#include "genosdb.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Cheap scrypt for tests (1 MiB); one test uses the default cost. */
static const gdb_id_kdf FAST = {10, 8, 1};
static const char *KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
static const char *ADDR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

static const char *path_in_tmp(const char *name) {
  static char p[600];
  snprintf(p, sizeof p, "%s/%s", gdb_test_tmpdir(), name);
  return p;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 65536);
  *len = fread(buf, 1, 65535, f);
  fclose(f);
  return buf;
}

static void spit(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(data, 1, len, f);
  fclose(f);
}

static int save_fixture(const char *path) {
  gdb_identity *id;
  int rc = gdb_id_from_private_key(KEY, &id);
  if (!rc) rc = gdb_id_save(id, path, "correct horse battery staple", &FAST);
  gdb_id_free(id);
  return rc;
}

TEST(sm_idfile_round_trip_mode_0600) {
  const char *p = path_in_tmp("me.id");
  mode_t old = umask(0); /* a permissive umask must not widen the file's mode */
  int rc = save_fixture(p);
  umask(old);
  CHECK_OK(rc);
  struct stat st;
  CHECK(stat(p, &st) == 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  gdb_identity *id;
  CHECK_OK(gdb_id_load(p, "correct horse battery staple", &id));
  CHECK_STR(gdb_id_address(id), ADDR);
  char hex[GDB_PRIVKEY_BUFSZ];
  gdb_id_private_key(id, hex);
  CHECK_STR(hex, KEY);
  gdb_id_free(id);
  /* The file shows the address and never the key. */
  size_t len;
  char *text = slurp(p, &len);
  CHECK(text && strstr(text, ADDR) && !strstr(text, KEY + 2));
  CHECK(strstr(text, "\"format\":\"genosdb-identity\"") && strstr(text, "\"version\":1"));
  free(text);
  /* No temporary file is left next to it. */
  char cmd[700];
  snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", gdb_test_tmpdir());
  CHECK(system(cmd) == 0);
}

TEST(sm_idfile_default_kdf_cost) {
  const char *p = path_in_tmp("default.id");
  gdb_identity *id, *back;
  CHECK_OK(gdb_id_generate(&id));
  CHECK_OK(gdb_id_save(id, p, "pass phrase", NULL));
  CHECK_OK(gdb_id_load(p, "pass phrase", &back));
  CHECK_STR(gdb_id_address(back), gdb_id_address(id));
  size_t len;
  char *text = slurp(p, &len);
  CHECK(strstr(text, "\"log2n\":17") && strstr(text, "\"r\":8") && strstr(text, "\"p\":1"));
  free(text);
  gdb_id_free(id);
  gdb_id_free(back);
}

TEST(sm_idfile_wrong_passphrase) {
  const char *p = path_in_tmp("me.id");
  CHECK_OK(save_fixture(p));
  gdb_identity *id = NULL;
  CHECK_INT(gdb_id_load(p, "Correct horse battery staple", &id), GDB_ECRYPTO);
  CHECK(strstr(gdb_errmsg(), "wrong passphrase"));
  CHECK(id == NULL);
  CHECK_INT(gdb_id_load(p, "", &id), GDB_ECRYPTO);
  CHECK_INT(gdb_id_load(p, NULL, &id), GDB_ECRYPTO);
}

TEST(sm_idfile_truncated) {
  const char *p = path_in_tmp("me.id");
  CHECK_OK(save_fixture(p));
  size_t len;
  char *text = slurp(p, &len);
  CHECK(text && len > 100);
  /* Cut at every length but the last (the final newline may go without harm). */
  for (size_t cut = 0; cut + 2 < len; cut += 7) {
    spit(p, text, cut);
    gdb_identity *id = NULL;
    int rc = gdb_id_load(p, "correct horse battery staple", &id);
    CHECK_MSG(rc == GDB_ECORRUPT && strstr(gdb_errmsg(), "is truncated"), "cut at %zu: %d %s", cut,
              rc, gdb_errmsg());
  }
  spit(p, text, len - 1);
  gdb_identity *id;
  CHECK_OK(gdb_id_load(p, "correct horse battery staple", &id));
  gdb_id_free(id);
  free(text);
}

TEST(sm_idfile_tampered) {
  const char *p = path_in_tmp("me.id");
  CHECK_OK(save_fixture(p));
  size_t len;
  char *text = slurp(p, &len);
  const char *fields[] = {"\"ciphertext\":\"", "\"tag\":\"", "\"nonce\":\"", "\"salt\":\"",
                          "\"checksum\":\""};
  for (size_t f = 0; f < 5; f++) {
    char *copy = strdup(text);
    char *at = strstr(copy, fields[f]) + strlen(fields[f]) + 3;
    *at = *at == '0' ? '1' : '0'; /* one hex digit changed */
    spit(p, copy, len);
    gdb_identity *id = NULL;
    int rc = gdb_id_load(p, "correct horse battery staple", &id);
    CHECK_MSG(rc == GDB_ECORRUPT && strstr(gdb_errmsg(), "was modified"), "%s: %d %s", fields[f],
              rc, gdb_errmsg());
    free(copy);
  }
  /* The address swapped for another one. */
  char *copy = strdup(text), *a = strstr(copy, ADDR);
  memcpy(a, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 42);
  spit(p, copy, len);
  gdb_identity *id = NULL;
  CHECK_INT(gdb_id_load(p, "correct horse battery staple", &id), GDB_ECORRUPT);
  free(copy);
  /* A byte in the middle of the JSON syntax. */
  copy = strdup(text);
  copy[len / 2] = '\x01';
  spit(p, copy, len);
  CHECK_INT(gdb_id_load(p, "correct horse battery staple", &id), GDB_ECORRUPT);
  free(copy);
  /* Modified with the checksum recomputed by hand: caught by GCM (reported as a wrong
   * passphrase, since the file is self-consistent). */
  json_t *doc = json_loads(text, 0, NULL);
  const char *ct = json_string_value(json_object_get(doc, "ciphertext"));
  char ct2[65];
  strcpy(ct2, ct);
  ct2[0] = ct2[0] == 'a' ? 'b' : 'a';
  json_object_set_new(doc, "ciphertext", json_string(ct2));
  json_object_del(doc, "checksum");
  char *body = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS), *canon = NULL;
  size_t clen;
  CHECK_OK(gdb_canonical_json(body, strlen(body), &canon, &clen));
  /* SHA-256 through the CLI-independent route: OpenSSL via the library's own hash is private,
   * so use the shell. */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s/body", gdb_test_tmpdir());
  spit(cmd, canon, clen);
  char sumcmd[1200];
  snprintf(sumcmd, sizeof sumcmd, "sha256sum '%s/body'", gdb_test_tmpdir());
  FILE *sp = popen(sumcmd, "r");
  char sum[65] = "";
  CHECK(sp && fread(sum, 1, 64, sp) == 64);
  pclose(sp);
  json_object_set_new(doc, "checksum", json_string(sum));
  char *forged = json_dumps(doc, JSON_COMPACT);
  spit(p, forged, strlen(forged));
  CHECK_INT(gdb_id_load(p, "correct horse battery staple", &id), GDB_ECRYPTO);
  free(forged);
  free(body);
  free(canon);
  json_decref(doc);
  free(text);
}

TEST(sm_idfile_version_format_and_paths) {
  const char *p = path_in_tmp("me.id");
  gdb_identity *id = NULL;
  CHECK_INT(gdb_id_load(p, "x", &id), GDB_ENOTFOUND);
  spit(p, "{\"hello\":1}\n", 12);
  CHECK_INT(gdb_id_load(p, "x", &id), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "not a genosdb identity file"));
  spit(p, "{\"format\":\"genosdb-identity\",\"version\":2}\n", 42);
  CHECK_INT(gdb_id_load(p, "x", &id), GDB_EVERSION);
  CHECK(strstr(gdb_errmsg(), "version 2"));
  unlink(p);
  /* Never replaces an existing file, and leaves it untouched. */
  CHECK_OK(save_fixture(p));
  size_t len1, len2;
  char *before = slurp(p, &len1);
  gdb_identity *other;
  CHECK_OK(gdb_id_generate(&other));
  CHECK_INT(gdb_id_save(other, p, "another", &FAST), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "already exists"));
  char *after = slurp(p, &len2);
  CHECK(len1 == len2 && !memcmp(before, after, len1));
  /* Bad parameters and an empty passphrase are refused before anything is written. */
  const char *q = path_in_tmp("other.id");
  CHECK_INT(gdb_id_save(other, q, "", &FAST), GDB_EINVAL);
  gdb_id_kdf huge = {24, 64, 1};
  CHECK_INT(gdb_id_save(other, q, "pw", &huge), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "out of range"));
  CHECK(access(q, F_OK) != 0);
  CHECK_INT(gdb_id_save(other, "/nonexistent-dir/x.id", "pw", &FAST), GDB_EIO);
  gdb_id_free(other);
  free(before);
  free(after);
}
