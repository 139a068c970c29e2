/*
 * query_edge.c — $edge: from the nodes one stage selected, follow outgoing edges to every
 * descendant (children, grandchildren, ...) and keep those matching the $edge sub-query.
 *
 * Breadth-first from all start nodes at once, so each node is reached first at its shortest
 * distance and $depth (the most edges from any start node) is exact. Each node is expanded
 * once and evaluated once (two bitmaps indexed by creation order), which makes the traversal
 * linear in the region reached and safe on cycles. A start node is a result only if it is
 * also reached from a start node (through a cycle, or below another start node). Edges to
 * ids that are not live nodes (not arrived yet, removed) lead nowhere; subscriptions still
 * record them as visited, so the node's arrival re-runs the traversal.
 */
#include "core/error.h"
#include "core/query.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct qvisit {
  GHashTable *ids; /* owned NUL-terminated ids */
};

qvisit *gdb_qvisit_new(void) {
  qvisit *v = malloc(sizeof *v);
  if (v) v->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return v;
}

void gdb_qvisit_free(qvisit *v) {
  if (!v) return;
  g_hash_table_destroy(v->ids);
  free(v);
}

bool gdb_qvisit_add(qvisit *v, const char *id, size_t len) {
  char stack[GDB_ID_BUFSZ];
  if (len > GDB_ID_MAX) return false;
  memcpy(stack, id, len);
  stack[len] = 0;
  if (!g_hash_table_contains(v->ids, stack)) g_hash_table_add(v->ids, g_strndup(id, len));
  return true;
}

bool gdb_qvisit_has(const qvisit *v, const char *id, size_t len) {
  char stack[GDB_ID_BUFSZ];
  if (len > GDB_ID_MAX) return false;
  memcpy(stack, id, len);
  stack[len] = 0;
  return g_hash_table_contains(v->ids, stack);
}

void gdb_qvisit_clear(qvisit *v) { g_hash_table_remove_all(v->ids); }

typedef struct qitem {
  gdb_node *n;
  uint32_t depth;
} qitem;

static inline bool test_set(uint64_t *bits, uint32_t ord) {
  uint64_t b = 1ull << (ord & 63);
  bool was = bits[ord >> 6] & b;
  bits[ord >> 6] |= b;
  return was;
}

int gdb_query_traverse(gdb_graph *g, const qstage *st, qeval *c, const qhits *start, qhits *out,
                       qvisit *visited, qexplain *ex) {
  size_t words = (g->next_ord >> 6) + 2;
  uint64_t *expanded = calloc(words, sizeof *expanded), *checked = calloc(words, sizeof *checked);
  size_t cap = start->n + 64, head = 0, tail = 0;
  qitem *queue = malloc(cap * sizeof *queue);
  uint64_t reached = 0, matched = 0;
  int rc = GDB_OK;
  if (!expanded || !checked || !queue) {
    rc = gdb_fail(GDB_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < start->n; i++) {
    gdb_node *n = start->v[i].node;
    if (test_set(expanded, n->ord)) continue;
    if (visited) gdb_qvisit_add(visited, gdb_node_idp(n), n->id_len);
    queue[tail++] = (qitem){n, 0};
  }
  while (head < tail && !c->err) {
    qitem it = queue[head++];
    if (st->depth && it.depth >= st->depth) continue;
    gdb_node *n = it.n;
    for (uint32_t e = 0; e < n->nedges; e++) {
      const gdb_rstr *t = n->edges->e[e].target;
      if (visited) gdb_qvisit_add(visited, t->s, t->len);
      gdb_node *d = gdb_graph_find(g, t->s, t->len);
      if (!d || !gdb_node_live(d)) continue;
      reached++;
      if (!test_set(checked, d->ord) && gdb_qeval_node(c, st->filter, d)) {
        if (!gdb_qhits_push(out, d)) {
          rc = gdb_fail(GDB_ENOMEM, "out of memory");
          goto out;
        }
        matched++;
      }
      if (test_set(expanded, d->ord)) continue;
      if (tail == cap) {
        /* reuse the consumed front before growing */
        memmove(queue, queue + head, (tail - head) * sizeof *queue);
        tail -= head;
        head = 0;
        if (tail == cap) {
          qitem *q = realloc(queue, cap * 2 * sizeof *q);
          if (!q) {
            rc = gdb_fail(GDB_ENOMEM, "out of memory");
            goto out;
          }
          queue = q;
          cap *= 2;
        }
      }
      queue[tail++] = (qitem){d, it.depth + 1};
    }
  }
out:
  if (ex) {
    gdb_buf_printf(
        ex->out,
        ",{\"stage\":\"$edge\",\"depth\":%u,\"start\":%zu,\"reached\":%llu,\"matched\":%llu}",
        st->depth, start->n, (unsigned long long)reached, (unsigned long long)matched);
    ex->visited += reached;
  }
  free(expanded);
  free(checked);
  free(queue);
  return rc;
}
