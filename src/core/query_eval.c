/*
 * query_eval.c — evaluating a compiled filter on a stored value, in place.
 *
 * The value is read where it is stored (canonical MessagePack); nothing is decoded into a
 * tree and nothing is allocated per node (the scratch stack of values reached through arrays
 * grows once and is reused). A field condition first resolves its dot path to the values it
 * reaches — one, usually; several when the path crosses an array of objects; none when the
 * field is missing — then each predicate must hold for one of them, and predicates marked
 * "any element" in query.h also hold for an array whose element satisfies them (MongoDB's
 * rules). Negations ($ne, $nin, $not) hold when the positive form holds for none.
 */
#include "core/error.h"
#include "core/mp.h"
#include "core/query.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void gdb_qeval_init(qeval *c, const gdb_query *q) {
  memset(c, 0, sizeof *c);
  c->query = q;
  c->strict = q->strict;
}

void gdb_qeval_free(qeval *c) {
  free(c->vals);
  c->vals = NULL;
  c->cap = c->nvals = 0;
}

/* ── paths ── */

typedef struct each_ctx {
  gdb_qvalue_fn fn;
  void *data;
} each_ctx;

/* Walks path from segment i at p; calls fn for each value reached. True when fn stopped. */
static bool walk(const qpath *path, uint32_t i, const uint8_t *p, const uint8_t *end,
                 const each_ctx *x) {
  for (; i < path->nseg; i++) {
    const qseg *s = &path->seg[i];
    uint32_t n;
    const uint8_t *q;
    if (gdb_qmp_container(p, end, MP_MAP, &n)) {
      if (!(p = gdb_qmp_find(p, end, s->s, s->len))) return false;
      continue;
    }
    if (!(q = gdb_qmp_container(p, end, MP_ARRAY, &n))) return false;
    if (s->idx >= 0) {
      if ((uint32_t)s->idx >= n) return false;
      for (int32_t j = 0; j < s->idx && q; j++) q = gdb_qmp_skip(q, end);
      if (!q) return false;
      p = q;
      continue;
    }
    /* a name on an array: the field of each element that is an object */
    for (uint32_t j = 0; j < n && q; j++) {
      uint32_t m;
      if (gdb_qmp_container(q, end, MP_MAP, &m) && walk(path, i, q, end, x)) return true;
      q = gdb_qmp_skip(q, end);
    }
    return false;
  }
  return x->fn(p, end, x->data);
}

bool gdb_qpath_each(const qpath *path, const uint8_t *v, const uint8_t *end, gdb_qvalue_fn fn,
                    void *data) {
  each_ctx x = {fn, data};
  return walk(path, 0, v, end, &x);
}

const uint8_t *gdb_qpath_single(const qpath *path, const uint8_t *p, const uint8_t *end) {
  for (uint32_t i = 0; i < path->nseg && p; i++) {
    const qseg *s = &path->seg[i];
    uint32_t n;
    const uint8_t *q;
    if (gdb_qmp_container(p, end, MP_MAP, &n)) {
      p = gdb_qmp_find(p, end, s->s, s->len);
    } else if (s->idx >= 0 && (q = gdb_qmp_container(p, end, MP_ARRAY, &n)) &&
               (uint32_t)s->idx < n) {
      for (int32_t j = 0; j < s->idx && q; j++) q = gdb_qmp_skip(q, end);
      p = q;
    } else {
      return NULL;
    }
  }
  return p;
}

static bool push_val(const uint8_t *p, const uint8_t *end, void *data) {
  (void)end;
  qeval *c = data;
  if (c->nvals == c->cap) {
    uint32_t cap = c->cap ? c->cap * 2 : 32;
    const uint8_t **v = realloc(c->vals, cap * sizeof *v);
    if (!v) {
      c->err = GDB_ENOMEM;
      return true;
    }
    c->vals = v;
    c->cap = cap;
  }
  c->vals[c->nvals++] = p;
  return false;
}

/* The values one field condition sees: `one` for the common single value, else a slice of
 * the scratch stack (by index: nested evaluation may move the stack). */
typedef struct vref {
  const uint8_t *one;
  uint32_t base, n;
} vref;

static inline const uint8_t *val_at(const qeval *c, const vref *r, uint32_t i) {
  return r->one ? r->one : c->vals[r->base + i];
}

/* ── predicates on one value ── */

static inline bool eq_bytes(const uint8_t *p, const uint8_t *end, const uint8_t *mp, uint32_t len) {
  /* canonical encodings are unique and prefix-free: a value equals the operand exactly when
   * its bytes start with the operand's */
  return (size_t)(end - p) >= len && gdb_qmp_eq(p, mp, len);
}

static bool in_set(const qset *s, const uint8_t *p, const uint8_t *end) {
  for (uint32_t i = 0; i < s->n; i++)
    if (eq_bytes(p, end, s->v[i], s->len[i])) return true;
  return false;
}

static bool cmp_ok(const qexpr *e, const uint8_t *p, const uint8_t *end) {
  const gdb_skey *b = e->flags & QF_HAS_LO ? &e->lo : &e->hi;
  gdb_skey k;
  if (b->cls == QCLS_NUM) { /* the common case, without building a key */
    double d;
    if (!gdb_qmp_num(p, end, &d)) return false;
    if (d == 0) d = 0;
    uint64_t u;
    memcpy(&u, &d, 8);
    k.cls = QCLS_NUM;
    k.prefix = u >> 63 ? ~u : u | (1ull << 63);
  } else if (!gdb_skey_of(p, end, &k) || k.cls != b->cls || (b->date && !k.date)) {
    return false;
  }
  if (k.cls != b->cls) return false;
  if (e->flags & QF_HAS_LO) {
    int r = gdb_skey_cmp(&k, &e->lo);
    if (r < 0 || (r == 0 && (e->flags & QF_LO_OPEN))) return false;
  }
  if (e->flags & QF_HAS_HI) {
    int r = gdb_skey_cmp(&k, &e->hi);
    if (r > 0 || (r == 0 && (e->flags & QF_HI_OPEN))) return false;
  }
  return true;
}

static uint32_t type_bits(const uint8_t *p, const uint8_t *end) {
  uint8_t b = *p;
  double d;
  const char *s;
  uint32_t len, n;
  char norm[GDB_DATE_NORM_LEN + 1];
  if (b == 0xc0) return QT_NULL;
  if (b == 0xc2 || b == 0xc3) return QT_BOOL;
  if (gdb_qmp_num(p, end, &d)) return QT_NUMBER | (d == floor(d) ? QT_INTEGER : 0);
  if (gdb_qmp_str(p, end, &s, &len)) return QT_STRING | (gdb_date_norm(s, len, norm) ? QT_DATE : 0);
  if (gdb_qmp_container(p, end, MP_MAP, &n)) return QT_OBJECT;
  if (gdb_qmp_container(p, end, MP_ARRAY, &n)) return QT_ARRAY;
  if (b == 0xc4 || b == 0xc5 || b == 0xc6) return QT_BINARY;
  return 0;
}

typedef struct words_seen {
  const qexpr *e;
  uint64_t found, all;
} words_seen;

static bool saw_word(const char *w, size_t len, void *data) {
  words_seen *x = data;
  for (uint32_t i = 0; i < x->e->nwords; i++)
    if (x->e->wlens[i] == len && !memcmp(x->e->words[i], w, len)) x->found |= 1ull << i;
  return x->found == x->all;
}

static bool text_ok(const qexpr *e, const char *s, uint32_t len) {
  words_seen x = {e, 0, e->nwords == 64 ? ~0ull : (1ull << e->nwords) - 1};
  return gdb_text_words(s, len, saw_word, &x);
}

static bool regex_ok(const gdb_query *q, const qexpr *e, const char *s, uint32_t len) {
  int rc = pcre2_match(e->re, (PCRE2_SPTR)s, len, 0, 0, e->md, q ? q->mctx : NULL);
  return rc >= 0;
}

/* One value, no array expansion. */
static bool scalar_ok(qeval *c, const qexpr *e, const uint8_t *p, const uint8_t *end) {
  const char *s;
  uint32_t len;
  double lat, lng, d;
  switch (e->op) {
  case QOP_EQ: return eq_bytes(p, end, e->mp, e->mplen);
  case QOP_IN: return in_set(&e->set, p, end);
  case QOP_CMP: return cmp_ok(e, p, end);
  case QOP_TYPE: return (type_bits(p, end) & e->types) != 0;
  case QOP_TEXT: return gdb_qmp_str(p, end, &s, &len) && text_ok(e, s, len);
  case QOP_LIKE:
    return gdb_qmp_str(p, end, &s, &len) && gdb_like_match(e->s, e->slen, s, len, e->flags & QF_CI);
  case QOP_REGEX: return gdb_qmp_str(p, end, &s, &len) && regex_ok(c->query, e, s, len);
  case QOP_STARTS:
    return gdb_qmp_str(p, end, &s, &len) && len >= e->slen && !memcmp(s, e->s, e->slen);
  case QOP_ENDS:
    return gdb_qmp_str(p, end, &s, &len) && len >= e->slen &&
           !memcmp(s + len - e->slen, e->s, e->slen);
  case QOP_NEAR:
    return gdb_geo_point(p, end, &lat, &lng) &&
           gdb_haversine_m(e->geo[0], e->geo[1], lat, lng) <= e->geo[2];
  case QOP_BBOX:
    if (!gdb_geo_point(p, end, &lat, &lng) || lat < e->geo[0] || lat > e->geo[2]) return false;
    return e->geo[1] <= e->geo[3] ? lng >= e->geo[1] && lng <= e->geo[3]
                                  : lng >= e->geo[1] || lng <= e->geo[3]; /* across 180° */
  case QOP_MOD: return gdb_qmp_num(p, end, &d) && fmod(trunc(d), e->geo[0]) == e->geo[1];
  default: return false;
  }
}

static bool vset(qeval *c, const qexpr *e, const vref *r, const uint8_t *end);

/* One value, with the array rules. */
static bool value_ok(qeval *c, const qexpr *e, const uint8_t *p, const uint8_t *end) {
  uint32_t n;
  const uint8_t *q;
  const char *s;
  uint32_t len;
  switch (e->op) {
  case QOP_CONTAINS:
    if (e->s && gdb_qmp_str(p, end, &s, &len))
      return e->slen == 0 || (len >= e->slen && memmem(s, len, e->s, e->slen));
    if (!(q = gdb_qmp_container(p, end, MP_ARRAY, &n))) return false;
    for (uint32_t i = 0; i < n && q; i++, q = gdb_qmp_skip(q, end))
      if (eq_bytes(q, end, e->mp, e->mplen)) return true;
    return false;
  case QOP_SIZE: return gdb_qmp_container(p, end, MP_ARRAY, &n) && (int64_t)n == e->n;
  case QOP_ALL: {
    if (!e->set.n) return false;
    if (!(q = gdb_qmp_container(p, end, MP_ARRAY, &n))) {
      for (uint32_t i = 0; i < e->set.n; i++)
        if (!eq_bytes(p, end, e->set.v[i], e->set.len[i])) return false;
      return true;
    }
    for (uint32_t i = 0; i < e->set.n; i++) {
      const uint8_t *x = q;
      bool found = false;
      for (uint32_t j = 0; j < n && x && !found; j++, x = gdb_qmp_skip(x, end))
        found = eq_bytes(x, end, e->set.v[i], e->set.len[i]);
      if (!found) return false;
    }
    return true;
  }
  case QOP_ELEMMATCH:
    if (!(q = gdb_qmp_container(p, end, MP_ARRAY, &n))) return false;
    for (uint32_t i = 0; i < n && q; i++) {
      const uint8_t *next = gdb_qmp_skip(q, end);
      if (!next) return false;
      bool ok;
      if (e->flags & QF_QUERY) {
        uint32_t m;
        ok = gdb_qmp_container(q, end, MP_MAP, &m) &&
             gdb_qeval_match(c, e->kids[0], q, (uint32_t)(next - q));
      } else {
        vref one = {.one = q, .n = 1};
        ok = true;
        for (uint32_t k = 0; k < e->nkids && ok; k++) ok = vset(c, e->kids[k], &one, end);
      }
      if (ok) return true;
      q = next;
    }
    return false;
  default:
    if (scalar_ok(c, e, p, end)) return true;
    if (!(q = gdb_qmp_container(p, end, MP_ARRAY, &n))) return false;
    for (uint32_t i = 0; i < n && q; i++, q = gdb_qmp_skip(q, end))
      if (scalar_ok(c, e, q, end)) return true;
    return false;
  }
}

/* A predicate over the values a field reached. */
static bool vset(qeval *c, const qexpr *e, const vref *r, const uint8_t *end) {
  switch (e->op) {
  case QOP_EXISTS: return (r->n > 0) == (e->n != 0);
  case QOP_VNOT:
    for (uint32_t k = 0; k < e->nkids; k++)
      if (!vset(c, e->kids[k], r, end)) return true;
    return false;
  case QOP_EQ:
  case QOP_IN:
    if (r->n == 0) return e->set.has_null; /* null matches a missing field */
    /* fall through */
  default:
    for (uint32_t i = 0; i < r->n; i++)
      if (value_ok(c, e, val_at(c, r, i), end)) return true;
    return false;
  }
}

static bool exists_only(const qexpr *f) {
  for (uint32_t k = 0; k < f->nkids; k++)
    if (f->kids[k]->op != QOP_EXISTS) return false;
  return true;
}

static bool is_array(const uint8_t *p) { return (*p & 0xf0) == 0x90 || *p == 0xdc || *p == 0xdd; }

static bool strict_missing(qeval *c, const qexpr *f) {
  if (c->strict && !c->err) {
    c->err = GDB_EQUERY;
    c->err_path = f->path->text;
  }
  return false;
}

static bool field_ok(qeval *c, const qexpr *f, const uint8_t *v, const uint8_t *end) {
  vref r = {0};
  uint32_t base = c->nvals;
  const qpath *path = f->path;
  if (f->fast) {
    const uint8_t *p = gdb_qmp_find(v, end, path->seg[0].s, path->seg[0].len);
    if (!p) return strict_missing(c, f);
    const qexpr *k = f->kids[0];
    if (f->fast == QFAST_EQ) {
      if ((size_t)(end - p) >= k->mplen && p[0] == k->mp[0] &&
          gdb_qmp_eq(p + 1, k->mp + 1, k->mplen - 1))
        return true;
    } else {
      double d;
      if (gdb_qmp_num(p, end, &d)) {
        if (k->flags & QF_HAS_LO && (k->flags & QF_LO_OPEN ? !(d > f->dlo) : !(d >= f->dlo)))
          return false;
        if (k->flags & QF_HAS_HI && (k->flags & QF_HI_OPEN ? !(d < f->dhi) : !(d <= f->dhi)))
          return false;
        return true;
      }
    }
    if (!is_array(p)) return false;
    r.one = p; /* an array: its elements may match (generic path) */
    r.n = 1;
  } else if (path->nseg == 1) {
    r.one = gdb_qmp_find(v, end, path->seg[0].s, path->seg[0].len);
    r.n = r.one != NULL;
  } else {
    r.base = c->nvals;
    each_ctx x = {push_val, c};
    walk(path, 0, v, end, &x);
    r.n = c->nvals - r.base;
    if (r.n == 1) r.one = c->vals[r.base];
  }
  if (r.n == 0 && c->strict && !c->err && !exists_only(f)) {
    c->err = GDB_EQUERY;
    c->err_path = path->text;
  }
  bool ok = true;
  for (uint32_t k = 0; k < f->nkids && ok; k++) ok = vset(c, f->kids[k], &r, end);
  c->nvals = base;
  return ok;
}

static bool eval(qeval *c, const qexpr *e, const uint8_t *v, const uint8_t *end) {
  switch (e->op) {
  case QOP_TRUE: return true;
  case QOP_FIELD: return field_ok(c, e, v, end);
  case QOP_AND:
    for (uint32_t k = 0; k < e->nkids; k++) {
      bool skip = false;
      for (uint32_t i = 0; i < c->nskip; i++) skip |= e->kids[k] == c->skip[i];
      if (!skip && !eval(c, e->kids[k], v, end)) return false;
    }
    return true;
  case QOP_OR:
    for (uint32_t k = 0; k < e->nkids; k++)
      if (eval(c, e->kids[k], v, end)) return true;
    return false;
  case QOP_NOR:
    for (uint32_t k = 0; k < e->nkids; k++)
      if (eval(c, e->kids[k], v, end)) return false;
    return true;
  case QOP_NOT: return !eval(c, e->kids[0], v, end);
  default: return false;
  }
}

bool gdb_qeval_match(qeval *c, const qexpr *e, const uint8_t *v, uint32_t len) {
  return eval(c, e, v, v + len);
}
