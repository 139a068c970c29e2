/*
 * wsout.h — the output queue of one server-side WebSocket connection: whole unmasked text
 * frames (RFC 6455 5.2) collected in one buffer and written with one send() per flush
 * straight from it, outside libwebsockets' writable callback when the socket takes
 * everything, through it when it does not. See wsout.c.
 */
#ifndef GDB_NOSTR_WSOUT_H
#define GDB_NOSTR_WSOUT_H

#include "core/buf.h"

#include <libwebsockets.h>
#include <stdbool.h>

typedef struct gdb_wsout {
  struct lws *wsi;
  int fd;
  gdb_buf buf;        /* frames not yet written; head is always at a frame boundary */
  size_t head;        /* bytes of buf already written */
  bool want_writable; /* waiting for lws's writable callback before writing again */
} gdb_wsout;

/* Writes the header of an unmasked final text frame of n payload bytes into h; returns its
 * length (2, 4 or 10). */
size_t gdb_wsout_header(uint8_t h[10], size_t n);

void gdb_wsout_init(gdb_wsout *o, struct lws *wsi);
void gdb_wsout_free(gdb_wsout *o);
/* Bytes queued and not yet written. */
static inline size_t gdb_wsout_pending(const gdb_wsout *o) { return o->buf.len - o->head; }
/* Appends one text frame holding the n bytes at p. */
void gdb_wsout_text(gdb_wsout *o, const void *p, size_t n);
/* Appends bytes that are whole frames already (e.g. one built once for many connections). */
static inline void gdb_wsout_frames(gdb_wsout *o, const void *p, size_t n) {
  gdb_buf_put(&o->buf, p, n);
}
/* Drops everything queued (the connection is being cut off). */
void gdb_wsout_clear(gdb_wsout *o);

/* Writes what is queued, unless waiting for the writable callback. Returns false when the
 * connection is broken (the caller closes it). */
bool gdb_wsout_write(gdb_wsout *o);
/* From LWS_CALLBACK_SERVER_WRITEABLE: the socket is writable again; writes. */
bool gdb_wsout_writable(gdb_wsout *o);

#endif
