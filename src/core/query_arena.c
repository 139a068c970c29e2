/*
 * query_arena.c — the memory of a compiled query (or an index's path): one bump allocator
 * whose blocks are freed together, plus destructors for what is not plain memory (PCRE2
 * code and match data). A compiled query is built once and freed once, so nothing in it is
 * freed piecemeal.
 */
#include "core/query.h"

#include <stdlib.h>
#include <string.h>

typedef struct ablock {
  struct ablock *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} ablock;

typedef struct acleanup {
  void (*fn)(void *);
  void *p;
} acleanup;

struct qarena {
  ablock *head;
  acleanup *cleanup;
  size_t ncleanup, capcleanup;
};

qarena *gdb_qarena_new(void) { return calloc(1, sizeof(qarena)); }

void gdb_qarena_free(qarena *a) {
  if (!a) return;
  for (size_t i = 0; i < a->ncleanup; i++) a->cleanup[i].fn(a->cleanup[i].p);
  free(a->cleanup);
  while (a->head) {
    ablock *n = a->head->next;
    free(a->head);
    a->head = n;
  }
  free(a);
}

void *gdb_qarena_alloc(qarena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  ablock *b = a->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 4096 ? n : 4096;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  void *p = b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

char *gdb_qarena_strndup(qarena *a, const char *s, size_t n) {
  char *p = gdb_qarena_alloc(a, n + 1);
  if (p) memcpy(p, s, n);
  return p;
}

bool gdb_qarena_on_free(qarena *a, void (*fn)(void *), void *p) {
  if (a->ncleanup == a->capcleanup) {
    size_t cap = a->capcleanup ? a->capcleanup * 2 : 8;
    acleanup *c = realloc(a->cleanup, cap * sizeof *c);
    if (!c) return false;
    a->cleanup = c;
    a->capcleanup = cap;
  }
  a->cleanup[a->ncleanup++] = (acleanup){fn, p};
  return true;
}
