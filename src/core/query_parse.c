/*
 * query_parse.c — compiles map options (JSON) into the tight form query_eval.c runs (see
 * query.h): operands pre-encoded, paths pre-split, regular expressions JIT-compiled, $text
 * operands split into words. Every mistake gets a message that names the operator or option,
 * the field, what was expected, and the closest known name when one was misspelt.
 */
#include "core/error.h"
#include "core/mp.h"
#include "core/query.h"
#include "core/value.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_MAX_DEPTH 32  /* nesting of logic operators and $elemMatch */
#define QUERY_MAX_STAGES 16 /* nested $edge */
#define PATH_MAX_SEGS 32
#define PATH_MAX_LEN 1024
#define REGEX_MATCH_LIMIT 1000000

/* ── names ── */

static const char *const QUERY_OPS[] = {"$and", "$or", "$nor", "$not", "$edge", NULL};
static const char *const OPTIONS[] = {"query",   "field",    "order",      "$limit", "$after",
                                      "$before", "realtime", "strictMode", NULL};
static const char *const TYPES[] = {"null", "boolean", "number", "integer", "string",
                                    "date", "object",  "array",  "binary",  NULL};

/* ── parse context ── */

typedef struct pctx {
  qarena *a;
  const char *verb;
  gdb_query *q;
  bool failed;
  int code; /* of the first failure */
} pctx;

/* Records the first error (a GDB_EQUERY message prefixed with the verb). */
static void *perr(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void *perr(pctx *c, const char *fmt, ...) {
  if (c->failed) return NULL;
  c->failed = true;
  c->code = GDB_EQUERY;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gdb_fail(GDB_EQUERY, "%s: %s", c->verb, msg);
  return NULL;
}

static void *oom(pctx *c) {
  if (!c->failed) {
    gdb_fail(GDB_ENOMEM, "out of memory");
    c->code = GDB_ENOMEM;
  }
  c->failed = true;
  return NULL;
}

/* A failure already recorded with gdb_fail (by gdb_qpath_compile), with its code. */
static void *failed(pctx *c, int code) {
  if (!c->failed) c->code = code;
  c->failed = true;
  return NULL;
}

static const char *kind_name(const json_t *j) {
  switch (json_typeof(j)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER:
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

/* "unknown X "w" where (did you mean "y"?)" */
static void *unknown(pctx *c, const char *what, const char *word, const char *where,
                     const char *const *names) {
  const char *s = gdb_query_suggest(word, names);
  if (s) return perr(c, "unknown %s \"%s\"%s (did you mean \"%s\"?)", what, word, where, s);
  return perr(c, "unknown %s \"%s\"%s (see docs/query.md for the list)", what, word, where);
}

static qexpr *mk(pctx *c, qop op, const char *name) {
  qexpr *e = gdb_qarena_alloc(c->a, sizeof *e);
  if (!e) return oom(c);
  e->op = (uint8_t)op;
  /* names come from the JSON tree, which is freed after compiling */
  if (!(e->name = gdb_qarena_strndup(c->a, name, strlen(name)))) return oom(c);
  return e;
}

static bool kids_alloc(pctx *c, qexpr *e, size_t n) {
  e->kids = gdb_qarena_alloc(c->a, (n ? n : 1) * sizeof *e->kids);
  if (!e->kids) return oom(c), false;
  return true;
}

/* The canonical MessagePack of a JSON operand, in the arena. */
static bool encode(pctx *c, const json_t *j, const uint8_t **out, uint32_t *len) {
  gdb_buf b = {0};
  int rc = gdb_value_from_jansson(j, &b);
  if (rc) {
    gdb_buf_free(&b);
    perr(c, "bad operand: %s", gdb_errmsg());
    return false;
  }
  uint8_t *p = gdb_qarena_alloc(c->a, b.len);
  if (p) memcpy(p, b.data, b.len);
  *out = p;
  *len = (uint32_t)b.len;
  gdb_buf_free(&b);
  if (!p) return oom(c), false;
  return true;
}

qpath *gdb_qpath_compile(qarena *a, const char *text, const char *verb, int *err) {
  *err = GDB_EQUERY;
  size_t len = strlen(text), nseg = 1;
  if (!len || len > PATH_MAX_LEN) {
    gdb_fail(GDB_EQUERY, "%s: a field name must be 1 to %d bytes (got %zu)", verb, PATH_MAX_LEN,
             len);
    return NULL;
  }
  for (size_t i = 0; i < len; i++) nseg += text[i] == '.';
  if (nseg > PATH_MAX_SEGS) {
    gdb_fail(GDB_EQUERY, "%s: the field \"%.100s\" has more than %d dot-separated parts", verb,
             text, PATH_MAX_SEGS);
    return NULL;
  }
  qpath *p = gdb_qarena_alloc(a, sizeof *p + nseg * sizeof(qseg));
  char *copy = p ? gdb_qarena_strndup(a, text, len) : NULL;
  if (!copy) {
    *err = gdb_fail(GDB_ENOMEM, "out of memory");
    return NULL;
  }
  p->text = copy;
  p->nseg = (uint32_t)nseg;
  const char *s = copy;
  for (size_t k = 0; k < nseg; k++) {
    const char *dot = memchr(s, '.', (size_t)(copy + len - s));
    size_t l = dot ? (size_t)(dot - s) : (size_t)(copy + len - s);
    if (!l) {
      gdb_fail(GDB_EQUERY,
               "%s: the field \"%.100s\" has an empty part (write a.b, not a..b, .a or a.)", verb,
               text);
      return NULL;
    }
    qseg *g = &p->seg[k];
    g->s = s;
    g->len = (uint32_t)l;
    g->idx = -1;
    if (l <= 9 && (l == 1 || s[0] != '0')) {
      int32_t v = 0;
      size_t i = 0;
      for (; i < l && isdigit((unsigned char)s[i]); i++) v = v * 10 + (s[i] - '0');
      if (i == l) g->idx = v;
    }
    s += l + 1;
  }
  return p;
}

/* ── operands ── */

/* A whole number in [lo, hi] (JSON numbers arrive as JavaScript numbers, integral or not). */
static bool whole(const json_t *j, double lo, double hi, int64_t *out) {
  double d = json_number_value(j);
  if (!json_is_number(j) || !(d >= lo && d <= hi) || d != floor(d)) return false;
  *out = (int64_t)d;
  return true;
}

static bool scalar_class_ok(const json_t *j) {
  return json_is_number(j) || json_is_string(j) || json_is_boolean(j);
}

/* Fills a comparison bound from a JSON scalar. */
static bool bound(pctx *c, const json_t *j, gdb_skey *k, const char *op, const char *field) {
  if (!scalar_class_ok(j)) {
    perr(c, "%s on \"%s\" needs a number, a string or a boolean (got %s)", op, field, kind_name(j));
    return false;
  }
  const uint8_t *p;
  uint32_t len;
  if (!encode(c, j, &p, &len)) return false;
  if (!gdb_skey_of(p, p + len, k)) return perr(c, "%s: bad operand", op), false;
  k->instant = k->date; /* dates compare by instant: "…T09:00Z" equals "…T09:00:00.000Z" */
  return true;
}

static void free_code(void *p) { pcre2_code_free(p); }
static void free_md(void *p) { pcre2_match_data_free(p); }
static void free_mctx(void *p) { pcre2_match_context_free(p); }

static bool compile_regex(pctx *c, qexpr *e, const char *pat, size_t plen, const char *opts,
                          const char *field) {
  uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  for (const char *o = opts ? opts : ""; *o; o++) {
    switch (*o) {
    case 'i': flags |= PCRE2_CASELESS; break;
    case 'm': flags |= PCRE2_MULTILINE; break;
    case 's': flags |= PCRE2_DOTALL; break;
    case 'x': flags |= PCRE2_EXTENDED; break;
    case 'u': break; /* always Unicode */
    default:
      perr(c, "$options on \"%s\": unknown flag '%c' (use any of i, m, s, x)", field, *o);
      return false;
    }
  }
  int errcode;
  PCRE2_SIZE erroff;
  e->re = pcre2_compile((PCRE2_SPTR)pat, plen, flags, &errcode, &erroff, NULL);
  if (!e->re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(errcode, msg, sizeof msg);
    perr(c, "invalid regular expression for \"%s\" at offset %zu: %s", field, (size_t)erroff,
         (char *)msg);
    return false;
  }
  if (!gdb_qarena_on_free(c->a, free_code, e->re)) {
    pcre2_code_free(e->re);
    return oom(c), false;
  }
  pcre2_jit_compile(e->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter on failure */
  e->md = pcre2_match_data_create_from_pattern(e->re, NULL);
  if (!e->md || !gdb_qarena_on_free(c->a, free_md, e->md)) {
    pcre2_match_data_free(e->md);
    return oom(c), false;
  }
  if (!c->q->mctx) {
    c->q->mctx = pcre2_match_context_create(NULL);
    if (!c->q->mctx || !gdb_qarena_on_free(c->a, free_mctx, c->q->mctx)) {
      pcre2_match_context_free(c->q->mctx);
      c->q->mctx = NULL;
      return oom(c), false;
    }
    pcre2_set_match_limit(c->q->mctx, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(c->q->mctx, 10000);
  }
  return true;
}

typedef struct words_ctx {
  pctx *c;
  char *w[64];
  uint32_t l[64];
  uint32_t n;
} words_ctx;

static bool collect_word(const char *w, size_t len, void *data) {
  words_ctx *x = data;
  for (uint32_t i = 0; i < x->n; i++)
    if (x->l[i] == len && !memcmp(x->w[i], w, len)) return false;
  if (x->n == 64) return true;
  if (!(x->w[x->n] = gdb_qarena_strndup(x->c->a, w, len))) return true;
  x->l[x->n++] = (uint32_t)len;
  return false;
}

static bool parse_set(pctx *c, qexpr *e, const json_t *arr) {
  size_t n = json_array_size(arr);
  e->set.v = gdb_qarena_alloc(c->a, (n ? n : 1) * sizeof *e->set.v);
  e->set.len = gdb_qarena_alloc(c->a, (n ? n : 1) * sizeof *e->set.len);
  if (!e->set.v || !e->set.len) return oom(c), false;
  for (size_t i = 0; i < n; i++) {
    json_t *x = json_array_get(arr, i);
    if (json_is_null(x)) e->set.has_null = true;
    if (!encode(c, x, &e->set.v[i], &e->set.len[i])) return false;
  }
  e->set.n = (uint32_t)n;
  return true;
}

static bool geo_num(pctx *c, const json_t *o, const char *key, double lo, double hi, double *out,
                    const char *op, const char *field) {
  json_t *v = json_object_get(o, key);
  if (!json_is_number(v))
    return perr(c, "%s on \"%s\" needs a number \"%s\"", op, field, key), false;
  *out = json_number_value(v);
  if (!(*out >= lo && *out <= hi))
    return perr(c, "%s on \"%s\": \"%s\" must be between %g and %g", op, field, key, lo, hi), false;
  return true;
}

static bool geo_keys(pctx *c, const json_t *o, const char *const *keys, const char *op,
                     const char *field) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    bool known = false;
    for (size_t i = 0; keys[i]; i++) known |= !strcmp(k, keys[i]);
    if (!known) return unknown(c, "key", k, op[1] == 'n' ? " in $near" : " in $bbox", keys), false;
  }
  (void)field;
  return true;
}

static qexpr *parse_query(pctx *c, const json_t *obj, int depth, uint32_t stage, bool in_edge);
static bool parse_ops(pctx *c, qexpr *field, const json_t *ops, const char *fname, int depth);

/* One value predicate ($op: operand) on field fname. */
static qexpr *parse_op(pctx *c, const char *op, const json_t *v, const json_t *ops,
                       const char *fname, int depth) {
  qexpr *e;
  if (!strcmp(op, "$eq") || !strcmp(op, "$ne")) {
    if (!(e = mk(c, QOP_EQ, op)) || !encode(c, v, &e->mp, &e->mplen)) return NULL;
    e->set.has_null = json_is_null(v);
    if (op[1] == 'e') return e;
    qexpr *n = mk(c, QOP_VNOT, op);
    if (!n || !kids_alloc(c, n, 1)) return NULL;
    n->kids[n->nkids++] = e;
    return n;
  }
  if (!strcmp(op, "$gt") || !strcmp(op, "$gte") || !strcmp(op, "$lt") || !strcmp(op, "$lte")) {
    if (!(e = mk(c, QOP_CMP, op))) return NULL;
    bool lower = op[1] == 'g', open = op[3] == 0;
    gdb_skey *k = lower ? &e->lo : &e->hi;
    if (!bound(c, v, k, op, fname)) return NULL;
    e->flags |= lower ? QF_HAS_LO : QF_HAS_HI;
    if (open) e->flags |= lower ? QF_LO_OPEN : QF_HI_OPEN;
    return e;
  }
  if (!strcmp(op, "$between")) {
    if (!json_is_array(v) || json_array_size(v) != 2)
      return perr(c, "$between on \"%s\" needs an array of two bounds, such as [1, 10]", fname);
    if (!(e = mk(c, QOP_CMP, op))) return NULL;
    if (!bound(c, json_array_get(v, 0), &e->lo, op, fname) ||
        !bound(c, json_array_get(v, 1), &e->hi, op, fname))
      return NULL;
    if (e->lo.cls != e->hi.cls || e->lo.date != e->hi.date)
      return perr(
          c,
          "$between on \"%s\" needs two bounds of one type (two numbers, two strings, two dates)",
          fname);
    e->flags |= QF_HAS_LO | QF_HAS_HI;
    return e;
  }
  if (!strcmp(op, "$in") || !strcmp(op, "$nin") || !strcmp(op, "$all")) {
    if (!json_is_array(v))
      return perr(c,
                  "%s on \"%s\" needs an array of values, such as {\"%s\":[\"a\",\"b\"]} (got %s)",
                  op, fname, op, kind_name(v));
    if (!(e = mk(c, op[1] == 'a' ? QOP_ALL : QOP_IN, op)) || !parse_set(c, e, v)) return NULL;
    if (op[1] != 'n') return e;
    qexpr *n = mk(c, QOP_VNOT, op);
    if (!n || !kids_alloc(c, n, 1)) return NULL;
    n->kids[n->nkids++] = e;
    return n;
  }
  if (!strcmp(op, "$exists")) {
    if (!json_is_boolean(v))
      return perr(c, "$exists on \"%s\" needs true or false (got %s)", fname, kind_name(v));
    if (!(e = mk(c, QOP_EXISTS, op))) return NULL;
    e->n = json_is_true(v);
    return e;
  }
  if (!strcmp(op, "$type")) {
    if (!(e = mk(c, QOP_TYPE, op))) return NULL;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_string(v) && !(json_is_array(v) && n > 0))
      return perr(c,
                  "$type on \"%s\" needs a type name or an array of them (null, boolean, number, "
                  "integer, string, date, object, array, binary)",
                  fname);
    for (size_t i = 0; i < n; i++) {
      const json_t *t = json_is_array(v) ? json_array_get(v, i) : v;
      if (!json_is_string(t)) return perr(c, "$type on \"%s\": type names are strings", fname);
      size_t k = 0;
      for (; TYPES[k] && strcmp(TYPES[k], json_string_value(t)); k++) {
      }
      if (!TYPES[k]) return unknown(c, "type", json_string_value(t), " in $type", TYPES);
      e->types |= 1u << k;
    }
    return e;
  }
  if (!strcmp(op, "$text")) {
    if (!json_is_string(v))
      return perr(c, "$text on \"%s\" needs a string of words (got %s)", fname, kind_name(v));
    if (!(e = mk(c, QOP_TEXT, op))) return NULL;
    words_ctx w = {.c = c};
    gdb_text_words(json_string_value(v), json_string_length(v), collect_word, &w);
    if (c->failed) return NULL;
    if (!w.n) return perr(c, "$text on \"%s\" needs at least one word (letters or digits)", fname);
    e->words = gdb_qarena_alloc(c->a, w.n * sizeof *e->words);
    e->wlens = gdb_qarena_alloc(c->a, w.n * sizeof *e->wlens);
    if (!e->words || !e->wlens) return oom(c);
    memcpy(e->words, w.w, w.n * sizeof *e->words);
    memcpy(e->wlens, w.l, w.n * sizeof *e->wlens);
    e->nwords = w.n;
    return e;
  }
  if (!strcmp(op, "$like") || !strcmp(op, "$ilike") || !strcmp(op, "$startsWith") ||
      !strcmp(op, "$endsWith")) {
    if (!json_is_string(v))
      return perr(c, "%s on \"%s\" needs a string (got %s)", op, fname, kind_name(v));
    qop k = op[1] == 'l' || op[1] == 'i' ? QOP_LIKE : op[1] == 's' ? QOP_STARTS : QOP_ENDS;
    if (!(e = mk(c, k, op))) return NULL;
    if (op[1] == 'i') e->flags |= QF_CI;
    e->slen = (uint32_t)json_string_length(v);
    if (!(e->s = gdb_qarena_strndup(c->a, json_string_value(v), e->slen))) return oom(c);
    return e;
  }
  if (!strcmp(op, "$regex")) {
    if (!json_is_string(v))
      return perr(c, "$regex on \"%s\" needs a pattern string (got %s)", fname, kind_name(v));
    json_t *o = json_object_get(ops, "$options");
    if (o && !json_is_string(o))
      return perr(c, "$options on \"%s\" needs a string of flags such as \"i\"", fname);
    if (!(e = mk(c, QOP_REGEX, op))) return NULL;
    if (!compile_regex(c, e, json_string_value(v), json_string_length(v),
                       o ? json_string_value(o) : NULL, fname))
      return NULL;
    return e;
  }
  if (!strcmp(op, "$contains")) {
    if (!(e = mk(c, QOP_CONTAINS, op)) || !encode(c, v, &e->mp, &e->mplen)) return NULL;
    if (json_is_string(v)) {
      e->slen = (uint32_t)json_string_length(v);
      if (!(e->s = gdb_qarena_strndup(c->a, json_string_value(v), e->slen))) return oom(c);
    }
    return e;
  }
  if (!strcmp(op, "$size")) {
    int64_t size;
    if (!whole(v, 0, 4294967295.0, &size))
      return perr(c, "$size on \"%s\" needs a non-negative integer (got %s)", fname, kind_name(v));
    if (!(e = mk(c, QOP_SIZE, op))) return NULL;
    e->n = size;
    return e;
  }
  if (!strcmp(op, "$elemMatch")) {
    if (!json_is_object(v) || !json_object_size(v))
      return perr(c, "$elemMatch on \"%s\" needs a non-empty object of conditions", fname);
    if (!(e = mk(c, QOP_ELEMMATCH, op))) return NULL;
    bool value_ops = true;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
      if (k[0] != '$' || !strcmp(k, "$and") || !strcmp(k, "$or") || !strcmp(k, "$nor"))
        value_ops = false;
    }
    if (value_ops) return parse_ops(c, e, v, fname, depth + 1) ? e : NULL;
    e->flags |= QF_QUERY;
    if (!kids_alloc(c, e, 1)) return NULL;
    if (!(e->kids[0] = parse_query(c, v, depth + 1, UINT32_MAX, false))) return NULL;
    e->nkids = 1;
    return e;
  }
  if (!strcmp(op, "$not")) {
    if (!json_is_object(v) || !json_object_size(v) ||
        json_object_iter_key(json_object_iter((json_t *)v))[0] != '$')
      return perr(c, "$not on \"%s\" needs an object of operators, such as {\"$not\":{\"$gt\":5}}",
                  fname);
    if (!(e = mk(c, QOP_VNOT, op))) return NULL;
    return parse_ops(c, e, v, fname, depth + 1) ? e : NULL;
  }
  if (!strcmp(op, "$near")) {
    static const char *const keys[] = {"lat", "lng", "radius", NULL};
    if (!json_is_object(v))
      return perr(c, "$near on \"%s\" needs {\"lat\":…,\"lng\":…,\"radius\":meters}", fname);
    if (!(e = mk(c, QOP_NEAR, op)) || !geo_keys(c, v, keys, op, fname) ||
        !geo_num(c, v, "lat", -90, 90, &e->geo[0], op, fname) ||
        !geo_num(c, v, "lng", -180, 180, &e->geo[1], op, fname) ||
        !geo_num(c, v, "radius", 0, 1e8, &e->geo[2], op, fname))
      return NULL;
    return e;
  }
  if (!strcmp(op, "$bbox")) {
    static const char *const keys[] = {"minLat", "minLng", "maxLat", "maxLng", NULL};
    if (!json_is_object(v))
      return perr(c, "$bbox on \"%s\" needs {\"minLat\",\"minLng\",\"maxLat\",\"maxLng\"}", fname);
    if (!(e = mk(c, QOP_BBOX, op)) || !geo_keys(c, v, keys, op, fname) ||
        !geo_num(c, v, "minLat", -90, 90, &e->geo[0], op, fname) ||
        !geo_num(c, v, "minLng", -180, 180, &e->geo[1], op, fname) ||
        !geo_num(c, v, "maxLat", -90, 90, &e->geo[2], op, fname) ||
        !geo_num(c, v, "maxLng", -180, 180, &e->geo[3], op, fname))
      return NULL;
    if (e->geo[0] > e->geo[2]) return perr(c, "$bbox on \"%s\": minLat is above maxLat", fname);
    return e;
  }
  if (!strcmp(op, "$mod")) {
    json_t *d = json_array_get(v, 0), *r = json_array_get(v, 1);
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(d) || !json_is_number(r) ||
        json_number_value(d) == 0)
      return perr(c, "$mod on \"%s\" needs [divisor, remainder] with a non-zero divisor", fname);
    if (!(e = mk(c, QOP_MOD, op))) return NULL;
    e->geo[0] = trunc(json_number_value(d));
    e->geo[1] = trunc(json_number_value(r));
    if (e->geo[0] == 0) return perr(c, "$mod on \"%s\": the divisor truncates to 0", fname);
    return e;
  }
  if (!strcmp(op, "$edge"))
    return perr(c,
                "$edge may only appear at the top level of a query or of an $edge sub-query (found "
                "on \"%s\")",
                fname);
  if (!strcmp(op, "$and") || !strcmp(op, "$or") || !strcmp(op, "$nor"))
    return perr(
        c,
        "%s is not a field operator: use it beside fields, as in {\"%s\":[…]}, not inside \"%s\"",
        op, op, fname);
  if (!strcmp(op, "$depth"))
    return perr(c, "$depth belongs inside $edge, as in {\"$edge\":{\"$depth\":2,…}}");
  char where[200];
  snprintf(where, sizeof where, " on \"%.150s\"", fname);
  return unknown(c, "operator", op, where, gdb_query_operators);
}

/* The operators of {"$gt":1,"$lt":5} as kids of e (a FIELD, VNOT or ELEMMATCH). */
static bool parse_ops(pctx *c, qexpr *e, const json_t *ops, const char *fname, int depth) {
  if (depth > QUERY_MAX_DEPTH)
    return perr(c, "the query nests deeper than %d levels", QUERY_MAX_DEPTH), false;
  size_t n = json_object_size(ops);
  if (!kids_alloc(c, e, n)) return false;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)ops, k, v) {
    if (k[0] != '$') {
      perr(c,
           "the conditions on \"%s\" mix operators and field names (\"%s\"): write {\"%s.%s\":…} "
           "or use only operators",
           fname, k, fname, k);
      return false;
    }
    if (!strcmp(k, "$options")) {
      if (!json_object_get(ops, "$regex"))
        return perr(c, "$options on \"%s\" needs a $regex beside it", fname), false;
      continue;
    }
    qexpr *x = parse_op(c, k, v, ops, fname, depth);
    if (!x) return false;
    e->kids[e->nkids++] = x;
  }
  return true;
}

/* Marks the FIELD shapes query_eval.c runs on a fast path. */
static qexpr *set_fast(qexpr *f) {
  if (!f || f->path->nseg != 1 || f->nkids != 1) return f;
  const qexpr *k = f->kids[0];
  if (k->op == QOP_EQ && !k->set.has_null && k->mplen > 0) {
    f->fast = QFAST_EQ;
  } else if (k->op == QOP_CMP && (k->flags & QF_HAS_LO ? k->lo.cls : k->hi.cls) == QCLS_NUM) {
    f->fast = QFAST_NUM;
    double d;
    if (k->flags & QF_HAS_LO) {
      memcpy(&d, &(uint64_t){k->lo.prefix >> 63 ? k->lo.prefix & ~(1ull << 63) : ~k->lo.prefix}, 8);
      f->dlo = d;
    }
    if (k->flags & QF_HAS_HI) {
      memcpy(&d, &(uint64_t){k->hi.prefix >> 63 ? k->hi.prefix & ~(1ull << 63) : ~k->hi.prefix}, 8);
      f->dhi = d;
    }
  }
  return f;
}

static qexpr *parse_field(pctx *c, const char *name, const json_t *v, int depth) {
  qexpr *f = mk(c, QOP_FIELD, name);
  if (!f) return NULL;
  int err;
  if (!(f->path = gdb_qpath_compile(c->a, name, c->verb, &err))) return failed(c, err);
  if (json_is_object(v) && json_object_size(v) &&
      json_object_iter_key(json_object_iter((json_t *)v))[0] == '$') {
    /* an operator object, unless it is a blob {"$bin": …} compared for equality */
    if (!(json_object_size(v) == 1 && json_object_get(v, "$bin")))
      return parse_ops(c, f, v, name, depth) ? set_fast(f) : NULL;
  }
  const char *k;
  json_t *x;
  if (json_is_object(v)) {
    json_object_foreach((json_t *)v, k, x) {
      if (k[0] == '$' && strcmp(k, "$bin"))
        return perr(c,
                    "the conditions on \"%s\" mix field names and operators (\"%s\"): put "
                    "operators first and alone",
                    name, k);
    }
  }
  qexpr *e = mk(c, QOP_EQ, "$eq");
  if (!e || !kids_alloc(c, f, 1) || !encode(c, v, &e->mp, &e->mplen)) return NULL;
  e->set.has_null = json_is_null(v);
  f->kids[f->nkids++] = e;
  return set_fast(f);
}

static bool add_kid(pctx *c, qexpr *and, qexpr *k, size_t *cap) {
  if (and->nkids == *cap) {
    size_t ncap = *cap * 2 + 4;
    qexpr **p = gdb_qarena_alloc(c->a, ncap * sizeof *p);
    if (!p) return oom(c), false;
    if (and->nkids) memcpy(p, and->kids, and->nkids * sizeof *p);
    and->kids = p;
    *cap = ncap;
  }
  and->kids[ and->nkids++] = k;
  return true;
}

static bool parse_edge(pctx *c, const json_t *v, int depth, uint32_t stage) {
  if (stage == UINT32_MAX)
    return perr(c, "$edge may only appear at the top level of a query or of an $edge sub-query"),
           false;
  if (stage + 1 >= QUERY_MAX_STAGES)
    return perr(c, "$edge nests deeper than %d levels", QUERY_MAX_STAGES - 1), false;
  if (!json_is_object(v))
    return perr(c, "$edge needs a sub-query object, such as {\"$edge\":{\"type\":\"File\"}}"),
           false;
  if (c->q->stages[stage + 1].filter)
    return perr(c, "a query has at most one $edge at each level"), false;
  json_t *d = json_object_get(v, "$depth");
  if (d) {
    int64_t dmax;
    if (!whole(d, 1, 4294967295.0, &dmax))
      return perr(c,
                  "$depth needs a positive integer (the most edges to follow from a start node)"),
             false;
    c->q->stages[stage + 1].depth = (uint32_t)dmax;
  }
  qexpr *sub = parse_query(c, v, depth + 1, stage + 1, true);
  if (!sub) return false;
  c->q->stages[stage + 1].filter = sub;
  if (c->q->nstages < stage + 2) c->q->nstages = stage + 2;
  return true;
}

/* A query object: the AND of its entries (an $and's parts are flattened into it). stage is
 * the stage this query selects for ($edge allowed), or UINT32_MAX inside logic operators. */
static qexpr *parse_query(pctx *c, const json_t *obj, int depth, uint32_t stage, bool in_edge) {
  if (depth > QUERY_MAX_DEPTH)
    return perr(c, "the query nests deeper than %d levels", QUERY_MAX_DEPTH);
  if (!json_is_object(obj))
    return perr(c, "a query must be an object of conditions such as {\"type\":\"user\"} (got %s)",
                kind_name(obj));
  qexpr *and = mk(c, QOP_AND, "$and");
  if (!and) return NULL;
  size_t cap = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    if (k[0] != '$') {
      qexpr *f = parse_field(c, k, v, depth);
      if (!f || !add_kid(c, and, f, &cap)) return NULL;
      continue;
    }
    if (!strcmp(k, "$and") || !strcmp(k, "$or") || !strcmp(k, "$nor")) {
      if (!json_is_array(v) || !json_array_size(v))
        return perr(c,
                    "%s needs a non-empty array of queries, such as {\"%s\":[{\"a\":1},{\"b\":2}]}",
                    k, k);
      qexpr *l = mk(c, k[1] == 'a' ? QOP_AND : k[1] == 'o' ? QOP_OR : QOP_NOR, k);
      if (!l || !kids_alloc(c, l, json_array_size(v))) return NULL;
      for (size_t i = 0; i < json_array_size(v); i++) {
        qexpr *x = parse_query(c, json_array_get(v, i), depth + 1, UINT32_MAX, false);
        if (!x) return NULL;
        l->kids[l->nkids++] = x;
      }
      if (l->op == QOP_AND) {
        for (uint32_t i = 0; i < l->nkids; i++)
          if (!add_kid(c, and, l->kids[i], &cap)) return NULL;
      } else if (!add_kid(c, and, l, &cap)) {
        return NULL;
      }
    } else if (!strcmp(k, "$not")) {
      qexpr *n = mk(c, QOP_NOT, k), *x;
      if (!n || !kids_alloc(c, n, 1) || !(x = parse_query(c, v, depth + 1, UINT32_MAX, false)))
        return NULL;
      n->kids[n->nkids++] = x;
      if (!add_kid(c, and, n, &cap)) return NULL;
    } else if (!strcmp(k, "$edge")) {
      if (!parse_edge(c, v, depth, stage)) return NULL;
    } else if (!strcmp(k, "$depth") && in_edge) {
      continue; /* read by parse_edge */
    } else if (!strcmp(k, "$depth")) {
      return perr(c, "$depth belongs inside $edge, as in {\"$edge\":{\"$depth\":2,…}}");
    } else {
      for (size_t i = 0; gdb_query_operators[i]; i++) {
        if (!strcmp(k, gdb_query_operators[i]))
          return perr(c, "%s needs a field: write {\"FIELD\":{\"%s\":…}}", k, k);
      }
      const char *s = gdb_query_suggest(k, QUERY_OPS);
      if (!s) s = gdb_query_suggest(k, gdb_query_operators);
      if (s) return perr(c, "unknown operator \"%s\" in query (did you mean \"%s\"?)", k, s);
      return perr(
          c,
          "unknown operator \"%s\" in query (query-level operators: $and, $or, $nor, $not, $edge)",
          k);
    }
  }
  if (and->nkids == 0) and->op = QOP_TRUE;
  return and;
}

/* ── options ── */

static int compile(pctx *c, const json_t *o) {
  gdb_query *q = c->q;
  const char *k;
  json_t *v;
  if (!json_is_object(o))
    return perr(c, "options must be a JSON object such as {\"query\":{\"type\":\"user\"}}"),
           GDB_EQUERY;
  json_object_foreach((json_t *)o, k, v) {
    if (!strcmp(k, "query")) {
      if (!json_is_object(v))
        return perr(c, "\"query\" must be an object of conditions such as {\"type\":\"user\"}"),
               GDB_EQUERY;
    } else if (!strcmp(k, "field")) {
      if (!json_is_string(v))
        return perr(c, "\"field\" must be the name of the field to sort by (a string)"), GDB_EQUERY;
      int err;
      if (!(q->sort = gdb_qpath_compile(c->a, json_string_value(v), c->verb, &err)))
        return failed(c, err), c->code;
    } else if (!strcmp(k, "order")) {
      const char *s = json_string_value(v);
      if (!s || (strcmp(s, "asc") && strcmp(s, "desc")))
        return perr(c, "\"order\" must be \"asc\" or \"desc\""), GDB_EQUERY;
      q->desc = s[0] == 'd';
    } else if (!strcmp(k, "$limit")) {
      double d = json_number_value(v);
      if (!json_is_number(v) || !(d >= 0 && d <= 9007199254740992.0) || d != floor(d))
        return perr(c, "\"$limit\" must be a non-negative integer"), GDB_EQUERY;
      q->limit = (int64_t)d;
    } else if (!strcmp(k, "$after") || !strcmp(k, "$before")) {
      const char *s = json_string_value(v);
      if (!s || !*s || json_string_length(v) > GDB_ID_MAX || strlen(s) != json_string_length(v))
        return perr(c, "\"%s\" must be a node id (the cursor: results continue %s it)", k,
                    k[1] == 'a' ? "after" : "before"),
               GDB_EQUERY;
      const char **dst = k[1] == 'a' ? &q->after : &q->before;
      if (!(*dst = gdb_qarena_strndup(c->a, s, strlen(s)))) return oom(c), GDB_ENOMEM;
    } else if (!strcmp(k, "realtime") || !strcmp(k, "strictMode")) {
      if (!json_is_boolean(v)) return perr(c, "\"%s\" must be true or false", k), GDB_EQUERY;
      if (k[0] == 'r')
        q->realtime = json_is_true(v);
      else
        q->strict = json_is_true(v);
    } else {
      unknown(c, "option", k, "", OPTIONS);
      return GDB_EQUERY;
    }
  }
  json_t *query = json_object_get(o, "query");
  q->stages[0].filter = query ? parse_query(c, query, 0, 0, false) : mk(c, QOP_TRUE, "");
  return c->failed ? c->code : GDB_OK;
}

int gdb_query_compile(const char *options, const char *verb, gdb_query **out) {
  *out = NULL;
  qarena *a = gdb_qarena_new();
  gdb_query *q = a ? gdb_qarena_alloc(a, sizeof *q) : NULL;
  qstage *st = q ? gdb_qarena_alloc(a, QUERY_MAX_STAGES * sizeof *st) : NULL;
  if (!st) {
    gdb_qarena_free(a);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  q->arena = a;
  q->stages = st;
  q->nstages = 1;
  q->limit = -1;
  q->realtime = true;
  pctx c = {.a = a, .verb = verb, .q = q};
  int rc;
  if (!options || !*options) {
    q->stages[0].filter = mk(&c, QOP_TRUE, "");
    rc = q->stages[0].filter ? GDB_OK : GDB_ENOMEM;
  } else {
    json_t *o = gdb_json_parse(options, strlen(options), "options");
    if (!o) {
      rc = gdb_fail(GDB_EQUERY, "%s: %s", verb, gdb_errmsg());
    } else {
      rc = compile(&c, o);
      json_decref(o);
      if (rc == GDB_OK && c.failed) rc = c.code;
    }
  }
  if (rc) {
    gdb_qarena_free(a);
    return rc;
  }
  *out = q;
  return GDB_OK;
}

void gdb_query_free(gdb_query *q) {
  if (q) gdb_qarena_free(q->arena);
}
