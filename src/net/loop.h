/*
 * loop.h — the network thread: one GLib main loop per process that every network component
 * (libnice agents, libwebsockets contexts, timers) attaches its sources to. Code elsewhere
 * never touches network objects directly; it hands work to this thread with
 * gdb_net_loop_invoke() and receives results through its own queues or callbacks.
 */
#ifndef GDB_NET_LOOP_H
#define GDB_NET_LOOP_H

#include <glib.h>
#include <stdbool.h>

typedef struct gdb_net_loop gdb_net_loop;

/* The process-wide loop, started on first use; every call takes a reference. */
gdb_net_loop *gdb_net_loop_acquire(void);
/* Drops a reference; the last one stops the loop thread and joins it. Must not be called from
 * the loop thread itself. */
void gdb_net_loop_release(gdb_net_loop *loop);
/* The GMainContext that the loop thread iterates (attach sources here). */
GMainContext *gdb_net_loop_context(gdb_net_loop *loop);
/* The GMainLoop the thread runs: what libwebsockets 4.1 expects as its foreign loop
 * (lws_context_creation_info.foreign_loops[0] with LWS_SERVER_OPTION_GLIB; its glib plugin
 * takes the context from it with g_main_loop_get_context()). */
GMainLoop *gdb_net_loop_main(gdb_net_loop *loop);
/* True when called on the loop thread. */
bool gdb_net_loop_is_current(gdb_net_loop *loop);
/* Runs fn(data) on the loop thread soon; returns at once. */
void gdb_net_loop_invoke(gdb_net_loop *loop, void (*fn)(void *), void *data);
/* Runs fn(data) on the loop thread and waits for it to return (runs inline when called on the
 * loop thread). */
void gdb_net_loop_invoke_sync(gdb_net_loop *loop, void (*fn)(void *), void *data);
/* Adds a timer on the loop thread calling fn every interval_ms until it returns false.
 * Returns the GSource id (remove it on the loop thread with g_source_remove... or let fn
 * return false). Thread-safe. */
guint gdb_net_loop_timeout(gdb_net_loop *loop, guint interval_ms, GSourceFunc fn, void *data);

#endif
