/*
 * filter.c — NIP-01 subscription filters. A filter holds sorted lists (ids, authors, kinds,
 * and one value list per "#x" tag letter) plus since/until/limit; matching is a binary search
 * per list, so a relay can afford to test every event against every subscription.
 * ids and authors must be full 64-hex values (NIP-01 since 2023 has no prefix matching).
 */
#include "net/nostr/filter.h"

#include "core/buf.h"
#include "core/error.h"
#include "net/nostr/event.h"

#include <stdlib.h>
#include <string.h>

#define FILTER_MAX_VALUES 1000

typedef struct tag_list {
  char letter;
  size_t n;
  char **values; /* sorted */
} tag_list;

struct gdb_nostr_filter {
  size_t n_ids, n_authors, n_kinds, n_tags;
  char (*ids)[65];
  char (*authors)[65];
  int *kinds;
  tag_list *tags;
  int64_t since, until, limit; /* -1 when absent */
};

void gdb_nostr_filter_free(gdb_nostr_filter *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n_tags; i++) {
    for (size_t j = 0; j < f->tags[i].n; j++) free(f->tags[i].values[j]);
    free(f->tags[i].values);
  }
  free(f->tags);
  free(f->ids);
  free(f->authors);
  free(f->kinds);
  free(f);
}

static int cmp_hex(const void *a, const void *b) { return memcmp(a, b, 64); }
static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hex_list(json_t *v, const char *key, char (**out)[65], size_t *n) {
  if (!json_is_array(v)) return gdb_fail(GDB_EINVAL, "filter: \"%s\" must be an array", key);
  size_t len = json_array_size(v);
  if (len > FILTER_MAX_VALUES)
    return gdb_fail(GDB_ETOOBIG, "filter: \"%s\" has %zu values, over %d", key, len,
                    FILTER_MAX_VALUES);
  *out = calloc(len ? len : 1, 65);
  if (!*out) return gdb_fail(GDB_ENOMEM, "filter: out of memory");
  for (size_t i = 0; i < len; i++) {
    const char *s = json_string_value(json_array_get(v, i));
    if (!s || strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64)
      return gdb_fail(GDB_EINVAL, "filter: \"%s\"[%zu] must be 64 lower-case hex digits", key, i);
    memcpy((*out)[i], s, 65);
  }
  qsort(*out, len, 65, cmp_hex);
  *n = len;
  return GDB_OK;
}

static int int_field(json_t *v, const char *key, int64_t *out) {
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return gdb_fail(GDB_EINVAL, "filter: \"%s\" must be a non-negative integer", key);
  *out = json_integer_value(v);
  return GDB_OK;
}

int gdb_nostr_filter_from_json(json_t *obj, gdb_nostr_filter **out) {
  *out = NULL;
  if (!json_is_object(obj)) return gdb_fail(GDB_EINVAL, "filter: a filter must be a JSON object");
  gdb_nostr_filter *f = calloc(1, sizeof *f);
  if (!f) return gdb_fail(GDB_ENOMEM, "filter: out of memory");
  f->since = f->until = f->limit = -1;
  int rc = GDB_OK;
  size_t ntag_keys = 0;
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    if (key[0] == '#') ntag_keys++;
  }
  f->tags = calloc(ntag_keys ? ntag_keys : 1, sizeof *f->tags);
  if (!f->tags) {
    rc = gdb_fail(GDB_ENOMEM, "filter: out of memory");
    goto fail;
  }
  json_object_foreach(obj, key, v) {
    if (!strcmp(key, "ids")) {
      rc = hex_list(v, key, &f->ids, &f->n_ids);
    } else if (!strcmp(key, "authors")) {
      rc = hex_list(v, key, &f->authors, &f->n_authors);
    } else if (!strcmp(key, "kinds")) {
      if (!json_is_array(v) || json_array_size(v) > FILTER_MAX_VALUES) {
        rc = gdb_fail(GDB_EINVAL, "filter: \"kinds\" must be an array of at most %d integers",
                      FILTER_MAX_VALUES);
        goto fail;
      }
      f->kinds = calloc(json_array_size(v) + 1, sizeof *f->kinds);
      if (!f->kinds) {
        rc = gdb_fail(GDB_ENOMEM, "filter: out of memory");
        goto fail;
      }
      for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *k = json_array_get(v, i);
        if (!json_is_integer(k) || json_integer_value(k) < 0 || json_integer_value(k) > 65535) {
          rc = gdb_fail(GDB_EINVAL, "filter: \"kinds\"[%zu] must be an integer 0..65535", i);
          goto fail;
        }
        f->kinds[f->n_kinds++] = (int)json_integer_value(k);
      }
      qsort(f->kinds, f->n_kinds, sizeof *f->kinds, cmp_int);
    } else if (!strcmp(key, "since")) {
      rc = int_field(v, key, &f->since);
    } else if (!strcmp(key, "until")) {
      rc = int_field(v, key, &f->until);
    } else if (!strcmp(key, "limit")) {
      rc = int_field(v, key, &f->limit);
    } else if (key[0] == '#') {
      if (strlen(key) != 2) {
        rc = gdb_fail(GDB_EINVAL, "filter: tag key \"%s\" must be '#' and one letter", key);
        goto fail;
      }
      if (!json_is_array(v) || json_array_size(v) > FILTER_MAX_VALUES) {
        rc = gdb_fail(GDB_EINVAL, "filter: \"%s\" must be an array of at most %d strings", key,
                      FILTER_MAX_VALUES);
        goto fail;
      }
      tag_list *t = &f->tags[f->n_tags++];
      t->letter = key[1];
      t->values = calloc(json_array_size(v) + 1, sizeof *t->values);
      if (!t->values) {
        rc = gdb_fail(GDB_ENOMEM, "filter: out of memory");
        goto fail;
      }
      for (size_t i = 0; i < json_array_size(v); i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s) {
          rc = gdb_fail(GDB_EINVAL, "filter: \"%s\"[%zu] must be a string", key, i);
          goto fail;
        }
        if (!(t->values[t->n++] = strdup(s))) {
          rc = gdb_fail(GDB_ENOMEM, "filter: out of memory");
          goto fail;
        }
      }
      qsort(t->values, t->n, sizeof *t->values, cmp_str);
    } else {
      /* Unknown keys (search, NIP-50...) are ignored, as NIP-01 lets relays do. */
    }
    if (rc) goto fail;
  }
  *out = f;
  return GDB_OK;
fail:
  gdb_nostr_filter_free(f);
  return rc;
}

int gdb_nostr_filter_parse(const char *json, size_t len, gdb_nostr_filter **out) {
  json_error_t err;
  *out = NULL;
  json_t *obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
  if (!obj) return gdb_fail(GDB_EINVAL, "filter: not valid JSON: %s", err.text);
  int rc = gdb_nostr_filter_from_json(obj, out);
  json_decref(obj);
  return rc;
}

static bool tag_match(const tag_list *t, const gdb_nostr_event *ev) {
  for (size_t i = 0; i < json_array_size(ev->tags); i++) {
    json_t *tag = json_array_get(ev->tags, i);
    const char *name = json_string_value(json_array_get(tag, 0));
    const char *value = json_string_value(json_array_get(tag, 1));
    if (!name || !value || name[0] != t->letter || name[1]) continue;
    if (bsearch(&value, t->values, t->n, sizeof *t->values, cmp_str)) return true;
  }
  return false;
}

bool gdb_nostr_filter_match(const gdb_nostr_filter *f, const gdb_nostr_event *ev) {
  if (f->ids && !bsearch(ev->id_hex, f->ids, f->n_ids, 65, cmp_hex)) return false;
  if (f->authors && !bsearch(ev->pubkey_hex, f->authors, f->n_authors, 65, cmp_hex)) return false;
  if (f->kinds && !bsearch(&ev->kind, f->kinds, f->n_kinds, sizeof(int), cmp_int)) return false;
  if (f->since >= 0 && ev->created_at < f->since) return false;
  if (f->until >= 0 && ev->created_at > f->until) return false;
  for (size_t i = 0; i < f->n_tags; i++)
    if (!tag_match(&f->tags[i], ev)) return false;
  return true;
}

int64_t gdb_nostr_filter_limit(const gdb_nostr_filter *f) { return f->limit; }

static void put_u64(gdb_buf *b, uint64_t v) { gdb_buf_put(b, &v, sizeof v); }

void gdb_nostr_filter_key(const gdb_nostr_filter *f, gdb_buf *b) {
  /* every field gdb_nostr_filter_match reads, with absent lists told from empty ones; the
   * lists are sorted at parse time, so equal filters give equal bytes */
  put_u64(b, f->ids ? f->n_ids : UINT64_MAX);
  if (f->ids) gdb_buf_put(b, f->ids, f->n_ids * 65);
  put_u64(b, f->authors ? f->n_authors : UINT64_MAX);
  if (f->authors) gdb_buf_put(b, f->authors, f->n_authors * 65);
  put_u64(b, f->kinds ? f->n_kinds : UINT64_MAX);
  if (f->kinds) gdb_buf_put(b, f->kinds, f->n_kinds * sizeof *f->kinds);
  put_u64(b, (uint64_t)f->since);
  put_u64(b, (uint64_t)f->until);
  put_u64(b, f->n_tags);
  for (size_t i = 0; i < f->n_tags; i++) {
    gdb_buf_putc(b, f->tags[i].letter);
    put_u64(b, f->tags[i].n);
    for (size_t j = 0; j < f->tags[i].n; j++) {
      size_t n = strlen(f->tags[i].values[j]);
      put_u64(b, n);
      gdb_buf_put(b, f->tags[i].values[j], n);
    }
  }
}
