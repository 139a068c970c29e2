/*
 * lws_glue.h — what the relay and the pool share about libwebsockets: a context bound to the
 * network thread's GLib loop, and lws logging routed to stderr only when asked for
 * (GDB_LWS_LOG=<lws log level bitmask>).
 */
#ifndef GDB_NOSTR_LWS_GLUE_H
#define GDB_NOSTR_LWS_GLUE_H

#include "net/loop.h"

#include <libwebsockets.h>

/* Creates a context on the loop thread (call it there). info is completed with the GLib
 * foreign loop and the options every context needs; returns NULL with gdb_fail() set. */
struct lws_context *gdb_nostr_lws_context(gdb_net_loop *loop,
                                          struct lws_context_creation_info *info);
/* Microseconds of a monotonic clock. */
int64_t gdb_nostr_now_us(void);

#endif
