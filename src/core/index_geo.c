/*
 * index_geo.c — the geo index kind: {lat, lng} points in a grid of cells at four sizes
 * (0.01°, 0.1°, 1°, 10°; about 1 km to 1,100 km of latitude). Every point is in one cell of
 * each size; a $near circle or $bbox box is covered with the finest cells that take at most
 * MAX_CELLS of them, and the points of those cells are the candidates (the filter then checks
 * the exact distance or box). A circle that reaches a pole, or a box or circle wider than
 * the coarsest grid allows, covers every cell of that size.
 */
#include "core/error.h"
#include "core/index.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEVELS 4
#define MAX_CELLS 64
static const double CELL[LEVELS] = {0.01, 0.1, 1, 10};

typedef struct gimpl {
  GHashTable *cells; /* uint64 key (owned) -> gdb_posting * */
} gimpl;

static uint64_t cell_key(int level, int64_t ilat, int64_t ilng) {
  return (uint64_t)level << 60 | (uint64_t)ilat << 30 | (uint64_t)ilng;
}

static int64_t ilat_of(double lat, int level) {
  int64_t i = (int64_t)floor((lat + 90) / CELL[level]), max = (int64_t)ceil(180 / CELL[level]) - 1;
  return i < 0 ? 0 : i > max ? max : i;
}

static int64_t ilng_of(double lng, int level) {
  int64_t i = (int64_t)floor((lng + 180) / CELL[level]), max = (int64_t)ceil(360 / CELL[level]) - 1;
  return i < 0 ? 0 : i > max ? max : i;
}

static guint key_hash(gconstpointer k) { return g_int64_hash(k); }
static gboolean key_eq(gconstpointer a, gconstpointer b) { return g_int64_equal(a, b); }

static void posting_free(gpointer p) {
  gdb_posting *x = p;
  gdb_oset_free(&x->set);
  free(x);
}

static bool gi_init(gdb_index *ix) {
  gimpl *im = calloc(1, sizeof *im);
  if (!im) return false;
  im->cells = g_hash_table_new_full(key_hash, key_eq, g_free, posting_free);
  ix->impl = im;
  return true;
}

static void gi_free(gdb_index *ix) {
  gimpl *im = ix->impl;
  if (!im) return;
  g_hash_table_destroy(im->cells);
  free(im);
}

typedef struct gctx {
  gdb_index *ix;
  gimpl *im;
  gdb_node *n;
  int mode; /* 1 add, 0 remove, 2 repoint */
  bool ok;
  uint32_t points;
} gctx;

static bool on_value(const uint8_t *p, const uint8_t *end, bool element, void *data) {
  (void)element;
  gctx *x = data;
  double lat, lng;
  if (!gdb_geo_point(p, end, &lat, &lng)) return false;
  x->points++;
  for (int l = 0; l < LEVELS && x->ok; l++) {
    uint64_t key = cell_key(l, ilat_of(lat, l), ilng_of(lng, l));
    gdb_posting *post = g_hash_table_lookup(x->im->cells, &key);
    if (x->mode == 1) {
      if (!post) {
        uint64_t *k = g_new(uint64_t, 1);
        if (!(post = malloc(sizeof *post))) {
          g_free(k);
          x->ok = false;
          break;
        }
        *k = key;
        gdb_posting_init(post);
        g_hash_table_insert(x->im->cells, k, post);
      }
      int r = gdb_posting_add(post, x->n);
      if (r < 0) x->ok = false;
      if (r > 0 && l == 0) x->ix->entries++;
    } else if (post && x->mode == 0) {
      if (gdb_posting_del(post, x->n) && l == 0) x->ix->entries--;
      if (!post->set.count) g_hash_table_remove(x->im->cells, &key);
    } else if (post) {
      gdb_posting_repoint(post, x->n);
    }
  }
  return !x->ok;
}

static void node_points(gctx *x) {
  gdb_index_values(x->ix, x->n, on_value, x);
  if (x->points > 1 && x->mode != 2) {
    if (x->mode == 1)
      x->ix->multi++;
    else if (x->ix->multi)
      x->ix->multi--;
  }
}

static bool gi_apply(gdb_index *ix, gdb_node *n, bool add) {
  gctx x = {ix, ix->impl, n, add ? 1 : 0, true, 0};
  node_points(&x);
  return x.ok;
}

static void gi_repoint(gdb_index *ix, gdb_node *before, gdb_node *after) {
  (void)before;
  gctx x = {ix, ix->impl, after, 2, true, 0};
  node_points(&x);
}

static int gi_build(gdb_index *ix, gdb_graph *g) {
  gimpl *im = ix->impl;
  g_hash_table_remove_all(im->cells);
  return gdb_index_add_all(ix, g);
}

static bool gi_supports(const gdb_index *ix, const qexpr *pred) {
  (void)ix;
  return pred->op == QOP_NEAR || pred->op == QOP_BBOX;
}

/* The area a predicate covers: a latitude band and one or two longitude ranges. */
typedef struct area {
  double lat0, lat1;
  double lng[2][2];
  int nlng;
} area;

static void area_of(const qexpr *pred, area *a) {
  if (pred->op == QOP_BBOX) {
    a->lat0 = pred->geo[0];
    a->lat1 = pred->geo[2];
    if (pred->geo[1] <= pred->geo[3]) {
      a->nlng = 1;
      a->lng[0][0] = pred->geo[1];
      a->lng[0][1] = pred->geo[3];
    } else { /* across 180° */
      a->nlng = 2;
      a->lng[0][0] = pred->geo[1];
      a->lng[0][1] = 180;
      a->lng[1][0] = -180;
      a->lng[1][1] = pred->geo[3];
    }
    return;
  }
  double lat = pred->geo[0], lng = pred->geo[1];
  double dlat = pred->geo[2] / 111194.9 * 1.001 + 1e-9; /* meters per degree of arc */
  a->lat0 = lat - dlat;
  a->lat1 = lat + dlat;
  a->nlng = 1;
  double maxlat = fabs(a->lat0) > fabs(a->lat1) ? fabs(a->lat0) : fabs(a->lat1);
  if (a->lat0 <= -90 || a->lat1 >= 90 || maxlat >= 89.9) {
    a->lng[0][0] = -180;
    a->lng[0][1] = 180;
  } else {
    double dlng = dlat / cos(maxlat * M_PI / 180);
    if (dlng >= 180) {
      a->lng[0][0] = -180;
      a->lng[0][1] = 180;
    } else if (lng - dlng < -180) {
      a->nlng = 2;
      a->lng[0][0] = -180;
      a->lng[0][1] = lng + dlng;
      a->lng[1][0] = lng - dlng + 360;
      a->lng[1][1] = 180;
    } else if (lng + dlng > 180) {
      a->nlng = 2;
      a->lng[0][0] = lng - dlng;
      a->lng[0][1] = 180;
      a->lng[1][0] = -180;
      a->lng[1][1] = lng + dlng - 360;
    } else {
      a->lng[0][0] = lng - dlng;
      a->lng[0][1] = lng + dlng;
    }
  }
  if (a->lat0 < -90) a->lat0 = -90;
  if (a->lat1 > 90) a->lat1 = 90;
}

static uint64_t cells_at(const area *a, int l) {
  uint64_t n = 0, rows = (uint64_t)(ilat_of(a->lat1, l) - ilat_of(a->lat0, l) + 1);
  for (int i = 0; i < a->nlng; i++)
    n += rows * (uint64_t)(ilng_of(a->lng[i][1], l) - ilng_of(a->lng[i][0], l) + 1);
  return n;
}

/* Calls visit for each posting of the cells covering a; returns the number of entries. */
static size_t cover(const gimpl *im, const area *a, gdb_index_fn fn, void *data) {
  int l = 0;
  while (l < LEVELS - 1 && cells_at(a, l) > MAX_CELLS) l++;
  size_t total = 0;
  for (int i = 0; i < a->nlng; i++) {
    for (int64_t y = ilat_of(a->lat0, l); y <= ilat_of(a->lat1, l); y++) {
      for (int64_t x = ilng_of(a->lng[i][0], l); x <= ilng_of(a->lng[i][1], l); x++) {
        uint64_t key = cell_key(l, y, x);
        const gdb_posting *p = g_hash_table_lookup(im->cells, &key);
        if (!p) continue;
        total += p->set.count;
        if (!fn) continue;
        const gdb_oset *s = &p->set;
        for (gdb_oset_it it = gdb_oset_begin(s); gdb_oset_valid(s, it); it = gdb_oset_next(s, it)) {
          const posting_entry *e = gdb_oset_at(s, it);
          if (fn(e->node, e->ord, data)) return total;
        }
      }
    }
  }
  return total;
}

static size_t gi_estimate(const gdb_index *ix, const qexpr *pred) {
  area a;
  area_of(pred, &a);
  return cover(ix->impl, &a, NULL, NULL);
}

static void gi_scan(const gdb_index *ix, const qexpr *pred, gdb_index_fn fn, void *data) {
  area a;
  area_of(pred, &a);
  cover(ix->impl, &a, fn, data);
}

const gdb_index_ops gdb_index_geo_ops = {
    .init = gi_init,
    .free = gi_free,
    .build = gi_build,
    .apply = gi_apply,
    .repoint = gi_repoint,
    .supports = gi_supports,
    .estimate = gi_estimate,
    .scan = gi_scan,
    .exact = false,
};
