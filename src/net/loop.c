/*
 * loop.c — the process-wide network thread running a GLib main loop. See loop.h.
 */
#include "net/loop.h"

#include <pthread.h>

struct gdb_net_loop {
  GMainContext *ctx;
  GMainLoop *main;
  GThread *thread;
  int refs;
};

static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static gdb_net_loop *the_loop;

static gpointer loop_thread(gpointer arg) {
  gdb_net_loop *l = arg;
  g_main_context_push_thread_default(l->ctx);
  g_main_loop_run(l->main);
  g_main_context_pop_thread_default(l->ctx);
  return NULL;
}

gdb_net_loop *gdb_net_loop_acquire(void) {
  pthread_mutex_lock(&loop_lock);
  if (!the_loop) {
    gdb_net_loop *l = g_new0(gdb_net_loop, 1);
    l->ctx = g_main_context_new();
    l->main = g_main_loop_new(l->ctx, FALSE);
    l->thread = g_thread_new("gdb-net", loop_thread, l);
    the_loop = l;
  }
  the_loop->refs++;
  gdb_net_loop *l = the_loop;
  pthread_mutex_unlock(&loop_lock);
  return l;
}

static gboolean quit_cb(gpointer data) {
  g_main_loop_quit(data);
  return G_SOURCE_REMOVE;
}

void gdb_net_loop_release(gdb_net_loop *l) {
  pthread_mutex_lock(&loop_lock);
  g_assert(l == the_loop && l->refs > 0);
  if (--l->refs > 0) {
    pthread_mutex_unlock(&loop_lock);
    return;
  }
  the_loop = NULL;
  pthread_mutex_unlock(&loop_lock);
  g_assert(!gdb_net_loop_is_current(l));
  g_main_context_invoke(l->ctx, quit_cb, l->main);
  g_thread_join(l->thread);
  /* Let sources that were removed during shutdown release their data. */
  while (g_main_context_iteration(l->ctx, FALSE)) {
  }
  g_main_loop_unref(l->main);
  g_main_context_unref(l->ctx);
  g_free(l);
}

GMainContext *gdb_net_loop_context(gdb_net_loop *l) { return l->ctx; }

GMainLoop *gdb_net_loop_main(gdb_net_loop *l) { return l->main; }

bool gdb_net_loop_is_current(gdb_net_loop *l) { return g_main_context_is_owner(l->ctx); }

typedef struct invoke_call {
  void (*fn)(void *);
  void *data;
  GMutex mu;
  GCond cond;
  bool done;
} invoke_call;

static gboolean invoke_async_cb(gpointer p) {
  invoke_call *c = p;
  c->fn(c->data);
  g_free(c);
  return G_SOURCE_REMOVE;
}

void gdb_net_loop_invoke(gdb_net_loop *l, void (*fn)(void *), void *data) {
  invoke_call *c = g_new0(invoke_call, 1);
  c->fn = fn;
  c->data = data;
  GSource *s = g_idle_source_new();
  g_source_set_priority(s, G_PRIORITY_DEFAULT);
  g_source_set_callback(s, invoke_async_cb, c, NULL);
  g_source_attach(s, l->ctx);
  g_source_unref(s);
}

static gboolean invoke_sync_cb(gpointer p) {
  invoke_call *c = p;
  c->fn(c->data);
  g_mutex_lock(&c->mu);
  c->done = true;
  g_cond_signal(&c->cond);
  g_mutex_unlock(&c->mu);
  return G_SOURCE_REMOVE;
}

void gdb_net_loop_invoke_sync(gdb_net_loop *l, void (*fn)(void *), void *data) {
  if (gdb_net_loop_is_current(l)) {
    fn(data);
    return;
  }
  invoke_call c = {.fn = fn, .data = data};
  g_mutex_init(&c.mu);
  g_cond_init(&c.cond);
  GSource *s = g_idle_source_new();
  g_source_set_priority(s, G_PRIORITY_DEFAULT); /* FIFO with gdb_net_loop_invoke() */
  g_source_set_callback(s, invoke_sync_cb, &c, NULL);
  g_source_attach(s, l->ctx);
  g_source_unref(s);
  g_mutex_lock(&c.mu);
  while (!c.done) g_cond_wait(&c.cond, &c.mu);
  g_mutex_unlock(&c.mu);
  g_mutex_clear(&c.mu);
  g_cond_clear(&c.cond);
}

guint gdb_net_loop_timeout(gdb_net_loop *l, guint interval_ms, GSourceFunc fn, void *data) {
  GSource *s = g_timeout_source_new(interval_ms);
  g_source_set_callback(s, fn, data, NULL);
  guint id = g_source_attach(s, l->ctx);
  g_source_unref(s);
  return id;
}
