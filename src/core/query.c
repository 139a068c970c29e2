/*
 * query.c — `map`: selecting nodes by a filter over their values.
 *
 * This first version matches fields by equality (dot paths reach into nested objects) and
 * honours $limit; values compare as canonical MessagePack bytes, which is deep equality of
 * JSON. Evaluation walks each stored value in place (mp.h), taking no copies.
 */
#include "core/db.h"
#include "core/error.h"
#include "core/mp.h"
#include "core/value.h"

#include <stdlib.h>
#include <string.h>

struct gdb_result {
  gdb_node **nodes;
  size_t len;
};

typedef struct eq_term {
  char *path; /* dot path */
  uint8_t *want;
  size_t want_len;
} eq_term;

typedef struct query {
  eq_term *terms;
  size_t nterms;
  long long limit; /* -1: none */
} query;

static void query_free(query *q) {
  for (size_t i = 0; i < q->nterms; i++) {
    free(q->terms[i].path);
    free(q->terms[i].want);
  }
  free(q->terms);
}

static int parse_query(const char *options, query *q) {
  memset(q, 0, sizeof *q);
  q->limit = -1;
  if (!options || !*options) return GDB_OK;
  json_t *o = gdb_json_parse(options, strlen(options), "map options");
  if (!o) return gdb_fail(GDB_EQUERY, "map: %s", gdb_errmsg());
  int rc = GDB_OK;
  if (!json_is_object(o)) {
    rc = gdb_fail(GDB_EQUERY, "map: options must be a JSON object such as {\"query\":{\"type\":\"user\"}}");
    goto out;
  }
  const char *key;
  json_t *val;
  json_object_foreach(o, key, val) {
    if (!strcmp(key, "query")) {
      if (!json_is_object(val)) {
        rc = gdb_fail(GDB_EQUERY, "map: \"query\" must be an object of field conditions");
        goto out;
      }
      q->terms = calloc(json_object_size(val) + 1, sizeof *q->terms);
      if (!q->terms) {
        rc = gdb_fail(GDB_ENOMEM, "out of memory");
        goto out;
      }
      const char *field;
      json_t *want;
      json_object_foreach(val, field, want) {
        if (field[0] == '$') {
          rc = gdb_fail(GDB_EQUERY, "map: operator \"%s\" is not supported (conditions are field equality)", field);
          goto out;
        }
        if (json_is_object(want) && json_object_size(want) && json_object_iter_key(json_object_iter(want))[0] == '$') {
          rc = gdb_fail(GDB_EQUERY, "map: operator \"%s\" on \"%s\" is not supported (conditions are field equality)",
                        json_object_iter_key(json_object_iter(want)), field);
          goto out;
        }
        eq_term *t = &q->terms[q->nterms++];
        gdb_buf b = {0};
        if (!(t->path = strdup(field)) || (rc = gdb_value_from_jansson(want, &b))) {
          gdb_buf_free(&b);
          if (!rc) rc = gdb_fail(GDB_ENOMEM, "out of memory");
          goto out;
        }
        t->want = b.data;
        t->want_len = b.len;
      }
    } else if (!strcmp(key, "$limit")) {
      double v = json_number_value(val);
      if (!json_is_number(val) || !(v >= 0 && v <= 1e15) || v != (double)(long long)v) {
        rc = gdb_fail(GDB_EQUERY, "map: \"$limit\" must be a non-negative integer");
        goto out;
      }
      q->limit = (long long)v;
    } else {
      rc = gdb_fail(GDB_EQUERY, "map: unknown option \"%s\" (known: query, $limit)", key);
      goto out;
    }
  }
out:
  json_decref(o);
  if (rc) query_free(q);
  return rc;
}

/* Positions *at on the value at a dot path inside the map at c. */
static bool find_path(mp_cur c, const char *path, mp_cur *at) {
  for (;;) {
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    mp_cur v;
    if (!mp_map_find(c, path, len, &v)) return false;
    if (!dot) {
      *at = v;
      return true;
    }
    c = v;
    path = dot + 1;
  }
}

static bool matches(const query *q, const gdb_node *n) {
  mp_cur root = mp_cursor(gdb_node_valuep(n), n->value_len);
  for (size_t i = 0; i < q->nterms; i++) {
    mp_cur at;
    if (!find_path(root, q->terms[i].path, &at)) return false;
    mp_cur end = at;
    if (!mp_skip(&end, 64)) return false;
    size_t len = (size_t)(end.p - at.p);
    if (len != q->terms[i].want_len || memcmp(at.p, q->terms[i].want, len)) return false;
  }
  return true;
}

int gdb_map(gdb_t *db, const char *options, gdb_result **out) {
  *out = NULL;
  query q;
  int rc = parse_query(options, &q);
  if (rc) return rc;
  gdb_result *r = calloc(1, sizeof *r);
  if (!r) {
    query_free(&q);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  gdb_db_lock(db);
  gdb_graph *g = gdb_db_graph(db);
  r->nodes = malloc((g->live + 1) * sizeof *r->nodes);
  for (uint32_t i = 0; r->nodes && i < g->nodes.nentries; i++) {
    if (q.limit >= 0 && (long long)r->len >= q.limit) break;
    gdb_node *n = g->nodes.entries[i].item;
    if (!n || !gdb_node_live(n) || !matches(&q, n)) continue;
    gdb_node_retain(n);
    r->nodes[r->len++] = n;
  }
  gdb_db_unlock(db);
  query_free(&q);
  if (!r->nodes) {
    free(r);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  *out = r;
  return GDB_OK;
}

size_t gdb_result_len(const gdb_result *r) { return r->len; }
gdb_node *gdb_result_at(const gdb_result *r, size_t i) { return i < r->len ? r->nodes[i] : NULL; }

void gdb_result_free(gdb_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->len; i++) gdb_node_release(r->nodes[i]);
  free(r->nodes);
  free(r);
}
