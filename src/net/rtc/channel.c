/*
 * channel.c — data channels over the peer's SCTP association: opening by DCEP (RFC 8832) or
 * by pre-agreed id, the send queue with buffered amounts and low-water callbacks, message
 * delivery by PPID, and closing by stream reset (RFC 8831 §6.7).
 *
 * Sends from any thread go into one FIFO per peer (peer->sendq, under peer->mu) that the
 * network thread empties into usrsctp while it has buffer space. A send made on the network
 * thread with an empty queue goes straight to usrsctp, which copies it.
 */
#include "net/rtc/rtc.h"

#include "core/error.h"
#include "net/rtc/dcep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gdb_rtc_channel_options_init(gdb_rtc_channel_options *o) {
  memset(o, 0, sizeof *o);
  o->max_retransmits = -1;
  o->max_packet_life_ms = -1;
  o->priority = 256;
}

static void set_state(gdb_rtc_channel *ch, ch_state s) {
  g_mutex_lock(&ch->peer->mu);
  ch->state = s;
  g_mutex_unlock(&ch->peer->mu);
}

static ch_state get_state(gdb_rtc_channel *ch) {
  g_mutex_lock(&ch->peer->mu);
  ch_state s = ch->state;
  g_mutex_unlock(&ch->peer->mu);
  return s;
}

static void fire_open(gdb_rtc_channel *ch) {
  if (!ch->peer->muted && ch->cb.on_open) ch->cb.on_open(ch, ch->cb.data);
}

/* Marks the channel closed and tells the application once. */
static void finish_close(gdb_rtc_channel *ch) {
  gdb_rtc_peer *p = ch->peer;
  if (get_state(ch) == CH_CLOSED) return;
  set_state(ch, CH_CLOSED);
  if (ch->sid >= 0 && g_hash_table_lookup(p->by_sid, GINT_TO_POINTER(ch->sid)) == ch)
    g_hash_table_remove(p->by_sid, GINT_TO_POINTER(ch->sid));
  if (!p->muted && ch->cb.on_close) ch->cb.on_close(ch, ch->cb.data);
}

static gdb_rtc_channel *channel_new(gdb_rtc_peer *p, const char *label, size_t label_len,
                                    const char *proto, size_t proto_len) {
  gdb_rtc_channel *ch = calloc(1, sizeof *ch);
  if (!ch) return NULL;
  ch->peer = p;
  ch->sid = -1;
  ch->label = g_strndup(label, label_len);
  ch->protocol = g_strndup(proto, proto_len);
  g_ptr_array_add(p->channels, ch);
  return ch;
}

/* Sends now if the queue is empty and SCTP takes it, else queues (counted in the channel's
 * buffered amount when `counted`). Network thread. */
static int send_or_queue(gdb_rtc_peer *p, gdb_rtc_channel *ch, uint32_t ppid, const void *msg,
                         size_t len, bool counted) {
  g_mutex_lock(&p->mu);
  bool empty = g_queue_is_empty(&p->sendq);
  g_mutex_unlock(&p->mu);
  if (empty) {
    int r = gdb_rtc_sctp_send(p, ch, ppid, msg, len);
    if (r == 1) return GDB_OK;
    if (r < 0) return gdb_fail(GDB_ENET, "rtc: SCTP send failed (%s)", strerror(-r));
  }
  out_msg *m = malloc(sizeof *m + len);
  if (!m) return gdb_fail(GDB_ENOMEM, "rtc: out of memory");
  m->ch = ch;
  m->ppid = counted ? ppid : ppid | 0x80000000u; /* high bit: internal, not counted */
  m->len = len;
  if (len) memcpy(m->data, msg, len);
  g_mutex_lock(&p->mu);
  g_queue_push_tail(&p->sendq, m);
  if (counted) {
    ch->buffered += len;
    if (ch->buffered > ch->low_threshold) ch->above_low = true;
  }
  g_mutex_unlock(&p->mu);
  return GDB_OK;
}

/* ── opening ── */

static int next_sid(gdb_rtc_peer *p) {
  for (int sid = p->dtls_client ? 0 : 1; sid < p->n_out_streams && sid < 65535; sid += 2)
    if (!g_hash_table_contains(p->by_sid, GINT_TO_POINTER(sid))) return sid;
  return -1;
}

void gdb_rtc_channels_open_pending(gdb_rtc_peer *p) {
  for (guint i = 0; i < p->channels->len && !p->ended; i++) {
    gdb_rtc_channel *ch = p->channels->pdata[i];
    if (get_state(ch) != CH_CONNECTING || ch->open_sent) continue;
    ch->open_sent = true;
    if (!ch->negotiated) {
      int sid = next_sid(p);
      if (sid < 0) {
        g_debug("rtc: no free SCTP stream for channel \"%s\"", ch->label);
        finish_close(ch);
        continue;
      }
      g_mutex_lock(&p->mu);
      ch->sid = sid;
      g_mutex_unlock(&p->mu);
      g_hash_table_insert(p->by_sid, GINT_TO_POINTER(sid), ch);
      gdb_buf b = {0};
      gdb_dcep_open o = {.channel_type = ch->dcep_type,
                         .priority = ch->priority,
                         .reliability = ch->reliability,
                         .label = (const uint8_t *)ch->label,
                         .label_len = strlen(ch->label),
                         .protocol = (const uint8_t *)ch->protocol,
                         .protocol_len = strlen(ch->protocol)};
      gdb_dcep_encode_open(&b, &o);
      int rc = b.oom ? GDB_ENOMEM : send_or_queue(p, ch, GDB_PPID_DCEP, b.data, b.len, false);
      gdb_buf_free(&b);
      if (rc) {
        finish_close(ch);
        continue;
      }
    } else {
      ch->acked = true;
    }
    set_state(ch, CH_OPEN);
    fire_open(ch);
  }
}

static void open_pending_cb(void *data) {
  gdb_rtc_peer *p = data;
  p->opening_scheduled = false;
  if (p->sctp_up && !p->ended) gdb_rtc_channels_open_pending(p);
  gdb_rtc_sctp_drain();
  gdb_rtc_peer_unref(p);
}

typedef struct open_call {
  gdb_rtc_peer *p;
  const char *label;
  const gdb_rtc_channel_options *o;
  const gdb_rtc_channel_callbacks *cb;
  gdb_rtc_channel *ch;
  int rc;
  char err[200];
} open_call;

static void do_open(void *data) {
  open_call *c = data;
  gdb_rtc_peer *p = c->p;
  const gdb_rtc_channel_options *o = c->o;
  if (p->ended) {
    c->rc = gdb_fail(GDB_ESTATE, "rtc: cannot open a channel on a closed connection");
    goto fail;
  }
  if (o->negotiated && g_hash_table_contains(p->by_sid, GINT_TO_POINTER(o->id))) {
    c->rc = gdb_fail(GDB_EINVAL, "rtc: stream id %u is already in use", o->id);
    goto fail;
  }
  const char *proto = o->protocol ? o->protocol : "";
  gdb_rtc_channel *ch = channel_new(p, c->label, strlen(c->label), proto, strlen(proto));
  if (!ch) {
    c->rc = gdb_fail(GDB_ENOMEM, "rtc: out of memory");
    goto fail;
  }
  ch->negotiated = o->negotiated;
  ch->priority = o->priority;
  uint8_t type = GDB_DCEP_RELIABLE;
  if (o->max_retransmits >= 0) {
    type = GDB_DCEP_PARTIAL_RELIABLE_REXMIT;
    ch->reliability = (uint32_t)o->max_retransmits;
  } else if (o->max_packet_life_ms >= 0) {
    type = GDB_DCEP_PARTIAL_RELIABLE_TIMED;
    ch->reliability = (uint32_t)o->max_packet_life_ms;
  }
  if (o->unordered) type |= GDB_DCEP_UNORDERED_FLAG;
  ch->dcep_type = type;
  if (c->cb) ch->cb = *c->cb;
  if (o->negotiated) {
    ch->sid = o->id;
    g_hash_table_insert(p->by_sid, GINT_TO_POINTER(ch->sid), ch);
  }
  c->ch = ch;
  if (p->sctp_up && !p->opening_scheduled) {
    /* Open from a later iteration, so on_open follows the return of gdb_rtc_channel_open. */
    p->opening_scheduled = true;
    gdb_rtc_peer_ref(p);
    gdb_net_loop_invoke(p->loop, open_pending_cb, p);
  }
  return;
fail:
  snprintf(c->err, sizeof c->err, "%s", gdb_errmsg());
}

int gdb_rtc_channel_open(gdb_rtc_peer *p, const char *label, const gdb_rtc_channel_options *opts,
                         const gdb_rtc_channel_callbacks *cb, gdb_rtc_channel **out) {
  gdb_rtc_channel_options defaults;
  if (!opts) {
    gdb_rtc_channel_options_init(&defaults);
    opts = &defaults;
  }
  if (!label) label = "";
  if (strlen(label) > 65535 || (opts->protocol && strlen(opts->protocol) > 65535))
    return gdb_fail(GDB_ETOOBIG, "rtc: channel label and protocol are limited to 65535 bytes");
  if (opts->max_retransmits >= 0 && opts->max_packet_life_ms >= 0)
    return gdb_fail(GDB_EINVAL, "rtc: set max_retransmits or max_packet_life_ms, not both");
  if (opts->negotiated && opts->id > 65534)
    return gdb_fail(GDB_EINVAL, "rtc: negotiated stream id must be 0..65534");
  open_call c = {.p = p, .label = label, .o = opts, .cb = cb};
  gdb_net_loop_invoke_sync(p->loop, do_open, &c);
  if (c.rc) return gdb_fail(c.rc, "%s", c.err);
  *out = c.ch;
  return GDB_OK;
}

/* ── receiving ── */

static void on_dcep_open(gdb_rtc_peer *p, uint16_t sid, const uint8_t *msg, size_t len) {
  gdb_dcep_open o;
  if (gdb_dcep_decode_open(msg, len, &o) != GDB_OK) {
    g_debug("rtc: refused a channel on stream %u: %s", sid, gdb_errmsg());
    gdb_rtc_sctp_reset_stream(p, sid);
    return;
  }
  if (g_hash_table_contains(p->by_sid, GINT_TO_POINTER(sid))) {
    g_debug("rtc: DATA_CHANNEL_OPEN for stream %u, which is already in use: ignored", sid);
    return;
  }
  gdb_rtc_channel *ch =
      channel_new(p, (const char *)o.label, o.label_len, (const char *)o.protocol, o.protocol_len);
  if (!ch) return;
  ch->sid = sid;
  ch->dcep_type = o.channel_type;
  ch->reliability = o.reliability;
  ch->priority = o.priority;
  ch->acked = true;
  ch->open_sent = true;
  g_hash_table_insert(p->by_sid, GINT_TO_POINTER(sid), ch);
  set_state(ch, CH_OPEN);
  uint8_t ack = GDB_DCEP_ACK;
  if (send_or_queue(p, ch, GDB_PPID_DCEP, &ack, 1, false) != GDB_OK)
    g_debug("rtc: could not acknowledge channel on stream %u", sid);
  if (!p->muted && p->cfg.cb.on_channel) p->cfg.cb.on_channel(p, ch, p->cfg.cb.data);
  if (get_state(ch) == CH_OPEN) fire_open(ch);
}

void gdb_rtc_channels_deliver(gdb_rtc_peer *p, uint16_t sid, uint32_t ppid, const uint8_t *msg,
                              size_t len) {
  if (ppid == GDB_PPID_DCEP) {
    int type = gdb_dcep_type(msg, len);
    if (type == GDB_DCEP_OPEN) {
      on_dcep_open(p, sid, msg, len);
    } else if (type == GDB_DCEP_ACK) {
      gdb_rtc_channel *ch = g_hash_table_lookup(p->by_sid, GINT_TO_POINTER(sid));
      if (ch) ch->acked = true;
    } else {
      g_debug("rtc: ignored unknown DCEP message type %d on stream %u", type, sid);
    }
    return;
  }
  gdb_rtc_channel *ch = g_hash_table_lookup(p->by_sid, GINT_TO_POINTER(sid));
  if (!ch) return;
  ch_state st = get_state(ch);
  if (st != CH_OPEN && st != CH_CLOSING) return;
  ch->acked = true; /* any message means the peer knows the channel (RFC 8832 §6) */
  bool binary;
  switch (ppid) {
  case GDB_PPID_STRING: binary = false; break;
  case GDB_PPID_BINARY: binary = true; break;
  case 52: binary = true; break;  /* deprecated partial binary: whole here */
  case 54: binary = false; break; /* deprecated partial string */
  case GDB_PPID_STRING_EMPTY: binary = false, len = 0; break;
  case GDB_PPID_BINARY_EMPTY: binary = true, len = 0; break;
  default: g_debug("rtc: ignored a message with unknown PPID %u", ppid); return;
  }
  if (!p->muted && ch->cb.on_message) ch->cb.on_message(ch, msg, len, binary, ch->cb.data);
}

/* ── closing ── */

void gdb_rtc_channels_stream_reset(gdb_rtc_peer *p, uint16_t sid, bool incoming) {
  gdb_rtc_channel *ch = g_hash_table_lookup(p->by_sid, GINT_TO_POINTER(sid));
  if (!ch) return;
  if (incoming) {
    ch->reset_in = true;
    if (!ch->reset_sent) { /* the peer closed: close our direction too */
      set_state(ch, CH_CLOSING);
      ch->reset_sent = true;
      gdb_rtc_sctp_reset_stream(p, sid);
    }
  } else {
    ch->reset_out = true;
  }
  if (ch->reset_in && ch->reset_out) finish_close(ch);
}

void gdb_rtc_channels_close_all(gdb_rtc_peer *p) {
  for (guint i = 0; i < p->channels->len; i++) finish_close(p->channels->pdata[i]);
}

void gdb_rtc_channels_free_all(gdb_rtc_peer *p) {
  for (guint i = 0; i < p->channels->len; i++) {
    gdb_rtc_channel *ch = p->channels->pdata[i];
    g_free(ch->label);
    g_free(ch->protocol);
    free(ch);
  }
  g_ptr_array_set_size(p->channels, 0);
}

typedef struct ch_call {
  gdb_rtc_channel *ch;
  const gdb_rtc_channel_callbacks *cb;
} ch_call;

static void do_ch_close(void *data) {
  gdb_rtc_channel *ch = data;
  gdb_rtc_peer *p = ch->peer;
  ch_state st = get_state(ch);
  if (st == CH_CLOSED || st == CH_CLOSING) return;
  if (!p->sctp_up || ch->sid < 0 || st == CH_CONNECTING) {
    finish_close(ch);
    return;
  }
  set_state(ch, CH_CLOSING);
  gdb_rtc_channels_flush(p); /* resets the stream once its queued messages are out */
  gdb_rtc_sctp_drain();
}

void gdb_rtc_channel_close(gdb_rtc_channel *ch) {
  if (ch) gdb_net_loop_invoke_sync(ch->peer->loop, do_ch_close, ch);
}

/* ── sending ── */

void gdb_rtc_channels_flush(gdb_rtc_peer *p) {
  for (;;) {
    g_mutex_lock(&p->mu);
    out_msg *m = g_queue_peek_head(&p->sendq);
    g_mutex_unlock(&p->mu);
    if (!m) break;
    bool internal = m->ppid & 0x80000000u;
    uint32_t ppid = m->ppid & 0x7fffffffu;
    /* Messages of a closed channel, or of one whose stream we already reset (the peer closed
     * it), are dropped: the stream takes no more data. */
    bool dead = !m->ch || get_state(m->ch) == CH_CLOSED || (!internal && m->ch->reset_sent);
    int r = dead ? -1 : gdb_rtc_sctp_send(p, m->ch, ppid, m->data, m->len);
    if (r == 0) break; /* no buffer space: the upcall brings us back */
    bool low = false;
    g_mutex_lock(&p->mu);
    g_queue_pop_head(&p->sendq);
    gdb_rtc_channel *ch = m->ch;
    if (!internal && ch) {
      ch->buffered -= m->len;
      if (ch->above_low && ch->buffered <= ch->low_threshold) {
        ch->above_low = false;
        low = true;
      }
    }
    g_mutex_unlock(&p->mu);
    free(m);
    if (low && !p->muted && ch->cb.on_buffered_low) ch->cb.on_buffered_low(ch, ch->cb.data);
  }
  g_mutex_lock(&p->mu);
  bool empty = g_queue_is_empty(&p->sendq);
  g_mutex_unlock(&p->mu);
  for (guint i = 0; i < p->channels->len; i++) {
    gdb_rtc_channel *ch = p->channels->pdata[i];
    g_mutex_lock(&p->mu);
    bool idle = ch->state == CH_CLOSING && ch->buffered == 0;
    g_mutex_unlock(&p->mu);
    if (!ch->reset_sent && ch->sid >= 0 && idle) {
      ch->reset_sent = true;
      gdb_rtc_sctp_reset_stream(p, (uint16_t)ch->sid);
    }
  }
  if (empty && p->draining && !p->shutdown_sent) {
    p->shutdown_sent = true;
    gdb_rtc_sctp_shutdown(p);
  }
}

static void flush_cb(void *data) {
  gdb_rtc_peer *p = data;
  g_mutex_lock(&p->mu);
  p->flush_scheduled = false;
  g_mutex_unlock(&p->mu);
  if (!p->finalized) {
    gdb_rtc_channels_flush(p);
    gdb_rtc_sctp_drain();
  }
  gdb_rtc_peer_unref(p);
}

int gdb_rtc_channel_send(gdb_rtc_channel *ch, const void *msg, size_t len, bool binary) {
  if (!ch || (!msg && len)) return gdb_fail(GDB_EINVAL, "rtc: send needs a channel and a message");
  gdb_rtc_peer *p = ch->peer;
  uint32_t ppid = binary ? (len ? GDB_PPID_BINARY : GDB_PPID_BINARY_EMPTY)
                         : (len ? GDB_PPID_STRING : GDB_PPID_STRING_EMPTY);
  g_mutex_lock(&p->mu);
  if (ch->state != CH_OPEN) {
    g_mutex_unlock(&p->mu);
    return gdb_fail(GDB_ESTATE, "rtc: channel \"%s\" is not open", ch->label);
  }
  if (len > p->send_limit) {
    size_t limit = p->send_limit;
    g_mutex_unlock(&p->mu);
    return gdb_fail(GDB_ETOOBIG,
                    "rtc: message of %zu bytes is over the peer's max-message-size of %zu", len,
                    limit);
  }
  bool on_loop = gdb_net_loop_is_current(p->loop);
  if (on_loop) {
    g_mutex_unlock(&p->mu);
    int rc = send_or_queue(p, ch, ppid, msg, len, true);
    gdb_rtc_sctp_drain();
    return rc;
  }
  out_msg *m = malloc(sizeof *m + len);
  if (!m) {
    g_mutex_unlock(&p->mu);
    return gdb_fail(GDB_ENOMEM, "rtc: out of memory");
  }
  m->ch = ch;
  m->ppid = ppid;
  m->len = len;
  if (len) memcpy(m->data, msg, len);
  g_queue_push_tail(&p->sendq, m);
  ch->buffered += len;
  if (ch->buffered > ch->low_threshold) ch->above_low = true;
  bool schedule = !p->flush_scheduled;
  p->flush_scheduled = true;
  if (schedule) gdb_rtc_peer_ref(p);
  g_mutex_unlock(&p->mu);
  if (schedule) gdb_net_loop_invoke(p->loop, flush_cb, p);
  return GDB_OK;
}

size_t gdb_rtc_channel_buffered_amount(gdb_rtc_channel *ch) {
  g_mutex_lock(&ch->peer->mu);
  size_t n = ch->buffered;
  g_mutex_unlock(&ch->peer->mu);
  return n;
}

void gdb_rtc_channel_set_buffered_low_threshold(gdb_rtc_channel *ch, size_t bytes) {
  g_mutex_lock(&ch->peer->mu);
  ch->low_threshold = bytes;
  ch->above_low = ch->buffered > bytes;
  g_mutex_unlock(&ch->peer->mu);
}

static void do_set_callbacks(void *data) {
  ch_call *c = data;
  if (c->cb)
    c->ch->cb = *c->cb;
  else
    memset(&c->ch->cb, 0, sizeof c->ch->cb);
}

void gdb_rtc_channel_set_callbacks(gdb_rtc_channel *ch, const gdb_rtc_channel_callbacks *cb) {
  ch_call c = {ch, cb};
  gdb_net_loop_invoke_sync(ch->peer->loop, do_set_callbacks, &c);
}

bool gdb_rtc_channel_is_open(gdb_rtc_channel *ch) { return get_state(ch) == CH_OPEN; }

int gdb_rtc_channel_id(gdb_rtc_channel *ch) {
  g_mutex_lock(&ch->peer->mu);
  int id = ch->sid;
  g_mutex_unlock(&ch->peer->mu);
  return id;
}

const char *gdb_rtc_channel_label(gdb_rtc_channel *ch) { return ch->label; }
const char *gdb_rtc_channel_protocol(gdb_rtc_channel *ch) { return ch->protocol; }
gdb_rtc_peer *gdb_rtc_channel_peer(gdb_rtc_channel *ch) { return ch->peer; }
