/*
 * query.h — the query engine's internal interface: compiled queries, sort keys, evaluation,
 * planning and execution. Shared by query_parse.c (JSON options -> compiled query),
 * query_value.c (ordering, dates, text, patterns, geometry), query_eval.c (filters evaluated
 * in place on stored MessagePack), query_plan.c (access paths, sort, cursors, limit, $edge),
 * the indexes (index*.c) and subscriptions (subscribe*.c).
 *
 * A query is compiled once: operands are pre-encoded as canonical MessagePack (equality is a
 * memcmp, because canonical encodings are unique and prefix-free), dot paths pre-split,
 * numbers and strings pre-decoded into sort keys, regular expressions compiled with PCRE2's
 * JIT, $text operands tokenized. Evaluating a node allocates nothing. Everything a compiled
 * query owns lives in one arena, freed with it.
 *
 * The exact comparison rules are documented for users in docs/query.md.
 */
#ifndef GDB_CORE_QUERY_H
#define GDB_CORE_QUERY_H

#include "core/buf.h"
#include "core/graph.h"
#include "core/oset.h"
#include "core/qmp.h"
#include "genosdb.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ── ordering ──
 * Classes, in sort order. A missing field sorts (and equals null) as null. Comparisons
 * ($gt, $lt, $between, ...) only match values of the operand's class ("type bracketing"). */
enum {
  QCLS_NULL = 0,
  QCLS_NUM = 1,
  QCLS_STR = 2,
  QCLS_MAP = 3,
  QCLS_ARR = 4,
  QCLS_BIN = 5,
  QCLS_BOOL = 6,
};

/* The sort key of one value. Numbers are ordered by their double value (exact: canonical
 * integers are at most 2^53); strings bytewise (code-point order), except that strings
 * holding an ISO-8601 date are ordered by their UTC normal form (see gdb_date_norm), so dates
 * sort chronologically; objects, arrays and blobs by their canonical bytes. */
typedef struct gdb_skey {
  uint8_t cls;
  bool date;        /* a string that is an ISO-8601 date */
  bool instant;     /* a date bound of a comparison: equal to every spelling of its instant */
  uint32_t len;     /* bytes at p */
  uint64_t prefix;  /* order-preserving summary: a whole number, or a string's first 8 bytes */
  const uint8_t *p; /* string bytes, or canonical bytes of objects, arrays and blobs */
} gdb_skey;

/* The key of the MessagePack value at [p, end); p NULL gives the key of a missing field.
 * False when the bytes are malformed. */
bool gdb_skey_of(const uint8_t *p, const uint8_t *end, gdb_skey *k);
int gdb_skey_cmp(const gdb_skey *a, const gdb_skey *b);

/* The UTC normal form "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (30 bytes + NUL) of an ISO-8601 date:
 * YYYY-MM-DD, optionally followed by T and HH:MM[:SS[.fraction]] and a zone (Z, +HH:MM,
 * +HHMM, +HH; none means UTC). False when s is not such a date. */
#define GDB_DATE_NORM_LEN 30
bool gdb_date_norm(const char *s, size_t len, char out[GDB_DATE_NORM_LEN + 1]);

/* ── text ──
 * Words for $text: runs of letters and digits, compatibility-decomposed with accents
 * (combining marks) dropped, lower-cased; apostrophes inside words are dropped ("don't" is
 * "dont"); everything else separates words. Words are cut at GDB_TEXT_WORD_MAX bytes. */
#define GDB_TEXT_WORD_MAX 64
/* Calls fn for each word of s until it returns true (then returns true). */
typedef bool (*gdb_word_fn)(const char *w, size_t len, void *data);
bool gdb_text_words(const char *s, size_t len, gdb_word_fn fn, void *data);

/* SQL LIKE: % any run, _ one character, \ escapes the next; ci folds case (Unicode). */
bool gdb_like_match(const char *pat, size_t plen, const char *s, size_t slen, bool ci);

/* Great-circle distance in meters (haversine, mean Earth radius 6,371,008.8 m). */
double gdb_haversine_m(double lat1, double lng1, double lat2, double lng2);
/* lat/lng of a {lat, lng} object (numbers, in range); false otherwise. */
bool gdb_geo_point(const uint8_t *p, const uint8_t *end, double *lat, double *lng);

/* MessagePack readers of the hot path: gdb_qmp_skip, gdb_qmp_find, gdb_qmp_container,
 * gdb_qmp_num, gdb_qmp_str (core/qmp.h). */

/* ── compiled queries ── */

typedef struct qarena qarena;
/* Zeroed memory that lives as long as the arena; NULL on exhaustion. */
void *gdb_qarena_alloc(qarena *a, size_t n);
char *gdb_qarena_strndup(qarena *a, const char *s, size_t n);
/* Calls fn(p) when the arena is freed. False on allocation failure (fn not registered). */
bool gdb_qarena_on_free(qarena *a, void (*fn)(void *), void *p);

typedef struct qseg {
  const char *s;
  uint32_t len;
  int32_t idx; /* >= 0 when the segment is an array index (digits) */
} qseg;

typedef struct qpath {
  const char *text; /* the dot path as written */
  uint32_t nseg;
  qseg seg[];
} qpath;

typedef enum qop {
  /* over queries */
  QOP_TRUE,
  QOP_AND,
  QOP_OR,
  QOP_NOR,
  QOP_NOT,
  QOP_FIELD, /* path + value predicates (kids), all of which must hold */
  /* value predicates: each matches a value, or (marked *) any element of an array value */
  QOP_EQ,        /* * canonical bytes equal */
  QOP_CMP,       /* * $gt $gte $lt $lte $between: bounds lo/hi on the operand's class */
  QOP_IN,        /* * any of set */
  QOP_EXISTS,    /* field present (n = 1) or absent (n = 0) */
  QOP_TYPE,      /* * type bits */
  QOP_TEXT,      /* * every word of words[] */
  QOP_LIKE,      /* * pattern s (flags QF_CI for $ilike) */
  QOP_REGEX,     /* * re */
  QOP_STARTS,    /* * */
  QOP_ENDS,      /* * */
  QOP_CONTAINS,  /* substring of a string, or an element of an array equal to the operand */
  QOP_ALL,       /* array holding every value of set */
  QOP_SIZE,      /* array of n elements */
  QOP_ELEMMATCH, /* an element matching kids (value predicates, or one query: QF_QUERY) */
  QOP_NEAR,      /* * geo[0..2] = lat, lng, radius */
  QOP_BBOX,      /* * geo[0..3] = minLat, minLng, maxLat, maxLng */
  QOP_MOD,       /* * geo[0] divisor, geo[1] remainder */
  QOP_VNOT,      /* none of: kids hold (all of them) for the field ($not, $ne, $nin) */
} qop;

enum {
  QF_CI = 1,      /* case-insensitive */
  QF_QUERY = 2,   /* $elemMatch: kids[0] is a query over each element */
  QF_LO_OPEN = 4, /* QOP_CMP: lower bound excluded ($gt) */
  QF_HI_OPEN = 8, /* QOP_CMP: upper bound excluded ($lt) */
  QF_HAS_LO = 16,
  QF_HAS_HI = 32,
};

/* Type bits for $type. */
enum {
  QT_NULL = 1,
  QT_BOOL = 2,
  QT_NUMBER = 4,
  QT_INTEGER = 8,
  QT_STRING = 16,
  QT_DATE = 32,
  QT_OBJECT = 64,
  QT_ARRAY = 128,
  QT_BINARY = 256,
};

typedef struct qset {
  const uint8_t **v; /* canonical encodings */
  uint32_t *len;
  uint32_t n;
  bool has_null;
} qset;

typedef struct qexpr qexpr;
struct qexpr {
  uint8_t op;
  uint8_t flags;
  uint32_t nkids;
  qexpr **kids;
  const qpath *path; /* QOP_FIELD */
  const char *name;  /* the operator as written ("$gt"), for explain */
  const uint8_t *mp; /* EQ, CONTAINS: canonical operand */
  uint32_t mplen;
  gdb_skey lo, hi; /* CMP */
  qset set;        /* IN, ALL */
  const char *s;   /* LIKE, STARTS, ENDS, CONTAINS (string operand) */
  uint32_t slen;
  char **words; /* TEXT */
  uint32_t *wlens;
  uint32_t nwords;
  pcre2_code *re; /* REGEX */
  pcre2_match_data *md;
  uint32_t types; /* TYPE */
  int64_t n;      /* SIZE, EXISTS */
  double geo[4];  /* NEAR, BBOX, MOD */
  /* FIELD fast paths: a top-level field with one equality (QFAST_EQ) or one numeric
   * comparison (QFAST_NUM, bounds dlo/dhi), evaluated without the generic machinery */
  uint8_t fast;
  double dlo, dhi;
};

enum { QFAST_NONE, QFAST_EQ, QFAST_NUM };

/* One step of a query: stage 0 selects nodes; each further stage ($edge) selects descendants
 * of the previous stage's nodes. */
typedef struct qstage {
  qexpr *filter;
  uint32_t depth; /* $depth: maximum edges from a start node; 0 = unlimited */
} qstage;

typedef struct gdb_query {
  qarena *arena;
  qstage *stages;
  uint32_t nstages;
  const qpath *sort; /* NULL: creation order */
  bool desc;
  int64_t limit; /* -1: none */
  const char *after, *before;
  bool realtime;
  bool strict;
  pcre2_match_context *mctx; /* match limits for every $regex */
} gdb_query;

/* Compiles options JSON (NULL or "" for all nodes). verb prefixes error messages ("map").
 * GDB_EQUERY with a message on malformed input. *out: free with gdb_query_free(). */
int gdb_query_compile(const char *options, const char *verb, gdb_query **out);
void gdb_query_free(gdb_query *q);
/* Compiles one dot path. NULL when malformed (*err GDB_EQUERY, message set) or out of memory
 * (*err GDB_ENOMEM). */
qpath *gdb_qpath_compile(qarena *a, const char *text, const char *verb, int *err);
qarena *gdb_qarena_new(void);
void gdb_qarena_free(qarena *a);
/* The closest known operator or option name to word (edit distance), or NULL. */
const char *gdb_query_suggest(const char *word, const char *const *names);
/* Operator names as documented. */
extern const char *const gdb_query_operators[];

/* ── evaluation ── */

typedef struct qeval {
  const gdb_query *query;
  bool strict;
  int err; /* GDB_EQUERY after a strictMode violation, GDB_ENOMEM */
  const char *err_path;
  const gdb_node *node; /* the node being evaluated (for messages) */
  const qexpr *skip[4]; /* conjuncts of the root that indexes already guarantee */
  uint32_t nskip;
  const uint8_t **vals; /* scratch stack of resolved values */
  uint32_t nvals, cap;
  uint64_t evaluated; /* nodes evaluated (explain) */
} qeval;

void gdb_qeval_init(qeval *c, const gdb_query *q);
void gdb_qeval_free(qeval *c);
/* True when the value [v, v+len) (a map) matches filter e. */
bool gdb_qeval_match(qeval *c, const qexpr *e, const uint8_t *v, uint32_t len);
static inline bool gdb_qeval_node(qeval *c, const qexpr *e, const gdb_node *n) {
  c->node = n;
  c->evaluated++;
  return gdb_qeval_match(c, e, gdb_node_valuep(n), n->value_len);
}
/* The value at a path when it names exactly one value (maps, and array indexes), else NULL:
 * the value sorting uses. */
const uint8_t *gdb_qpath_single(const qpath *path, const uint8_t *v, const uint8_t *end);
/* Calls fn with every value a path reaches (through arrays of objects too), until fn
 * returns true. */
typedef bool (*gdb_qvalue_fn)(const uint8_t *p, const uint8_t *end, void *data);
bool gdb_qpath_each(const qpath *path, const uint8_t *v, const uint8_t *end, gdb_qvalue_fn fn,
                    void *data);

/* ── execution (query_plan.c, query_edge.c) ── */

typedef struct gdb_qstate gdb_qstate;

/* A matching node with its sort key. */
typedef struct qhit {
  gdb_node *node; /* borrowed under the database lock */
  gdb_skey key;   /* sort key (cls NULL for a missing field); unused in creation order */
} qhit;

/* Where an ordered result starts and stops: cursor positions and window. */
typedef struct qwindow {
  bool has_after, has_before;
  qhit after, before; /* positions (key + node id); node may be a tombstone in creation order */
  const char *after_id, *before_id;
  uint32_t after_ord, before_ord;
} qwindow;

/* What explain reports. */
typedef struct qexplain {
  gdb_buf *out; /* JSON being written (plan objects) */
  uint64_t examined, matched, visited;
} qexplain;

/* Orders two hits as the query's output does (sort key, then id; reversed for desc). */
int gdb_qhit_cmp(const gdb_query *q, const qhit *a, const qhit *b);
/* Fills h's sort key from its node. */
void gdb_qhit_key(const gdb_query *q, qhit *h);

/* Runs q under the database lock (held by the caller). *hits (malloc'd, caller frees) gets
 * the results in output order: cursors and $limit applied. win: the cursors (NULL: resolve
 * them now). visited, when not NULL, receives the ids the $edge traversal reached (for
 * subscriptions). ex may be NULL. */
typedef struct qvisit qvisit;
int gdb_query_exec(gdb_qstate *qs, gdb_graph *g, const gdb_query *q, const qwindow *win,
                   qhit **hits, size_t *n, qvisit *visited, qexplain *ex);
/* Resolves the query's cursors into w (GDB_ENOTFOUND when a cursor names no node). */
int gdb_query_window(gdb_graph *g, const gdb_query *q, qwindow *w);
/* True when h lies strictly between the window's cursors. */
bool gdb_qwindow_contains(const gdb_query *q, const qwindow *w, const qhit *h);

/* $edge traversal from stage s-1's nodes (start) to stage s's matches (appended to *out). */
typedef struct qhits {
  qhit *v;
  size_t n, cap;
} qhits;
bool gdb_qhits_push(qhits *h, gdb_node *n);
int gdb_query_traverse(gdb_graph *g, const qstage *st, qeval *c, const qhits *start, qhits *out,
                       qvisit *visited, qexplain *ex);

/* A set of node ids the traversal reached (owned strings). */
qvisit *gdb_qvisit_new(void);
void gdb_qvisit_free(qvisit *v);
bool gdb_qvisit_add(qvisit *v, const char *id, size_t len);
bool gdb_qvisit_has(const qvisit *v, const char *id, size_t len);
void gdb_qvisit_clear(qvisit *v);

#endif
