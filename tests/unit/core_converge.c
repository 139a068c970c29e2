/*
 * core_converge.c — randomized operation sequences: every order of application gives the same
 * state hash, and that state equals a plain sequential model that applies the operations in
 * timestamp order. Seeds are printed on failure; GDB_SEED=<n> reruns one.
 */
#include "test.h"

#include "genosdb.h"

#include <stdlib.h>

#define POOL 8
#define NOPS 80

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct rop {
  gdb_op op;
  char value_json[32];
  uint8_t *mp;
  char id[4], target[4], origin[4];
} rop;

static const char *POOL_IDS[POOL] = {"a", "b", "c", "d", "e", "f", "g", "h"};
static const char *ORIGINS[] = {"p0", "p1", "p2"};

static void make_ops(rop *ops, int n) {
  for (int i = 0; i < n; i++) {
    rop *r = &ops[i];
    memset(r, 0, sizeof *r);
    int kind = (int)(rnd() % 10);
    snprintf(r->id, sizeof r->id, "%s", POOL_IDS[rnd() % POOL]);
    snprintf(r->origin, sizeof r->origin, "%s", ORIGINS[rnd() % 3]);
    /* few distinct times, so ties between peers are common */
    r->op.timestamp = (gdb_hlc){1000 + (int64_t)(rnd() % 6), (int64_t)(rnd() % 3)};
    r->op.id = r->id;
    r->op.origin = r->origin;
    if (kind < 5) {
      r->op.type = GDB_OP_UPSERT;
      snprintf(r->value_json, sizeof r->value_json, "{\"v\":%d}", (int)(rnd() % 4));
      size_t len;
      gdb_json_to_value(r->value_json, strlen(r->value_json), &r->mp, &len);
      r->op.value = r->mp;
      r->op.value_len = len;
    } else if (kind < 7) {
      r->op.type = GDB_OP_REMOVE;
    } else {
      r->op.type = GDB_OP_LINK;
      snprintf(r->target, sizeof r->target, "%s", POOL_IDS[rnd() % POOL]);
      r->op.target = r->target;
    }
  }
}

static void shuffle(gdb_op *ops, int n) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(rnd() % (uint64_t)(i + 1));
    gdb_op t = ops[i];
    ops[i] = ops[j];
    ops[j] = t;
  }
}

/* ── the sequential model ── */

typedef struct model {
  bool live[POOL];
  char value[POOL][32];
  bool edge[POOL][POOL];
} model;

static int idx(const char *id) { return id[0] - 'a'; }

/* Sequential order: timestamp; at equal timestamps upserts and links before removals (a
 * removal wins a tie), upserts by origin then value bytes (the greater applies last). */
static int seq_cmp(const void *x, const void *y) {
  const rop *a = *(rop *const *)x, *b = *(rop *const *)y;
  int c = gdb_hlc_compare(a->op.timestamp, b->op.timestamp);
  if (c) return c;
  int ra = a->op.type == GDB_OP_REMOVE, rb = b->op.type == GDB_OP_REMOVE;
  if (ra != rb) return ra - rb;
  c = strcmp(a->origin, b->origin);
  if (c) return c;
  if (a->op.value && b->op.value) {
    size_t n = a->op.value_len < b->op.value_len ? a->op.value_len : b->op.value_len;
    c = memcmp(a->op.value, b->op.value, n);
    if (c) return c;
    return (int)a->op.value_len - (int)b->op.value_len;
  }
  return 0;
}

static void model_run(rop *ops, int n, model *m) {
  memset(m, 0, sizeof *m);
  rop **sorted = malloc((size_t)n * sizeof *sorted);
  for (int i = 0; i < n; i++) sorted[i] = &ops[i];
  qsort(sorted, (size_t)n, sizeof *sorted, seq_cmp);
  for (int i = 0; i < n; i++) {
    rop *r = sorted[i];
    int x = idx(r->id);
    switch (r->op.type) {
    case GDB_OP_UPSERT:
      m->live[x] = true;
      snprintf(m->value[x], sizeof m->value[x], "%s", r->value_json);
      break;
    case GDB_OP_REMOVE:
      m->live[x] = false;
      for (int k = 0; k < POOL; k++) m->edge[x][k] = m->edge[k][x] = false;
      break;
    default: m->edge[x][idx(r->target)] = true; break;
    }
  }
  free(sorted);
}

static gdb_t *fresh(void) {
  gdb_t *db = NULL;
  gdb_open(NULL, NULL, &db);
  return db;
}

/* Compares the database with the model; false (and a message) on the first difference. */
static bool matches_model(gdb_t *db, const model *m, char *why, size_t cap) {
  for (int x = 0; x < POOL; x++) {
    gdb_node *n = NULL;
    bool live = gdb_get(db, POOL_IDS[x], &n) == GDB_OK;
    if (live != m->live[x]) {
      snprintf(why, cap, "node %s live=%d, model says %d", POOL_IDS[x], live, m->live[x]);
      if (n) gdb_node_release(n);
      return false;
    }
    if (!live) continue;
    size_t len;
    const uint8_t *v = gdb_node_value(n, &len);
    char *j = NULL;
    gdb_value_to_json(v, len, &j, NULL);
    bool same = j && !strcmp(j, m->value[x]);
    if (!same) snprintf(why, cap, "node %s value %s, model says %s", POOL_IDS[x], j ? j : "?", m->value[x]);
    free(j);
    for (int k = 0; same && k < POOL; k++) {
      bool has = false;
      for (size_t e = 0; e < gdb_node_edge_count(n); e++) has |= !strcmp(gdb_node_edge(n, e), POOL_IDS[k]);
      if (has != m->edge[x][k]) {
        snprintf(why, cap, "edge %s->%s present=%d, model says %d", POOL_IDS[x], POOL_IDS[k], has, m->edge[x][k]);
        same = false;
      }
    }
    gdb_node_release(n);
    if (!same) return false;
  }
  return true;
}

static void run_rounds(int rounds, bool batches) {
  const char *env = getenv("GDB_SEED");
  uint64_t seed0 = env ? strtoull(env, NULL, 10) : 0x9e3779b97f4a7c15ULL;
  for (int round = 0; round < rounds; round++) {
    uint64_t seed = seed0 + (uint64_t)round;
    rng_state = seed | 1;
    rop ops[NOPS];
    gdb_op a[NOPS * 2], b[NOPS * 2];
    make_ops(ops, NOPS);
    for (int i = 0; i < NOPS; i++) a[i] = b[i] = ops[i].op;
    /* b: shuffled, with every operation delivered twice (duplicates must be harmless) */
    for (int i = 0; i < NOPS; i++) b[NOPS + i] = ops[i].op;
    shuffle(b, NOPS * 2);
    gdb_t *da = fresh(), *db = fresh();
    if (batches) {
      CHECK(gdb_apply_remote(da, a, NOPS, NULL) == GDB_OK);
      for (int i = 0; i < NOPS * 2; i += 7) /* in uneven batches */
        CHECK(gdb_apply_remote(db, b + i, (size_t)(NOPS * 2 - i < 7 ? NOPS * 2 - i : 7), NULL) == GDB_OK);
    } else {
      for (int i = 0; i < NOPS; i++) CHECK(gdb_apply_remote(da, &a[i], 1, NULL) == GDB_OK);
      for (int i = 0; i < NOPS * 2; i++) CHECK(gdb_apply_remote(db, &b[i], 1, NULL) == GDB_OK);
    }
    char ha[65], hb[65], why[200];
    CHECK_OK(gdb_state_hash(da, ha));
    CHECK_OK(gdb_state_hash(db, hb));

    CHECK_MSG(!strcmp(ha, hb), "seed %llu: state hashes differ after the same operations", (unsigned long long)seed);
    model m;
    model_run(ops, NOPS, &m);
    CHECK_MSG(matches_model(da, &m, why, sizeof why), "seed %llu: %s", (unsigned long long)seed, why);
    gdb_close(da);
    gdb_close(db);
    for (int i = 0; i < NOPS; i++) free(ops[i].mp);
  }
}

TEST(converge_any_order_one_by_one) { run_rounds(300, false); }
TEST(converge_any_order_in_batches) { run_rounds(300, true); }

/* Applies one logged operation to the database in data; stops on a refusal. */
static int forward(const gdb_op *op, void *data) {
  gdb_apply_result r;
  int rc = gdb_apply_remote(data, op, 1, &r);
  return rc ? rc : (int)r.rejected;
}

TEST(converge_local_writes_exchanged_through_oplogs) {
  /* Two databases write locally, then each applies the other's log: they must agree. */
  gdb_t *x = fresh(), *y = fresh();
  rng_state = 12345;
  for (int i = 0; i < 200; i++) {
    gdb_t *d = rnd() % 2 ? x : y;
    const char *id = POOL_IDS[rnd() % POOL];
    char v[32];
    snprintf(v, sizeof v, "{\"v\":%d}", (int)(rnd() % 100));
    switch (rnd() % 4) {
    case 0:
    case 1: CHECK_OK(gdb_put_json(d, id, v, strlen(v), NULL)); break;
    case 2: gdb_remove(d, id); break;
    default: gdb_link(d, id, POOL_IDS[rnd() % POOL]); break;
    }
  }
  CHECK_OK(gdb_oplog_since(x, (gdb_hlc){0, 0}, forward, y));
  CHECK_OK(gdb_oplog_since(y, (gdb_hlc){0, 0}, forward, x));
  char hx[65], hy[65];
  CHECK_OK(gdb_state_hash(x, hx));
  CHECK_OK(gdb_state_hash(y, hy));
  CHECK_STR(hx, hy);
  gdb_close(x);
  gdb_close(y);
}
