/*
 * verifier.c — the relay's verification pool (see verifier.h). One BIP-340 verification costs
 * ~60 µs here (libsecp256k1 0.2.0), more than everything else the relay does for an event
 * fanned out to 100 subscribers, so it runs on worker threads (one per core by default) while
 * the network thread keeps reading, ordering answers and writing. The JSON parse goes with it:
 * the network thread only frames and routes bytes.
 *
 * Jobs wait in one FIFO (a mutex and a condition variable; GThreadPool would do, but names its
 * threads after the program, and per-thread CPU accounting in the benchmark needs ours).
 * Finished jobs go to a second list that a GSource on the network thread's context drains:
 * the first worker to finish into an empty list wakes the context, so a burst of jobs costs
 * one wake-up, not one per job, and no allocation per hand-back. The source is destroyed with
 * the verifier, so nothing can run after the relay is gone (gdb_net_loop_invoke() could).
 */
#include "net/nostr/verifier.h"

#include "core/error.h"
#include "net/nostr/event.h"

#include <stdlib.h>
#include <string.h>

typedef struct done_source {
  GSource base;
  gdb_nostr_verifier *v;
} done_source;

struct gdb_nostr_verifier {
  GMutex mu;
  GCond cond;
  gdb_nostr_vjob *head, *tail; /* waiting for a worker */
  bool stop;
  GThread **threads;
  unsigned n_threads;
  gdb_nostr_seen *seen;
  GMutex done_mu;
  gdb_nostr_vjob *done_head, *done_tail; /* finished, waiting for the network thread */
  gint done_flag;                        /* done list non-empty (read without the lock) */
  GMainContext *ctx;
  GSource *source;
  gdb_nostr_verifier_done_fn done;
  void *data;
};

gdb_nostr_vjob *gdb_nostr_vjob_new(const char *s, size_t n, size_t max_filters) {
  gdb_nostr_vjob *job = calloc(1, sizeof *job);
  if (!job) return NULL;
  job->text = malloc(n + 1);
  if (!job->text) {
    free(job);
    return NULL;
  }
  memcpy(job->text, s, n);
  job->text[n] = 0;
  job->len = n;
  job->max_filters = max_filters;
  return job;
}

void gdb_nostr_vjob_free(gdb_nostr_vjob *job) {
  if (!job) return;
  gdb_nostr_msg_clear(&job->msg);
  free(job->text);
  free(job);
}

static void copy_err(gdb_nostr_vjob *job) {
  snprintf(job->err, sizeof job->err, "%s", gdb_errmsg());
}

int gdb_nostr_vjob_check(const gdb_nostr_event *ev, gdb_nostr_seen *seen, bool *from_cache) {
  *from_cache = false;
  int rc = gdb_nostr_event_verify_id(ev);
  if (rc) return rc;
  if (gdb_nostr_seen_has(seen, ev)) {
    *from_cache = true;
    return GDB_OK;
  }
  if ((rc = gdb_nostr_event_verify_sig(ev))) return rc;
  gdb_nostr_seen_add(seen, ev);
  return GDB_OK;
}

void gdb_nostr_vjob_run(gdb_nostr_vjob *job, gdb_nostr_seen *seen) {
  job->rc =
      gdb_nostr_msg_parse(job->text, job->len, GDB_NMSG_TO_RELAY, job->max_filters, &job->msg);
  if (job->rc) {
    copy_err(job);
    return;
  }
  if (!job->verify || job->msg.type != GDB_NMSG_EVENT) return;
  if ((job->vrc = gdb_nostr_vjob_check(job->msg.event, seen, &job->from_cache))) copy_err(job);
}

/* ── workers ── */

static gpointer worker(gpointer p) {
  gdb_nostr_verifier *v = p;
  for (;;) {
    g_mutex_lock(&v->mu);
    while (!v->head && !v->stop) g_cond_wait(&v->cond, &v->mu);
    gdb_nostr_vjob *job = v->head;
    if (!job) { /* stopping, and nothing left */
      g_mutex_unlock(&v->mu);
      return NULL;
    }
    v->head = job->wnext;
    if (!v->head) v->tail = NULL;
    g_mutex_unlock(&v->mu);
    gdb_nostr_vjob_run(job, v->seen);
    job->wnext = NULL;
    g_mutex_lock(&v->done_mu);
    bool was_empty = !v->done_head;
    if (v->done_tail) {
      v->done_tail->wnext = job;
    } else {
      v->done_head = job;
    }
    v->done_tail = job;
    g_atomic_int_set(&v->done_flag, 1);
    g_mutex_unlock(&v->done_mu);
    if (was_empty) g_main_context_wakeup(v->ctx);
  }
}

void gdb_nostr_verifier_submit(gdb_nostr_verifier *v, gdb_nostr_vjob *job) {
  job->wnext = NULL;
  g_mutex_lock(&v->mu);
  if (v->tail) {
    v->tail->wnext = job;
  } else {
    v->head = job;
  }
  v->tail = job;
  g_cond_signal(&v->cond);
  g_mutex_unlock(&v->mu);
}

/* ── hand-back on the network thread ── */

static void drain(gdb_nostr_verifier *v) {
  g_mutex_lock(&v->done_mu);
  gdb_nostr_vjob *job = v->done_head;
  v->done_head = v->done_tail = NULL;
  g_atomic_int_set(&v->done_flag, 0);
  g_mutex_unlock(&v->done_mu);
  while (job) {
    gdb_nostr_vjob *next = job->wnext;
    job->wnext = NULL;
    v->done(job, v->data);
    job = next;
  }
}

static gboolean done_prepare(GSource *s, gint *timeout) {
  *timeout = -1;
  return g_atomic_int_get(&((done_source *)s)->v->done_flag) != 0;
}

static gboolean done_check(GSource *s) {
  return g_atomic_int_get(&((done_source *)s)->v->done_flag) != 0;
}

static gboolean done_dispatch(GSource *s, GSourceFunc cb, gpointer data) {
  (void)cb;
  (void)data;
  drain(((done_source *)s)->v);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs DONE_FUNCS = {done_prepare, done_check, done_dispatch, NULL, NULL, NULL};

gdb_nostr_verifier *gdb_nostr_verifier_new(GMainContext *ctx, unsigned threads,
                                           gdb_nostr_seen *seen, gdb_nostr_verifier_done_fn done,
                                           void *data) {
  if (!threads) {
    gdb_fail(GDB_EINVAL, "relay: a verifier needs at least one thread");
    return NULL;
  }
  gdb_nostr_verifier *v = calloc(1, sizeof *v);
  if (!v || !(v->threads = calloc(threads, sizeof *v->threads))) {
    free(v);
    gdb_fail(GDB_ENOMEM, "relay: out of memory starting the verification threads");
    return NULL;
  }
  g_mutex_init(&v->mu);
  g_cond_init(&v->cond);
  g_mutex_init(&v->done_mu);
  v->seen = seen;
  v->ctx = ctx;
  v->done = done;
  v->data = data;
  v->source = g_source_new(&DONE_FUNCS, sizeof(done_source));
  ((done_source *)v->source)->v = v;
  g_source_set_priority(v->source, G_PRIORITY_DEFAULT);
  g_source_attach(v->source, ctx);
  for (unsigned i = 0; i < threads; i++) {
    GError *err = NULL;
    v->threads[i] = g_thread_try_new("gdb-verify", worker, v, &err);
    if (!v->threads[i]) {
      gdb_fail(GDB_ENOMEM, "relay: cannot start a verification thread: %s",
               err ? err->message : "unknown error");
      g_clear_error(&err);
      gdb_nostr_verifier_free(v);
      return NULL;
    }
    v->n_threads++;
  }
  return v;
}

void gdb_nostr_verifier_free(gdb_nostr_verifier *v) {
  if (!v) return;
  g_mutex_lock(&v->mu);
  v->stop = true;
  g_cond_broadcast(&v->cond);
  g_mutex_unlock(&v->mu);
  for (unsigned i = 0; i < v->n_threads; i++) g_thread_join(v->threads[i]);
  drain(v); /* every job submitted is finished now */
  g_source_destroy(v->source);
  g_source_unref(v->source);
  g_mutex_clear(&v->mu);
  g_cond_clear(&v->cond);
  g_mutex_clear(&v->done_mu);
  free(v->threads);
  free(v);
}
