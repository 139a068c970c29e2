/*
 * relay.c — the embedded Nostr relay: a libwebsockets server on the network thread that
 * verifies every event (id and BIP-340 signature) before it stores or forwards it, serves
 * NIP-01 subscriptions, keeps ephemeral kinds (20000-29999) out of storage and regular events
 * in a bounded window (a ring of store_max events), enforces message size, subscription,
 * filter and event-rate limits with NOTICE/CLOSED/OK answers, and answers HTTP GET with its
 * status JSON or, on "Accept: application/nostr+json", its NIP-11 document.
 *
 * Output to subscribers is framed here (unmasked text frames, RFC 6455 5.2) into one byte
 * queue per connection and written in large chunks, one write per writable callback: fanning
 * one event out to many subscribers then costs a memcpy per subscriber, not a syscall.
 */
#include "core/buf.h"
#include "core/error.h"
#include "net/nostr/event.h"
#include "net/nostr/lws_glue.h"
#include "net/nostr/message.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define OUT_CHUNK (64 * 1024)

typedef struct relay_sub {
  char id[GDB_NOSTR_SUBID_MAX + 1];
  gdb_buf prefix; /* ["EVENT","<id>", ready to be followed by an event and "]" */
  gdb_nostr_filter **filters;
  size_t n;
} relay_sub;

typedef struct relay_conn {
  struct relay_conn *prev, *next;
  struct lws *wsi;
  gdb_nostr_relay *relay;
  gdb_buf rx;       /* the message being received */
  bool rx_overflow; /* it is over max_message: discard until its end */
  gdb_buf out;      /* framed output not yet written */
  size_t out_head;  /* bytes of out already written */
  relay_sub *subs;
  size_t n_subs;
  double tokens; /* event-rate bucket */
  int64_t refill_us;
  bool closing;
  bool dirty; /* in relay->dirty, waiting for the flush */
} relay_conn;

/* Per-session data lws allocates for each wsi of our protocol. */
typedef struct relay_pss {
  relay_conn *conn; /* WebSocket connections */
  char *http_body;  /* HTTP: the answer not yet written */
  size_t http_len;
} relay_pss;

struct gdb_nostr_relay {
  gdb_nostr_relay_options opt;
  char *bind, *name;
  gdb_net_loop *loop;
  struct lws_context *ctx;
  struct lws_protocols protocols[2];
  uint16_t port;
  relay_conn *conns;
  gdb_nostr_relay_stats st;
  gdb_nostr_event **ring; /* store_max slots, oldest at ring_head when full */
  size_t ring_head, ring_len;
  GHashTable *stored; /* id hex -> event in ring (borrowed) */
  GPtrArray *dirty;   /* connections with output not yet asked to be written */
  GSource *flush;     /* low-priority source that asks for the writes */
  int start_rc;
};

void gdb_nostr_relay_options_init(gdb_nostr_relay_options *o) {
  memset(o, 0, sizeof *o);
  o->bind = "127.0.0.1";
  o->port = 7447;
  o->name = "genosdb";
  o->max_message = 128 * 1024;
  o->max_subs = 32;
  o->max_filters = 16;
  o->events_per_sec = 200;
  o->store_max = 10000;
  o->max_out_bytes = 16u * 1024 * 1024;
}

/* ── output ── */

/* Writes the header of an unmasked final text frame of n payload bytes; returns its length. */
static size_t frame_header(uint8_t h[10], size_t n) {
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

static void conn_frame(relay_conn *c, const uint8_t *p, size_t n) {
  uint8_t h[10];
  size_t hl = frame_header(h, n);
  gdb_buf_put(&c->out, h, hl);
  gdb_buf_put(&c->out, p, n);
}

static void conn_close(relay_conn *c) {
  c->closing = true;
  lws_callback_on_writable(c->wsi);
}

/* Asking lws for a writable callback per message would make one write per message: output
 * is instead collected while input is being processed, and an idle-priority source (it runs
 * once no input is ready) asks for the writes once per connection. G_PRIORITY_LOW measured
 * worse: lws's own idle source then starves it under load (docs/performance.md). */
static gboolean flush_dirty(gpointer p) {
  gdb_nostr_relay *r = p;
  for (guint i = 0; i < r->dirty->len; i++) {
    relay_conn *c = g_ptr_array_index(r->dirty, i);
    if (!c) continue;
    c->dirty = false;
    lws_callback_on_writable(c->wsi);
  }
  g_ptr_array_set_size(r->dirty, 0);
  g_source_unref(r->flush);
  r->flush = NULL;
  return G_SOURCE_REMOVE;
}

static void conn_flush_later(relay_conn *c) {
  gdb_nostr_relay *r = c->relay;
  size_t pending = c->out.len - c->out_head;
  if (pending > r->opt.max_out_bytes && !c->closing) {
    r->st.dropped++;
    r->st.dropped_limit++;
    conn_close(c); /* a subscriber that does not read is cut off, not buffered forever */
    return;
  }
  if (pending >= OUT_CHUNK) {
    lws_callback_on_writable(c->wsi); /* enough for a full write now */
    return;
  }
  if (c->dirty) return;
  c->dirty = true;
  g_ptr_array_add(r->dirty, c);
  if (!r->flush) {
    r->flush = g_idle_source_new();
    g_source_set_priority(r->flush, G_PRIORITY_DEFAULT_IDLE);
    g_source_set_callback(r->flush, flush_dirty, r, NULL);
    g_source_attach(r->flush, gdb_net_loop_context(r->loop));
  }
}

static void conn_send(relay_conn *c, gdb_buf *msg) {
  if (c->closing) return;
  conn_frame(c, msg->data, msg->len);
  conn_flush_later(c);
}

static void send_notice(relay_conn *c, const char *msg) {
  gdb_buf b = {0};
  gdb_nostr_msg_notice(&b, msg);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static void send_ok(relay_conn *c, const char *id, bool ok, const char *msg) {
  gdb_buf b = {0};
  gdb_nostr_msg_ok(&b, id, ok, msg);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static void send_closed(relay_conn *c, const char *sub, const char *msg) {
  gdb_buf b = {0};
  gdb_nostr_msg_closed(&b, sub, msg);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static int conn_writable(relay_conn *c) {
  if (c->closing && c->out.len == c->out_head) {
    lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
    return -1;
  }
  size_t pending = c->out.len - c->out_head;
  if (!pending) return 0;
  size_t n = pending < OUT_CHUNK ? pending : OUT_CHUNK;
  static uint8_t chunk[LWS_PRE + OUT_CHUNK]; /* the loop thread is the only writer */
  memcpy(chunk + LWS_PRE, c->out.data + c->out_head, n);
  /* Frames are already built: write them as raw bytes on the connection. */
  if (lws_write(c->wsi, chunk + LWS_PRE, n, LWS_WRITE_RAW) < (int)n) return -1;
  c->out_head += n;
  if (c->out_head == c->out.len) {
    c->out.len = c->out_head = 0;
    if (c->out.cap > 4 * OUT_CHUNK) gdb_buf_free(&c->out); /* give back a burst's memory */
  } else if (c->out_head > c->out.len / 2) {
    memmove(c->out.data, c->out.data + c->out_head, c->out.len - c->out_head);
    c->out.len -= c->out_head;
    c->out_head = 0;
  }
  if (c->out.len > c->out_head || c->closing) lws_callback_on_writable(c->wsi);
  return 0;
}

/* ── storage ── */

static void store_event(gdb_nostr_relay *r, gdb_nostr_event *ev) {
  size_t cap = r->opt.store_max;
  if (!cap) return;
  gdb_nostr_event_retain(ev);
  if (r->ring_len == cap) {
    gdb_nostr_event *old = r->ring[r->ring_head];
    g_hash_table_remove(r->stored, old->id_hex);
    gdb_nostr_event_release(old);
    r->ring[r->ring_head] = ev;
    r->ring_head = (r->ring_head + 1) % cap;
  } else {
    r->ring[(r->ring_head + r->ring_len) % cap] = ev;
    r->ring_len++;
  }
  g_hash_table_insert(r->stored, ev->id_hex, ev);
  r->st.stored = r->ring_len;
}

/* ── subscriptions ── */

static void sub_clear(relay_sub *s) {
  gdb_buf_free(&s->prefix);
  for (size_t i = 0; i < s->n; i++) gdb_nostr_filter_free(s->filters[i]);
  free(s->filters);
  memset(s, 0, sizeof *s);
}

static relay_sub *sub_find(relay_conn *c, const char *id) {
  for (size_t i = 0; i < c->n_subs; i++)
    if (!strcmp(c->subs[i].id, id)) return &c->subs[i];
  return NULL;
}

static bool sub_match(const relay_sub *s, const gdb_nostr_event *ev) {
  for (size_t i = 0; i < s->n; i++)
    if (gdb_nostr_filter_match(s->filters[i], ev)) return true;
  return false;
}

/* ["EVENT","<sub>",<event>] framed straight into the output queue: no allocation per
 * delivery, which is what fan-out to many subscribers costs. */
static void send_event(relay_conn *c, const relay_sub *s, const gdb_nostr_event *ev) {
  if (c->closing) return;
  size_t n = s->prefix.len + ev->json_len + 1;
  uint8_t h[10];
  size_t hl = frame_header(h, n);
  if (c->out.len + hl + n > c->out.cap && !gdb_buf_grow(&c->out, hl + n)) return;
  gdb_buf_put(&c->out, h, hl);
  gdb_buf_put(&c->out, s->prefix.data, s->prefix.len);
  gdb_buf_put(&c->out, ev->json, ev->json_len);
  gdb_buf_putc(&c->out, ']');
  c->relay->st.delivered++;
  conn_flush_later(c);
}

static void handle_req(relay_conn *c, gdb_nostr_msg *m) {
  gdb_nostr_relay *r = c->relay;
  relay_sub *s = sub_find(c, m->sub_id);
  if (!s) {
    if (c->n_subs >= r->opt.max_subs) {
      char msg[128];
      snprintf(msg, sizeof msg, "error: too many subscriptions on this connection (max %u)",
               r->opt.max_subs);
      r->st.dropped++;
      r->st.dropped_limit++;
      send_closed(c, m->sub_id, msg);
      return;
    }
    relay_sub *subs = realloc(c->subs, (c->n_subs + 1) * sizeof *subs);
    if (!subs) {
      send_closed(c, m->sub_id, "error: relay out of memory");
      return;
    }
    c->subs = subs;
    s = &c->subs[c->n_subs++];
    memset(s, 0, sizeof *s);
  } else {
    sub_clear(s);
  }
  memcpy(s->id, m->sub_id, sizeof s->id);
  gdb_buf_puts(&s->prefix, "[\"EVENT\",");
  gdb_nostr_put_string(&s->prefix, s->id, strlen(s->id), true);
  gdb_buf_putc(&s->prefix, ',');
  s->filters = m->filters;
  s->n = m->n_filters;
  m->filters = NULL;
  m->n_filters = 0;
  /* Stored events, newest first, at most `limit` per filter, each event once. */
  size_t cap = r->opt.store_max;
  int64_t *left = calloc(s->n + 1, sizeof *left);
  for (size_t f = 0; left && f < s->n; f++) left[f] = gdb_nostr_filter_limit(s->filters[f]);
  for (size_t k = r->ring_len; left && k-- > 0;) {
    gdb_nostr_event *ev = r->ring[(r->ring_head + k) % cap];
    bool send = false;
    for (size_t f = 0; f < s->n; f++) {
      if (left[f] == 0 || !gdb_nostr_filter_match(s->filters[f], ev)) continue;
      if (left[f] > 0) left[f]--;
      send = true;
    }
    if (send) send_event(c, s, ev);
  }
  free(left);
  gdb_buf b = {0};
  gdb_nostr_msg_eose(&b, s->id);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static void handle_close(relay_conn *c, const char *id) {
  relay_sub *s = sub_find(c, id);
  if (!s) return;
  sub_clear(s);
  *s = c->subs[--c->n_subs];
}

static bool take_token(relay_conn *c) {
  double rate = c->relay->opt.events_per_sec;
  if (rate <= 0) return true;
  int64_t now = gdb_nostr_now_us();
  c->tokens += (double)(now - c->refill_us) * rate / 1e6;
  c->refill_us = now;
  if (c->tokens > 2 * rate) c->tokens = 2 * rate;
  if (c->tokens < 1) return false;
  c->tokens -= 1;
  return true;
}

static void handle_event(relay_conn *c, gdb_nostr_event *ev) {
  gdb_nostr_relay *r = c->relay;
  char msg[160];
  if (!take_token(c)) {
    r->st.dropped++;
    r->st.dropped_limit++;
    snprintf(msg, sizeof msg, "rate-limited: over %u events per second on this connection",
             r->opt.events_per_sec);
    send_ok(c, ev->id_hex, false, msg);
    return;
  }
  if (gdb_nostr_event_verify(ev)) {
    r->st.dropped++;
    r->st.dropped_invalid++;
    send_ok(c, ev->id_hex, false, gdb_errmsg());
    return;
  }
  if (r->opt.min_pow > 0 && gdb_nostr_event_pow(ev) < r->opt.min_pow) {
    r->st.dropped++;
    r->st.dropped_pow++;
    snprintf(msg, sizeof msg, "pow: difficulty %d is under the required %d",
             gdb_nostr_event_pow(ev), r->opt.min_pow);
    send_ok(c, ev->id_hex, false, msg);
    return;
  }
  if (!gdb_nostr_kind_ephemeral(ev->kind)) {
    if (g_hash_table_contains(r->stored, ev->id_hex)) {
      send_ok(c, ev->id_hex, true, "duplicate: already have this event");
      return;
    }
    store_event(r, ev);
  }
  r->st.events++;
  send_ok(c, ev->id_hex, true, "");
  for (relay_conn *o = r->conns; o; o = o->next)
    for (size_t i = 0; i < o->n_subs; i++)
      if (sub_match(&o->subs[i], ev)) send_event(o, &o->subs[i], ev);
}

static void handle_message(relay_conn *c, const char *s, size_t n) {
  gdb_nostr_relay *r = c->relay;
  gdb_nostr_msg m;
  int rc = gdb_nostr_msg_parse(s, n, GDB_NMSG_TO_RELAY, r->opt.max_filters, &m);
  if (rc) {
    char msg[300];
    r->st.dropped++;
    if (rc == GDB_ETOOBIG) {
      r->st.dropped_limit++;
    } else {
      r->st.dropped_invalid++;
    }
    snprintf(msg, sizeof msg, "%s: %s", rc == GDB_ETOOBIG ? "error" : "invalid", gdb_errmsg());
    if (m.type == GDB_NMSG_REQ && m.sub_id[0]) {
      send_closed(c, m.sub_id, msg);
    } else {
      send_notice(c, msg);
    }
    gdb_nostr_msg_clear(&m);
    return;
  }
  switch (m.type) {
  case GDB_NMSG_EVENT: handle_event(c, m.event); break;
  case GDB_NMSG_REQ: handle_req(c, &m); break;
  case GDB_NMSG_CLOSE: handle_close(c, m.sub_id); break;
  default: break;
  }
  gdb_nostr_msg_clear(&m);
}

static void conn_receive(relay_conn *c, const void *in, size_t len) {
  gdb_nostr_relay *r = c->relay;
  if (lws_is_first_fragment(c->wsi)) {
    c->rx.len = 0;
    c->rx_overflow = false;
  }
  if (!c->rx_overflow) {
    if (c->rx.len + len > r->opt.max_message) {
      c->rx_overflow = true;
      gdb_buf_free(&c->rx);
    } else {
      gdb_buf_put(&c->rx, in, len);
    }
  }
  if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi)) return;
  if (c->rx_overflow) {
    char msg[128];
    r->st.dropped++;
    r->st.dropped_limit++;
    snprintf(msg, sizeof msg, "error: message too large (limit %u bytes)", r->opt.max_message);
    send_notice(c, msg);
  } else if (c->rx.oom) {
    send_notice(c, "error: relay out of memory");
  } else {
    handle_message(c, (const char *)c->rx.data, c->rx.len);
  }
  c->rx.len = 0;
  c->rx_overflow = false;
  if (c->rx.cap > 4 * r->opt.max_message / 2 + 65536) gdb_buf_free(&c->rx);
}

static void conn_free(relay_conn *c) {
  gdb_nostr_relay *r = c->relay;
  if (c->dirty)
    for (guint i = 0; i < r->dirty->len; i++)
      if (g_ptr_array_index(r->dirty, i) == c) r->dirty->pdata[i] = NULL;
  if (c->prev) {
    c->prev->next = c->next;
  } else {
    r->conns = c->next;
  }
  if (c->next) c->next->prev = c->prev;
  for (size_t i = 0; i < c->n_subs; i++) sub_clear(&c->subs[i]);
  free(c->subs);
  gdb_buf_free(&c->rx);
  gdb_buf_free(&c->out);
  free(c);
  r->st.connections--;
}

/* ── HTTP: status and NIP-11 ── */

static char *relay_status_locked(gdb_nostr_relay *r) {
  json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "relay", r->name, "connections",
                        (json_int_t)r->st.connections, "events", (json_int_t)r->st.events,
                        "dropped", (json_int_t)r->st.dropped, "stored", (json_int_t)r->st.stored,
                        "delivered", (json_int_t)r->st.delivered);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

static char *relay_nip11(gdb_nostr_relay *r) {
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:[i,i,i], s:{s:i, s:i, s:i, s:i, s:b, s:b}}", "name", r->name,
      "description", "genosdb embedded relay (signaling: ephemeral events are never stored)",
      "software", "genosdb", "version", GDB_VERSION_STRING, "supported_nips", 1, 11, 13,
      "limitation", "max_message_length", (int)r->opt.max_message, "max_subscriptions",
      (int)r->opt.max_subs, "max_filters", (int)r->opt.max_filters, "min_pow_difficulty",
      r->opt.min_pow, "auth_required", 0, "payment_required", 0);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

static int http_request(struct lws *wsi, relay_pss *pss, gdb_nostr_relay *r) {
  char accept[256] = "";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_ACCEPT) > 0)
    lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT);
  bool nip11 = strstr(accept, "application/nostr+json") != NULL;
  pss->http_body = nip11 ? relay_nip11(r) : relay_status_locked(r);
  if (!pss->http_body) return -1;
  pss->http_len = strlen(pss->http_body);
  uint8_t buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK,
                                  nip11 ? "application/nostr+json" : "application/json",
                                  pss->http_len, &p, end) ||
      lws_add_http_header_by_name(
          wsi, (const uint8_t *)"access-control-allow-origin:", (const uint8_t *)"*", 1, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

static int http_writable(struct lws *wsi, relay_pss *pss) {
  if (!pss->http_body) return -1;
  uint8_t *buf = malloc(LWS_PRE + pss->http_len);
  if (!buf) return -1;
  memcpy(buf + LWS_PRE, pss->http_body, pss->http_len);
  int n = lws_write(wsi, buf + LWS_PRE, pss->http_len, LWS_WRITE_HTTP_FINAL);
  free(buf);
  free(pss->http_body);
  pss->http_body = NULL;
  if (n < (int)pss->http_len) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ── the protocol callback ── */

static int relay_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len) {
  relay_pss *pss = user;
  gdb_nostr_relay *r = lws_context_user(lws_get_context(wsi));
  switch (reason) {
  case LWS_CALLBACK_HTTP: return http_request(wsi, pss, r);
  case LWS_CALLBACK_HTTP_WRITEABLE: return http_writable(wsi, pss);
  case LWS_CALLBACK_CLOSED_HTTP:
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    if (pss) {
      free(pss->http_body);
      pss->http_body = NULL;
    }
    break;
  case LWS_CALLBACK_ESTABLISHED: {
    relay_conn *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->wsi = wsi;
    c->relay = r;
    c->tokens = 2.0 * r->opt.events_per_sec;
    c->refill_us = gdb_nostr_now_us();
    c->next = r->conns;
    if (r->conns) r->conns->prev = c;
    r->conns = c;
    r->st.connections++;
    pss->conn = c;
    break;
  }
  case LWS_CALLBACK_RECEIVE:
    if (pss->conn) conn_receive(pss->conn, in, len);
    break;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    if (pss->conn) return conn_writable(pss->conn);
    break;
  case LWS_CALLBACK_CLOSED:
    if (pss->conn) conn_free(pss->conn);
    pss->conn = NULL;
    break;
  default: break;
  }
  return 0;
}

/* ── lifecycle (on the loop thread) ── */

static void relay_start_on_loop(void *p) {
  gdb_nostr_relay *r = p;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  r->protocols[0] = (struct lws_protocols){
      .name = "nostr",
      .callback = relay_callback,
      .per_session_data_size = sizeof(relay_pss),
      .rx_buffer_size = 65536,
  };
  info.protocols = r->protocols;
  info.port = r->opt.port;
  info.iface = r->bind;
  info.user = r;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (!strchr(r->bind, ':')) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.timeout_secs = 10;
  r->ctx = gdb_nostr_lws_context(r->loop, &info);
  if (!r->ctx) {
    r->start_rc = gdb_fail(GDB_ENET,
                           "relay: cannot listen on %s port %u (in use, or not an "
                           "address of this host?)",
                           r->bind, (unsigned)r->opt.port);
    return;
  }
  int port = lws_get_vhost_listen_port(lws_get_vhost_by_name(r->ctx, "default"));
  r->port = port > 0 ? (uint16_t)port : r->opt.port;
}

static void relay_stop_on_loop(void *p) {
  gdb_nostr_relay *r = p;
  if (r->ctx) lws_context_destroy(r->ctx);
  r->ctx = NULL;
  while (r->conns) conn_free(r->conns); /* in case lws did not report every close */
  if (r->flush) {
    g_source_destroy(r->flush);
    g_source_unref(r->flush);
    r->flush = NULL;
  }
}

static void relay_free(gdb_nostr_relay *r) {
  if (!r) return;
  if (r->ring) {
    for (size_t k = 0; k < r->ring_len; k++)
      gdb_nostr_event_release(r->ring[(r->ring_head + k) % r->opt.store_max]);
    free(r->ring);
  }
  if (r->stored) g_hash_table_destroy(r->stored);
  if (r->dirty) g_ptr_array_free(r->dirty, TRUE);
  if (r->loop) gdb_net_loop_release(r->loop);
  free(r->bind);
  free(r->name);
  free(r);
}

int gdb_nostr_relay_start(const gdb_nostr_relay_options *opts, gdb_nostr_relay **out) {
  *out = NULL;
  gdb_nostr_relay *r = calloc(1, sizeof *r);
  if (!r) return gdb_fail(GDB_ENOMEM, "relay: out of memory");
  gdb_nostr_relay_options_init(&r->opt);
  if (opts) r->opt = *opts;
  r->bind = strdup(r->opt.bind && r->opt.bind[0] ? r->opt.bind : "127.0.0.1");
  r->name = strdup(r->opt.name && r->opt.name[0] ? r->opt.name : "genosdb");
  r->ring = calloc(r->opt.store_max ? r->opt.store_max : 1, sizeof *r->ring);
  r->stored = g_hash_table_new(g_str_hash, g_str_equal);
  r->dirty = g_ptr_array_new();
  if (!r->bind || !r->name || !r->ring) {
    relay_free(r);
    return gdb_fail(GDB_ENOMEM, "relay: out of memory");
  }
  if (r->opt.max_message < 1024) r->opt.max_message = 1024;
  if (!r->opt.max_filters) r->opt.max_filters = 1;
  r->loop = gdb_net_loop_acquire();
  gdb_net_loop_invoke_sync(r->loop, relay_start_on_loop, r);
  if (r->start_rc) {
    int rc = r->start_rc;
    relay_free(r);
    return rc;
  }
  *out = r;
  return GDB_OK;
}

uint16_t gdb_nostr_relay_port(const gdb_nostr_relay *r) { return r->port; }

typedef struct stats_call {
  gdb_nostr_relay *r;
  gdb_nostr_relay_stats st;
  char *json;
} stats_call;

static void stats_on_loop(void *p) {
  stats_call *c = p;
  c->st = c->r->st;
  c->json = relay_status_locked(c->r);
}

int gdb_nostr_relay_get_stats(gdb_nostr_relay *r, gdb_nostr_relay_stats *out) {
  stats_call c = {.r = r};
  gdb_net_loop_invoke_sync(r->loop, stats_on_loop, &c);
  free(c.json);
  *out = c.st;
  return GDB_OK;
}

char *gdb_nostr_relay_status_json(gdb_nostr_relay *r) {
  stats_call c = {.r = r};
  gdb_net_loop_invoke_sync(r->loop, stats_on_loop, &c);
  return c.json;
}

void gdb_nostr_relay_stop(gdb_nostr_relay *r) {
  if (!r) return;
  gdb_net_loop_invoke_sync(r->loop, relay_stop_on_loop, r);
  relay_free(r);
}
