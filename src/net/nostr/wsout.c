/*
 * wsout.c — a connection's output queue (see wsout.h).
 *
 * The relay fans one event out to many connections, so what matters is syscalls per
 * connection, not per message: frames collect in one buffer per connection and the relay
 * flushes every buffer once per loop iteration with one send() straight from it (no copy
 * into a staging buffer, no poll round trip for a writable callback while the socket has
 * room, which on loopback is nearly always).
 *
 * Writing outside lws's writable callback is safe under two conditions, both kept here:
 * lws has nothing of its own buffered (lws_partial_buffered() is 0), and lws's own frames
 * (a pong, a close) never land in the middle of one of ours. When the kernel takes only part
 * of the queue, the queue advances to the next frame boundary and the rest of the frame that
 * was cut goes to lws_write(), which keeps it and sends it before anything of its own; the
 * queue then waits for the writable callback. So head always sits on a frame boundary.
 */
#include "net/nostr/wsout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define KEEP_MAX (1024 * 1024) /* a buffer bigger than this is freed when it empties */

size_t gdb_wsout_header(uint8_t h[10], size_t n) {
  h[0] = 0x81; /* FIN, text */
  if (n < 126) {
    h[1] = (uint8_t)n;
    return 2;
  }
  if (n <= 0xffff) {
    h[1] = 126;
    h[2] = (uint8_t)(n >> 8);
    h[3] = (uint8_t)n;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
  return 10;
}

/* The length of the frame starting at p, from its header (one of ours). */
static size_t frame_size(const uint8_t *p) {
  size_t n = p[1] & 0x7f;
  if (n < 126) return 2 + n;
  if (n == 126) return 4 + ((size_t)p[2] << 8 | p[3]);
  uint64_t m = 0;
  for (int i = 0; i < 8; i++) m = m << 8 | p[2 + i];
  return 10 + (size_t)m;
}

void gdb_wsout_init(gdb_wsout *o, struct lws *wsi) {
  memset(o, 0, sizeof *o);
  o->wsi = wsi;
  o->fd = lws_get_socket_fd(wsi);
}

void gdb_wsout_free(gdb_wsout *o) {
  gdb_buf_free(&o->buf);
  o->head = 0;
}

void gdb_wsout_text(gdb_wsout *o, const void *p, size_t n) {
  uint8_t h[10];
  size_t hl = gdb_wsout_header(h, n);
  if (o->buf.len + hl + n > o->buf.cap && !gdb_buf_grow(&o->buf, hl + n)) return;
  gdb_buf_put(&o->buf, h, hl);
  gdb_buf_put(&o->buf, p, n);
}

void gdb_wsout_clear(gdb_wsout *o) { o->buf.len = o->head = 0; }

/* Hands the n bytes at p, the rest of a frame the kernel took only part of, to lws. */
static bool finish_frame(gdb_wsout *o, const uint8_t *p, size_t n) {
  uint8_t *b = malloc(LWS_PRE + n);
  if (!b) return false;
  memcpy(b + LWS_PRE, p, n);
  int w = lws_write(o->wsi, b + LWS_PRE, n, LWS_WRITE_RAW);
  free(b);
  return w >= (int)n;
}

static void wait_writable(gdb_wsout *o) {
  o->want_writable = true;
  lws_callback_on_writable(o->wsi);
}

bool gdb_wsout_write(gdb_wsout *o) {
  size_t pending = gdb_wsout_pending(o);
  if (o->want_writable || !pending) return true;
  if (lws_partial_buffered(o->wsi)) {
    wait_writable(o);
    return true;
  }
  ssize_t w = send(o->fd, o->buf.data + o->head, pending, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
  size_t end = o->head + (w > 0 ? (size_t)w : 0);
  if (end == o->buf.len) {
    o->head = end;
  } else {
    size_t off = o->head;
    while (off < end) {
      size_t fl = frame_size(o->buf.data + off);
      if (off + fl > end && !finish_frame(o, o->buf.data + end, off + fl - end)) return false;
      off += fl;
    }
    o->head = off;
    wait_writable(o);
  }
  if (o->head == o->buf.len) {
    o->buf.len = o->head = 0;
    if (o->buf.cap > KEEP_MAX) gdb_buf_free(&o->buf); /* give back a burst's memory */
  } else if (o->head > o->buf.len / 2) {
    memmove(o->buf.data, o->buf.data + o->head, o->buf.len - o->head);
    o->buf.len -= o->head;
    o->head = 0;
  }
  return true;
}

bool gdb_wsout_writable(gdb_wsout *o) {
  o->want_writable = false;
  return gdb_wsout_write(o);
}
