/*
 * event.c — Nostr events (NIP-01): the id is SHA-256 of [0,pubkey,created_at,kind,tags,content]
 * serialized exactly as NIP-01 says (no whitespace, UTF-8, only \n \" \\ \r \t \b \f escaped),
 * the signature BIP-340 Schnorr over the id (libsecp256k1 schnorrsig/extrakeys). Parsing
 * checks shape and types; verification recomputes the id and checks the signature.
 */
#include "net/nostr/event.h"

#include "core/buf.h"
#include "core/error.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static secp256k1_context *secp_ctx;
static pthread_once_t secp_once = PTHREAD_ONCE_INIT;

static void secp_init(void) {
  secp_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  uint8_t seed[32];
  if (RAND_bytes(seed, sizeof seed) == 1 && !secp256k1_context_randomize(secp_ctx, seed)) {
    /* randomization only hardens against side channels; the context stays usable */
  }
}

const secp256k1_context *gdb_nostr_secp(void) {
  pthread_once(&secp_once, secp_init);
  return secp_ctx;
}

int gdb_nostr_key_generate(uint8_t seckey[32]) {
  for (int tries = 0; tries < 16; tries++) {
    if (RAND_bytes(seckey, 32) != 1) return gdb_fail(GDB_ECRYPTO, "nostr: no random bytes");
    if (secp256k1_ec_seckey_verify(gdb_nostr_secp(), seckey)) return GDB_OK;
  }
  return gdb_fail(GDB_ECRYPTO, "nostr: could not draw a valid secret key");
}

static int keypair(const uint8_t seckey[32], secp256k1_keypair *kp, uint8_t xonly[32]) {
  secp256k1_xonly_pubkey pk;
  if (!secp256k1_keypair_create(gdb_nostr_secp(), kp, seckey))
    return gdb_fail(GDB_EINVAL, "nostr: the secret key is not a valid secp256k1 scalar");
  if (!secp256k1_keypair_xonly_pub(gdb_nostr_secp(), &pk, NULL, kp) ||
      !secp256k1_xonly_pubkey_serialize(gdb_nostr_secp(), xonly, &pk))
    return gdb_fail(GDB_ECRYPTO, "nostr: could not derive the public key");
  return GDB_OK;
}

int gdb_nostr_schnorr_sign(const uint8_t seckey[32], const uint8_t msg32[32],
                           const uint8_t aux32[32], uint8_t sig64[64]) {
  secp256k1_keypair kp;
  uint8_t x[32];
  int rc = keypair(seckey, &kp, x);
  if (rc) return rc;
  if (!secp256k1_schnorrsig_sign32(gdb_nostr_secp(), sig64, msg32, &kp, aux32))
    return gdb_fail(GDB_ECRYPTO, "nostr: signing failed");
  return GDB_OK;
}

bool gdb_nostr_schnorr_verify(const uint8_t pubkey32[32], const uint8_t msg32[32],
                              const uint8_t sig64[64]) {
  secp256k1_xonly_pubkey pk;
  return secp256k1_xonly_pubkey_parse(gdb_nostr_secp(), &pk, pubkey32) &&
         secp256k1_schnorrsig_verify(gdb_nostr_secp(), sig64, msg32, 32, &pk);
}

int gdb_nostr_key_pubkey(const uint8_t seckey[32], char pubkey_hex[65]) {
  secp256k1_keypair kp;
  uint8_t x[32];
  int rc = keypair(seckey, &kp, x);
  if (rc) return rc;
  gdb_hex(x, 32, pubkey_hex);
  return GDB_OK;
}

void gdb_nostr_put_string(gdb_buf *b, const char *s, size_t n, bool json_safe) {
  gdb_buf_putc(b, '"');
  size_t run = 0; /* bytes copied verbatim in one go */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    switch (c) {
    case '\n': esc = "\\n"; break;
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    default: break;
    }
    if (!esc && (c >= 0x20 || !json_safe)) continue;
    gdb_buf_put(b, s + run, i - run);
    run = i + 1;
    if (esc) {
      gdb_buf_puts(b, esc);
    } else {
      gdb_buf_printf(b, "\\u%04x", c);
    }
  }
  gdb_buf_put(b, s + run, n - run);
  gdb_buf_putc(b, '"');
}

static void put_tags(gdb_buf *b, const json_t *tags, bool json_safe) {
  gdb_buf_putc(b, '[');
  for (size_t i = 0; i < json_array_size(tags); i++) {
    const json_t *t = json_array_get(tags, i);
    if (i) gdb_buf_putc(b, ',');
    gdb_buf_putc(b, '[');
    for (size_t j = 0; j < json_array_size(t); j++) {
      const json_t *v = json_array_get(t, j);
      if (j) gdb_buf_putc(b, ',');
      gdb_nostr_put_string(b, json_string_value(v), json_string_length(v), json_safe);
    }
    gdb_buf_putc(b, ']');
  }
  gdb_buf_putc(b, ']');
}

/* Appends a non-negative decimal integer (no printf: every parse and verification does this). */
static void put_uint(gdb_buf *b, uint64_t v) {
  char d[24];
  size_t n = sizeof d;
  do d[--n] = (char)('0' + v % 10);
  while (v /= 10);
  gdb_buf_put(b, d + n, sizeof d - n);
}

static void put_commitment(gdb_buf *b, const gdb_nostr_event *ev) {
  gdb_buf_put(b, "[0,\"", 4);
  gdb_buf_put(b, ev->pubkey_hex, 64);
  gdb_buf_put(b, "\",", 2);
  put_uint(b, (uint64_t)ev->created_at);
  gdb_buf_putc(b, ',');
  put_uint(b, (uint64_t)ev->kind);
  gdb_buf_putc(b, ',');
  put_tags(b, ev->tags, false);
  gdb_buf_putc(b, ',');
  gdb_nostr_put_string(b, ev->content, ev->content_len, false);
  gdb_buf_putc(b, ']');
}

int gdb_nostr_event_commitment(const gdb_nostr_event *ev, char **out, size_t *out_len) {
  gdb_buf b = {0};
  put_commitment(&b, ev);
  int rc = gdb_buf_finish(&b);
  if (rc) return gdb_fail(rc, "nostr: out of memory serializing an event");
  *out = (char *)b.data;
  if (out_len) *out_len = b.len;
  return GDB_OK;
}

static void compute_id(const gdb_nostr_event *ev, uint8_t id[32], bool *oom) {
  uint8_t stack[1024]; /* most events fit: no allocation per verification */
  gdb_buf b = GDB_BUF_ON_STACK(stack);
  put_commitment(&b, ev);
  *oom = b.oom;
  SHA256(b.data, b.len, id);
  gdb_buf_free(&b);
}

static int render_json(gdb_nostr_event *ev) {
  gdb_buf b = {0};
  if (!gdb_buf_grow(&b, 300 + ev->content_len)) /* one allocation for the usual event */
    return gdb_fail(GDB_ENOMEM, "nostr: out of memory rendering an event");
  gdb_buf_put(&b, "{\"id\":\"", 7);
  gdb_buf_put(&b, ev->id_hex, 64);
  gdb_buf_put(&b, "\",\"pubkey\":\"", 12);
  gdb_buf_put(&b, ev->pubkey_hex, 64);
  gdb_buf_put(&b, "\",\"created_at\":", 15);
  put_uint(&b, (uint64_t)ev->created_at);
  gdb_buf_put(&b, ",\"kind\":", 8);
  put_uint(&b, (uint64_t)ev->kind);
  gdb_buf_put(&b, ",\"tags\":", 8);
  put_tags(&b, ev->tags, true);
  gdb_buf_puts(&b, ",\"content\":");
  gdb_nostr_put_string(&b, ev->content, ev->content_len, true);
  gdb_buf_put(&b, ",\"sig\":\"", 8);
  gdb_buf_put(&b, ev->sig_hex, 128);
  gdb_buf_put(&b, "\"}", 2);
  if (gdb_buf_finish(&b)) return gdb_fail(GDB_ENOMEM, "nostr: out of memory rendering an event");
  ev->json = (char *)b.data;
  ev->json_len = b.len;
  return GDB_OK;
}

static void event_free(gdb_nostr_event *ev) {
  if (!ev) return;
  json_decref(ev->tags);
  free(ev->content);
  free(ev->json);
  free(ev);
}

/* Checks tags is an array of non-empty arrays of strings. */
static int check_tags(const json_t *tags) {
  if (!json_is_array(tags)) return gdb_fail(GDB_EINVAL, "nostr: \"tags\" must be an array");
  for (size_t i = 0; i < json_array_size(tags); i++) {
    const json_t *t = json_array_get(tags, i);
    if (!json_is_array(t))
      return gdb_fail(GDB_EINVAL, "nostr: tag %zu must be an array of strings", i);
    for (size_t j = 0; j < json_array_size(t); j++)
      if (!json_is_string(json_array_get(t, j)))
        return gdb_fail(GDB_EINVAL, "nostr: element %zu of tag %zu must be a string", j, i);
  }
  return GDB_OK;
}

static bool lower_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

static int hex_field(json_t *obj, const char *key, uint8_t *out, size_t n, char *hex) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_string(v)) return gdb_fail(GDB_EINVAL, "nostr: event field \"%s\" is missing", key);
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  if (len != 2 * n || !lower_hex(s, len) || !gdb_unhex(s, len, out, n))
    return gdb_fail(GDB_EINVAL, "nostr: event field \"%s\" must be %zu lower-case hex digits", key,
                    2 * n);
  memcpy(hex, s, len + 1);
  return GDB_OK;
}

int gdb_nostr_event_from_json(json_t *obj, gdb_nostr_event **out) {
  *out = NULL;
  if (!json_is_object(obj)) return gdb_fail(GDB_EINVAL, "nostr: an event must be a JSON object");
  gdb_nostr_event *ev = calloc(1, sizeof *ev);
  if (!ev) return gdb_fail(GDB_ENOMEM, "nostr: out of memory");
  ev->refs = 1;
  int rc;
  if ((rc = hex_field(obj, "id", ev->id, 32, ev->id_hex)) ||
      (rc = hex_field(obj, "pubkey", ev->pubkey, 32, ev->pubkey_hex)) ||
      (rc = hex_field(obj, "sig", ev->sig, 64, ev->sig_hex)))
    goto fail;
  json_t *ca = json_object_get(obj, "created_at"), *kind = json_object_get(obj, "kind");
  json_t *tags = json_object_get(obj, "tags"), *content = json_object_get(obj, "content");
  if (!json_is_integer(ca) || json_integer_value(ca) < 0) {
    rc = gdb_fail(GDB_EINVAL, "nostr: \"created_at\" must be a non-negative integer");
    goto fail;
  }
  if (!json_is_integer(kind) || json_integer_value(kind) < 0 || json_integer_value(kind) > 65535) {
    rc = gdb_fail(GDB_EINVAL, "nostr: \"kind\" must be an integer between 0 and 65535");
    goto fail;
  }
  if (!json_is_string(content)) {
    rc = gdb_fail(GDB_EINVAL, "nostr: \"content\" must be a string");
    goto fail;
  }
  if ((rc = check_tags(tags))) goto fail;
  ev->created_at = json_integer_value(ca);
  ev->kind = (int)json_integer_value(kind);
  ev->tags = json_incref(tags);
  ev->content_len = json_string_length(content);
  ev->content = strndup(json_string_value(content), ev->content_len);
  if (!ev->content) {
    rc = gdb_fail(GDB_ENOMEM, "nostr: out of memory");
    goto fail;
  }
  if ((rc = render_json(ev))) goto fail;
  *out = ev;
  return GDB_OK;
fail:
  event_free(ev);
  return rc;
}

int gdb_nostr_event_parse(const char *json, size_t len, gdb_nostr_event **out) {
  json_error_t err;
  *out = NULL;
  json_t *obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
  if (!obj)
    return gdb_fail(GDB_EINVAL, "nostr: event is not valid JSON: %s (at byte %d)", err.text,
                    err.position);
  int rc = gdb_nostr_event_from_json(obj, out);
  json_decref(obj);
  return rc;
}

int gdb_nostr_event_verify_id(const gdb_nostr_event *ev) {
  uint8_t id[32];
  bool oom;
  compute_id(ev, id, &oom);
  if (oom) return gdb_fail(GDB_ENOMEM, "nostr: out of memory verifying an event");
  if (memcmp(id, ev->id, 32))
    return gdb_fail(GDB_EDENIED, "invalid: event id does not match its content");
  return GDB_OK;
}

int gdb_nostr_event_verify_sig(const gdb_nostr_event *ev) {
  secp256k1_xonly_pubkey pk;
  if (!secp256k1_xonly_pubkey_parse(gdb_nostr_secp(), &pk, ev->pubkey))
    return gdb_fail(GDB_EDENIED, "invalid: pubkey is not a point on secp256k1");
  if (!secp256k1_schnorrsig_verify(gdb_nostr_secp(), ev->sig, ev->id, 32, &pk))
    return gdb_fail(GDB_EDENIED, "invalid: bad signature");
  return GDB_OK;
}

int gdb_nostr_event_verify(const gdb_nostr_event *ev) {
  int rc = gdb_nostr_event_verify_id(ev);
  return rc ? rc : gdb_nostr_event_verify_sig(ev);
}

int gdb_nostr_event_sign(const uint8_t seckey[32], int64_t created_at, int kind,
                         const char *tags_json, const char *content, gdb_nostr_event **out) {
  *out = NULL;
  if (kind < 0 || kind > 65535)
    return gdb_fail(GDB_EINVAL, "nostr: kind %d is outside 0..65535", kind);
  if (!content) content = "";
  gdb_nostr_event *ev = calloc(1, sizeof *ev);
  if (!ev) return gdb_fail(GDB_ENOMEM, "nostr: out of memory");
  ev->refs = 1;
  int rc;
  if (tags_json) {
    json_error_t err;
    ev->tags = json_loads(tags_json, JSON_REJECT_DUPLICATES, &err);
    if (!ev->tags) {
      rc = gdb_fail(GDB_EINVAL, "nostr: tags are not valid JSON: %s", err.text);
      goto fail;
    }
    if ((rc = check_tags(ev->tags))) goto fail;
  } else {
    ev->tags = json_array();
  }
  ev->created_at = created_at > 0 ? created_at : (int64_t)time(NULL);
  ev->kind = kind;
  ev->content_len = strlen(content);
  ev->content = strdup(content);
  if (!ev->content || !ev->tags) {
    rc = gdb_fail(GDB_ENOMEM, "nostr: out of memory");
    goto fail;
  }
  secp256k1_keypair kp;
  if ((rc = keypair(seckey, &kp, ev->pubkey))) goto fail;
  gdb_hex(ev->pubkey, 32, ev->pubkey_hex);
  bool oom;
  compute_id(ev, ev->id, &oom);
  if (oom) {
    rc = gdb_fail(GDB_ENOMEM, "nostr: out of memory");
    goto fail;
  }
  gdb_hex(ev->id, 32, ev->id_hex);
  uint8_t aux[32];
  if (RAND_bytes(aux, sizeof aux) != 1 ||
      !secp256k1_schnorrsig_sign32(gdb_nostr_secp(), ev->sig, ev->id, &kp, aux)) {
    rc = gdb_fail(GDB_ECRYPTO, "nostr: signing failed");
    goto fail;
  }
  gdb_hex(ev->sig, 64, ev->sig_hex);
  if ((rc = render_json(ev))) goto fail;
  *out = ev;
  return GDB_OK;
fail:
  event_free(ev);
  return rc;
}

const char *gdb_nostr_event_json(const gdb_nostr_event *ev) { return ev->json; }
const char *gdb_nostr_event_id(const gdb_nostr_event *ev) { return ev->id_hex; }
const char *gdb_nostr_event_pubkey(const gdb_nostr_event *ev) { return ev->pubkey_hex; }
const char *gdb_nostr_event_content(const gdb_nostr_event *ev) { return ev->content; }
int64_t gdb_nostr_event_created_at(const gdb_nostr_event *ev) { return ev->created_at; }
int gdb_nostr_event_kind(const gdb_nostr_event *ev) { return ev->kind; }
size_t gdb_nostr_event_tag_count(const gdb_nostr_event *ev) { return json_array_size(ev->tags); }

size_t gdb_nostr_event_tag_len(const gdb_nostr_event *ev, size_t i) {
  return json_array_size(json_array_get(ev->tags, i));
}

const char *gdb_nostr_event_tag(const gdb_nostr_event *ev, size_t i, size_t j) {
  return json_string_value(json_array_get(json_array_get(ev->tags, i), j));
}

int gdb_nostr_event_pow(const gdb_nostr_event *ev) {
  int bits = 0;
  for (int i = 0; i < 32; i++) {
    if (ev->id[i] == 0) {
      bits += 8;
      continue;
    }
    bits += __builtin_clz(ev->id[i]) - 24;
    break;
  }
  return bits;
}

void gdb_nostr_event_retain(gdb_nostr_event *ev) {
  __atomic_add_fetch(&ev->refs, 1, __ATOMIC_RELAXED);
}

void gdb_nostr_event_release(gdb_nostr_event *ev) {
  if (ev && __atomic_sub_fetch(&ev->refs, 1, __ATOMIC_ACQ_REL) == 0) event_free(ev);
}
