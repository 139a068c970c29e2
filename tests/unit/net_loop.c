/* net_loop.c — the network thread runs invoked work on itself, in order. */
#include "test.h"

#include "net/loop.h"

typedef struct probe {
  gdb_net_loop *loop;
  int on_loop;
} probe;

static void record(void *p) {
  probe *pr = p;
  pr->on_loop = gdb_net_loop_is_current(pr->loop) ? 1 : -1;
}

TEST(loop_invoke_sync_runs_on_loop_thread) {
  gdb_net_loop *l = gdb_net_loop_acquire();
  CHECK(!gdb_net_loop_is_current(l));
  probe pr = {l, 0};
  gdb_net_loop_invoke_sync(l, record, &pr);
  CHECK_INT(pr.on_loop, 1);
  gdb_net_loop_release(l);
}

static void append(void *p) {
  int *a = p;
  a[a[0] + 1] = a[0];
  a[0]++;
}

TEST(loop_invoke_keeps_order) {
  gdb_net_loop *l = gdb_net_loop_acquire();
  int a[12] = {0};
  for (int i = 0; i < 10; i++) gdb_net_loop_invoke(l, append, a);
  gdb_net_loop_invoke_sync(l, append, a); /* queued after the ten */
  CHECK_INT(a[0], 11);
  for (int i = 0; i < 11; i++) CHECK_INT(a[i + 1], i);
  gdb_net_loop_release(l);
}
