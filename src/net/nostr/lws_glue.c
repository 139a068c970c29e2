/*
 * lws_glue.c — libwebsockets contexts on the shared network thread (see lws_glue.h).
 * libwebsockets 4.1.6 takes a foreign GLib loop as a GMainLoop * in foreign_loops[0] (its glib
 * event-lib plugin reaches the GMainContext through g_main_loop_get_context()); with a foreign
 * loop it neither runs nor quits the loop and installs no signal handler.
 */
#include "net/nostr/lws_glue.h"

#include "core/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void) {
  const char *env = getenv("GDB_LWS_LOG");
  lws_set_log_level(env ? atoi(env) : 0, NULL);
}

struct lws_context *gdb_nostr_lws_context(gdb_net_loop *loop,
                                          struct lws_context_creation_info *info) {
  pthread_once(&log_once, log_init);
  static void *foreign[1];
  foreign[0] = gdb_net_loop_main(loop); /* one loop per process: the same pointer every time */
  info->foreign_loops = foreign;
  info->options |= LWS_SERVER_OPTION_GLIB;
  info->gid = (gid_t)-1;
  info->uid = (uid_t)-1;
  struct lws_context *ctx = lws_create_context(info);
  if (!ctx)
    gdb_fail(GDB_ENET, "libwebsockets could not create its context (is the port in use, or the "
                       "glib event library plugin missing? set GDB_LWS_LOG=7 for details)");
  return ctx;
}

int64_t gdb_nostr_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
