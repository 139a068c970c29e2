/*
 * relay.c — the embedded Nostr relay: a libwebsockets server on the network thread that
 * verifies every event (id and BIP-340 signature) before it stores or forwards it, serves
 * NIP-01 subscriptions, keeps ephemeral kinds (20000-29999) out of storage and regular events
 * (of replaceable and addressable kinds only the newest per pubkey, kind and "d" tag)
 * in a bounded window (a ring of store_max events), enforces message size, subscription,
 * filter and event-rate limits with NOTICE/CLOSED/OK answers, and answers HTTP GET with its
 * status JSON or NIP-11 document (relay_info.c).
 *
 * Input: EVENT messages are parsed and verified on the verifier's worker threads
 * (verifier.c); every message a connection sends waits in that connection's queue until it
 * and all before it are done, so OK, NOTICE, CLOSED and EOSE answers leave in the order the
 * messages came, and a publisher's events reach subscribers in the order it sent them. A
 * connection with too many messages waiting stops being read (lws rx flow control) until its
 * queue drains. A signature verified once is remembered (seen.c) and not verified again.
 *
 * Output: every message is framed into one queue per connection (wsout.c); an event is
 * framed once per subscription id and copied whole into each subscriber's queue. Queues are
 * written with one send() each, straight from the queue, as soon as the loop has nothing
 * left to read (see flush_source), so a burst of events costs one syscall per subscriber.
 */
#include "core/buf.h"
#include "core/error.h"
#include "net/nostr/event.h"
#include "net/nostr/lws_glue.h"
#include "net/nostr/message.h"
#include "net/nostr/relay_info.h"
#include "net/nostr/seen.h"
#include "net/nostr/subgroup.h"
#include "net/nostr/verifier.h"
#include "net/nostr/wsout.h"

#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX 1024        /* messages waiting on one connection before it stops being read */
#define WRITE_AT (128 * 1024) /* output written at once, not at the next idle moment */

typedef struct relay_sub {
  char id[GDB_NOSTR_SUBID_MAX + 1];
  gdb_buf prefix; /* ["EVENT","<id>", ready to be followed by an event and "]" */
  gdb_nostr_filter **filters;
  size_t n;
  gdb_nostr_subgroup *group; /* subscriptions with equal filters (NULL: matches alone) */
} relay_sub;

typedef struct relay_conn {
  struct relay_conn *prev, *next;
  struct lws *wsi;
  gdb_nostr_relay *relay;
  gdb_buf rx;                      /* the message being received */
  bool rx_overflow;                /* it is over max_message: discard until its end */
  gdb_nostr_vjob *q_head, *q_tail; /* messages received and not answered yet, in order */
  size_t q_len;
  bool rx_paused; /* reading stopped until the queue drains */
  gdb_wsout out;
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
  GHashTable *latest; /* "kind:pubkey[:d]" -> the replaceable/addressable event in ring (borrowed) */
  GPtrArray *dirty;   /* connections with output not yet written */
  GSource *flush;     /* writes them once per loop iteration */
  gdb_nostr_seen *seen;
  gdb_nostr_subgroups *groups;  /* NULL if memory was short: every subscription matches alone */
  uint64_t fan_gen;             /* events fanned out so far (a group's match is per event) */
  gdb_nostr_verifier *verifier; /* NULL: verify on the network thread */
  gdb_buf frame;                /* the event last framed for a subscription, and for which: */
  const gdb_nostr_event *frame_ev;
  gdb_buf frame_prefix;
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
  unsigned cores = g_get_num_processors();
  o->verify_threads = cores < 1 ? 1 : cores > 8 ? 8 : cores;
  o->seen_max = 32768;
}

/* ── output ── */

static void conn_close(relay_conn *c) {
  c->closing = true;
  gdb_wsout_clear(&c->out); /* cut off: what it has not read is moot */
  lws_callback_on_writable(c->wsi);
}

static void conn_write(relay_conn *c) {
  if (!c->closing && !gdb_wsout_write(&c->out)) conn_close(c); /* lws reports the close */
}

/* New output on c: written when the loop next has nothing to read (flush_all), or at once if
 * WRITE_AT bytes are waiting (the loop may not be idle for a while under full load). */
static void conn_flush_later(relay_conn *c) {
  gdb_nostr_relay *r = c->relay;
  if (c->closing) return;
  if (gdb_wsout_pending(&c->out) > r->opt.max_out_bytes) {
    r->st.dropped++;
    r->st.dropped_limit++;
    conn_close(c); /* a subscriber that does not read is cut off, not buffered forever */
    return;
  }
  if (gdb_wsout_pending(&c->out) >= WRITE_AT) {
    conn_write(c);
    return;
  }
  if (c->dirty) return;
  c->dirty = true;
  g_ptr_array_add(r->dirty, c);
}

static void conn_send(relay_conn *c, gdb_buf *msg) {
  if (c->closing) return;
  gdb_wsout_text(&c->out, msg->data, msg->len);
  conn_flush_later(c);
}

static void send_notice(relay_conn *c, const char *msg) {
  uint8_t stack[512];
  gdb_buf b = GDB_BUF_ON_STACK(stack);
  gdb_nostr_msg_notice(&b, msg);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static void send_ok(relay_conn *c, const char *id, bool ok, const char *msg) {
  uint8_t stack[512];
  gdb_buf b = GDB_BUF_ON_STACK(stack);
  gdb_nostr_msg_ok(&b, id, ok, msg);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static void send_closed(relay_conn *c, const char *sub, const char *msg) {
  uint8_t stack[512];
  gdb_buf b = GDB_BUF_ON_STACK(stack);
  gdb_nostr_msg_closed(&b, sub, msg);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static int conn_writable(relay_conn *c) {
  if (c->closing) {
    lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
    return -1;
  }
  if (!gdb_wsout_writable(&c->out)) conn_close(c);
  return 0;
}

/* The flush: an idle-priority source, ready whenever a connection has output. GLib runs it as
 * soon as no socket and no verified event is waiting, so at low load output leaves at once
 * (the loop has nothing else to do) and under load it collects everything that arrived
 * meanwhile: each connection gets one send() per burst, not one per event. Its readiness
 * makes the loop poll without blocking, so it never waits on a timer. Measured against
 * writing at every loop iteration or after every verified batch (docs/performance.md): more
 * throughput and lower latency at 5,000-10,000 events/s, because on this machine every
 * syscall saved is CPU given back to the work that is queued. */
typedef struct flush_source {
  GSource base;
  gdb_nostr_relay *r;
} flush_source;

static gboolean flush_prepare(GSource *s, gint *timeout) {
  *timeout = -1;
  return ((flush_source *)s)->r->dirty->len > 0;
}

static gboolean flush_check(GSource *s) { return ((flush_source *)s)->r->dirty->len > 0; }

static void flush_all(gdb_nostr_relay *r) {
  for (guint i = 0; i < r->dirty->len; i++) {
    relay_conn *c = g_ptr_array_index(r->dirty, i);
    if (!c) continue;
    c->dirty = false;
    conn_write(c);
  }
  g_ptr_array_set_size(r->dirty, 0);
}

static gboolean flush_dispatch(GSource *s, GSourceFunc cb, gpointer data) {
  (void)cb;
  (void)data;
  flush_all(((flush_source *)s)->r);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs FLUSH_FUNCS = {flush_prepare, flush_check, flush_dispatch, NULL, NULL, NULL};
/* ── storage ──
 * A ring of store_max slots in arrival order. A replaced event leaves a hole (NULL) where it
 * was, which the ring's turn reclaims; r->st.stored counts events, not slots. */

/* The replacement key of ev into key (NULL when it is neither replaceable nor addressable). */
static char *latest_key(const gdb_nostr_event *ev) {
  bool addressable = gdb_nostr_kind_addressable(ev->kind);
  if (!addressable && !gdb_nostr_kind_replaceable(ev->kind)) return NULL;
  const char *d = "";
  size_t i;
  json_t *t;
  if (addressable) json_array_foreach(ev->tags, i, t) {
      const char *name = json_string_value(json_array_get(t, 0));
      const char *value = json_string_value(json_array_get(t, 1));
      if (name && value && !strcmp(name, "d")) {
        d = value;
        break;
      }
    }
  return addressable ? g_strdup_printf("%d:%s:%s", ev->kind, ev->pubkey_hex, d)
                     : g_strdup_printf("%d:%s", ev->kind, ev->pubkey_hex);
}

/* NIP-01: the newer created_at wins; on a tie, the lower id. */
static bool newer(const gdb_nostr_event *a, const gdb_nostr_event *b) {
  return a->created_at != b->created_at ? a->created_at > b->created_at
                                        : strcmp(a->id_hex, b->id_hex) < 0;
}

/* Forgets a stored event (its slot becomes a hole, or is the one being overwritten). */
static void unstore(gdb_nostr_relay *r, gdb_nostr_event *old) {
  g_hash_table_remove(r->stored, old->id_hex);
  char *k = latest_key(old);
  if (k && g_hash_table_lookup(r->latest, k) == old) g_hash_table_remove(r->latest, k);
  g_free(k);
  gdb_nostr_event_release(old);
  r->st.stored--;
}

/* Stores ev unless a newer version of it is stored; false when it is not stored for that
 * reason (a replaceable event older than the one kept). */
static bool store_event(gdb_nostr_relay *r, gdb_nostr_event *ev) {
  size_t cap = r->opt.store_max;
  if (!cap) return true;
  char *key = latest_key(ev);
  if (key) {
    gdb_nostr_event *prev = g_hash_table_lookup(r->latest, key);
    if (prev && !newer(ev, prev)) {
      g_free(key);
      return false;
    }
    if (prev) { /* make its slot a hole */
      for (size_t k = 0; k < r->ring_len; k++) {
        gdb_nostr_event **slot = &r->ring[(r->ring_head + k) % cap];
        if (*slot == prev) {
          *slot = NULL;
          break;
        }
      }
      unstore(r, prev);
    }
  }
  gdb_nostr_event_retain(ev);
  if (r->ring_len == cap) {
    gdb_nostr_event *old = r->ring[r->ring_head];
    if (old) unstore(r, old);
    r->ring[r->ring_head] = ev;
    r->ring_head = (r->ring_head + 1) % cap;
  } else {
    r->ring[(r->ring_head + r->ring_len) % cap] = ev;
    r->ring_len++;
  }
  g_hash_table_insert(r->stored, ev->id_hex, ev);
  if (key) g_hash_table_insert(r->latest, key, ev); /* the table owns key */
  r->st.stored++;
  return true;
}

/* ── subscriptions ── */

static void sub_clear(gdb_nostr_relay *r, relay_sub *s) {
  gdb_nostr_subgroup_leave(r->groups, s->group);
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

/* Whether ev matches s: computed once per event for all subscriptions of a group. */
static bool sub_match(gdb_nostr_relay *r, const relay_sub *s, const gdb_nostr_event *ev) {
  if (s->group) return gdb_nostr_subgroup_match(s->group, r->fan_gen, s->filters, s->n, ev);
  for (size_t i = 0; i < s->n; i++)
    if (gdb_nostr_filter_match(s->filters[i], ev)) return true;
  return false;
}

/* ["EVENT","<sub>",<event>] as one frame, built once per event and subscription id (the
 * relay's scratch frame) and copied whole into each subscriber's queue: fan-out to many
 * subscribers with the same id costs one memcpy each, and no allocation. */
static void send_event(relay_conn *c, const relay_sub *s, const gdb_nostr_event *ev) {
  if (c->closing) return;
  gdb_nostr_relay *r = c->relay;
  gdb_buf *f = &r->frame;
  if (r->frame_ev != ev || r->frame_prefix.len != s->prefix.len ||
      memcmp(r->frame_prefix.data, s->prefix.data, s->prefix.len)) {
    size_t n = s->prefix.len + ev->json_len + 1;
    uint8_t h[10];
    size_t hl = gdb_wsout_header(h, n);
    f->len = 0;
    gdb_buf_put(f, h, hl);
    gdb_buf_put(f, s->prefix.data, s->prefix.len);
    gdb_buf_put(f, ev->json, ev->json_len);
    gdb_buf_putc(f, ']');
    r->frame_prefix.len = 0;
    gdb_buf_put(&r->frame_prefix, s->prefix.data, s->prefix.len);
    r->frame_ev = f->oom || r->frame_prefix.oom ? NULL : ev;
    if (!r->frame_ev) { /* out of memory: start over next time, send nothing now */
      gdb_buf_free(f);
      gdb_buf_free(&r->frame_prefix);
      return;
    }
  }
  gdb_wsout_frames(&c->out, f->data, f->len);
  r->st.delivered++;
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
    sub_clear(r, s);
  }
  memcpy(s->id, m->sub_id, sizeof s->id);
  gdb_buf_puts(&s->prefix, "[\"EVENT\",");
  gdb_nostr_put_string(&s->prefix, s->id, strlen(s->id), true);
  gdb_buf_putc(&s->prefix, ',');
  s->filters = m->filters;
  s->n = m->n_filters;
  m->filters = NULL;
  m->n_filters = 0;
  s->group = gdb_nostr_subgroup_join(r->groups, s->filters, s->n);
  /* Stored events, newest first, at most `limit` per filter, each event once. */
  size_t cap = r->opt.store_max;
  int64_t *left = calloc(s->n + 1, sizeof *left);
  for (size_t f = 0; left && f < s->n; f++) left[f] = gdb_nostr_filter_limit(s->filters[f]);
  for (size_t k = r->ring_len; left && k-- > 0;) {
    gdb_nostr_event *ev = r->ring[(r->ring_head + k) % cap];
    if (!ev) continue; /* replaced */
    bool send = false;
    for (size_t f = 0; f < s->n; f++) {
      if (left[f] == 0 || !gdb_nostr_filter_match(s->filters[f], ev)) continue;
      if (left[f] > 0) left[f]--;
      send = true;
    }
    if (send) send_event(c, s, ev);
  }
  r->frame_ev = NULL;
  free(left);
  gdb_buf b = {0};
  gdb_nostr_msg_eose(&b, s->id);
  conn_send(c, &b);
  gdb_buf_free(&b);
}

static void handle_close(relay_conn *c, const char *id) {
  relay_sub *s = sub_find(c, id);
  if (!s) return;
  sub_clear(c->relay, s);
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

/* An event parsed, and verified unless limited (vrc and err say how that went): answer OK,
 * store and fan out. */
static void handle_event(relay_conn *c, gdb_nostr_event *ev, bool limited, int vrc, const char *err,
                         bool from_cache) {
  gdb_nostr_relay *r = c->relay;
  char msg[160];
  if (limited) {
    r->st.dropped++;
    r->st.dropped_limit++;
    snprintf(msg, sizeof msg, "rate-limited: over %u events per second on this connection",
             r->opt.events_per_sec);
    send_ok(c, ev->id_hex, false, msg);
    return;
  }
  if (vrc) {
    r->st.dropped++;
    r->st.dropped_invalid++;
    send_ok(c, ev->id_hex, false, err);
    return;
  }
  if (from_cache) r->st.verify_skipped++;
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
    if (!store_event(r, ev)) { /* NIP-01: only the newest replaceable version is kept */
      send_ok(c, ev->id_hex, true, "duplicate: a newer version of this replaceable event is stored");
      return;
    }
  }
  r->st.events++;
  send_ok(c, ev->id_hex, true, "");
  r->fan_gen++;
  for (relay_conn *o = r->conns; o; o = o->next)
    for (size_t i = 0; i < o->n_subs; i++)
      if (sub_match(r, &o->subs[i], ev)) send_event(o, &o->subs[i], ev);
  r->frame_ev = NULL; /* the scratch frame must not outlive the event it was built for */
}

static void parse_failed(relay_conn *c, const gdb_nostr_msg *m, int rc, const char *err) {
  gdb_nostr_relay *r = c->relay;
  char msg[300];
  r->st.dropped++;
  *(rc == GDB_ETOOBIG ? &r->st.dropped_limit : &r->st.dropped_invalid) += 1;
  snprintf(msg, sizeof msg, "%s: %s", rc == GDB_ETOOBIG ? "error" : "invalid", err);
  if (m->type == GDB_NMSG_REQ && m->sub_id[0])
    send_closed(c, m->sub_id, msg); /* the answer a client waiting on that id expects */
  else
    send_notice(c, msg);
}

static void handle_parsed(relay_conn *c, gdb_nostr_msg *m) {
  switch (m->type) {
  case GDB_NMSG_EVENT: { /* not routed to the verifier (it did not look like one): here */
    bool limited = !take_token(c), cached = false;
    int vrc = limited ? GDB_OK : gdb_nostr_vjob_check(m->event, c->relay->seen, &cached);
    handle_event(c, m->event, limited, vrc, vrc ? gdb_errmsg() : "", cached);
    break;
  }
  case GDB_NMSG_REQ: handle_req(c, m); break;
  case GDB_NMSG_CLOSE: handle_close(c, m->sub_id); break;
  default: break;
  }
}

static void handle_message(relay_conn *c, const char *s, size_t n) {
  gdb_nostr_msg m;
  int rc = gdb_nostr_msg_parse(s, n, GDB_NMSG_TO_RELAY, c->relay->opt.max_filters, &m);
  if (rc)
    parse_failed(c, &m, rc, gdb_errmsg());
  else
    handle_parsed(c, &m);
  gdb_nostr_msg_clear(&m);
}

/* ── the per-connection queue: answers in the order of the messages ── */

/* An EVENT message, by its first bytes (["EVENT", with JSON whitespace allowed): those go to
 * the verifier. Anything else that parses as an EVENT is still handled, on this thread. */
static bool looks_like_event(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  if (i >= n || s[i++] != '[') return false;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  return n - i >= 7 && !memcmp(s + i, "\"EVENT\"", 7);
}

/* A finished job at the head of the queue: its answer. */
static void job_answer(relay_conn *c, gdb_nostr_vjob *job) {
  if (job->notice) {
    send_notice(c, job->text);
  } else if (!job->submitted) {
    handle_message(c, job->text, job->len);
  } else if (job->rc) {
    if (!job->limited) c->tokens += 1; /* a message that is not an event costs no token */
    parse_failed(c, &job->msg, job->rc, job->err);
  } else if (job->msg.type == GDB_NMSG_EVENT) {
    handle_event(c, job->msg.event, job->limited, job->vrc, job->err, job->from_cache);
  } else {
    handle_parsed(c, &job->msg);
  }
}

/* Answers every finished message at the head of the queue, and resumes reading once the
 * queue is short again. */
static void conn_drain(relay_conn *c) {
  while (c->q_head && c->q_head->done) {
    gdb_nostr_vjob *job = c->q_head;
    c->q_head = job->next;
    if (!c->q_head) c->q_tail = NULL;
    c->q_len--;
    job_answer(c, job);
    gdb_nostr_vjob_free(job);
  }
  if (c->rx_paused && c->q_len <= QUEUE_MAX / 2) {
    c->rx_paused = false;
    lws_rx_flow_control(c->wsi, 1);
  }
}

static void conn_enqueue(relay_conn *c, gdb_nostr_vjob *job) {
  job->owner = c;
  if (c->q_tail) {
    c->q_tail->next = job;
  } else {
    c->q_head = job;
  }
  c->q_tail = job;
  if (++c->q_len >= QUEUE_MAX && !c->rx_paused) {
    c->rx_paused = true;
    lws_rx_flow_control(c->wsi, 0);
  }
}

/* The verifier hands a job back (network thread). */
static void job_done(gdb_nostr_vjob *job, void *data) {
  (void)data;
  relay_conn *c = job->owner;
  if (!c) { /* its connection closed meanwhile */
    gdb_nostr_vjob_free(job);
    return;
  }
  job->done = true;
  conn_drain(c);
}

/* A whole message received. With nothing waiting and no verification to do, it is answered
 * at once; otherwise it joins the queue (EVENTs go to the verifier on the way). */
static void conn_message(relay_conn *c, const char *s, size_t n) {
  gdb_nostr_relay *r = c->relay;
  bool event = looks_like_event(s, n);
  if (!event && !c->q_head) {
    handle_message(c, s, n);
    return;
  }
  gdb_nostr_vjob *job = gdb_nostr_vjob_new(s, n, r->opt.max_filters);
  if (!job) {
    send_notice(c, "error: relay out of memory");
    return;
  }
  conn_enqueue(c, job);
  if (event) {
    job->verify = take_token(c);
    job->limited = !job->verify;
    job->submitted = true;
    if (r->verifier) {
      gdb_nostr_verifier_submit(r->verifier, job);
    } else {
      gdb_nostr_vjob_run(job, r->seen);
      job->done = true;
    }
  } else {
    job->done = true;
  }
  conn_drain(c);
}

/* A NOTICE that must keep its place after the messages still waiting. */
static void conn_notice(relay_conn *c, const char *msg) {
  gdb_nostr_vjob *job = c->q_head ? gdb_nostr_vjob_new(msg, strlen(msg), 0) : NULL;
  if (!job) {
    send_notice(c, msg);
    return;
  }
  job->notice = true;
  job->done = true;
  conn_enqueue(c, job);
  conn_drain(c);
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
    conn_notice(c, msg);
  } else if (c->rx.oom) {
    conn_notice(c, "error: relay out of memory");
  } else {
    conn_message(c, (const char *)c->rx.data, c->rx.len);
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
  for (gdb_nostr_vjob *job = c->q_head, *next; job; job = next) {
    next = job->next;
    if (job->submitted && !job->done) {
      job->owner = NULL; /* still with a worker: freed when it comes back */
    } else {
      gdb_nostr_vjob_free(job);
    }
  }
  for (size_t i = 0; i < c->n_subs; i++) sub_clear(r, &c->subs[i]);
  free(c->subs);
  gdb_buf_free(&c->rx);
  gdb_wsout_free(&c->out);
  free(c);
  r->st.connections--;
}

/* ── the protocol callback ── */

static int relay_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len) {
  relay_pss *pss = user;
  gdb_nostr_relay *r = lws_context_user(lws_get_context(wsi));
  switch (reason) {
  case LWS_CALLBACK_HTTP:
    return gdb_nostr_relay_info_request(wsi, r->name, &r->st, &r->opt, &pss->http_body);
  case LWS_CALLBACK_HTTP_WRITEABLE: return gdb_nostr_relay_info_writable(wsi, &pss->http_body);
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
    gdb_wsout_init(&c->out, wsi);
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

static void relay_stop_on_loop(void *p);

static void relay_start_on_loop(void *p) {
  gdb_nostr_relay *r = p;
  GMainContext *ctx = gdb_net_loop_context(r->loop);
  r->flush = g_source_new(&FLUSH_FUNCS, sizeof(flush_source));
  ((flush_source *)r->flush)->r = r;
  g_source_set_priority(r->flush, G_PRIORITY_DEFAULT_IDLE);
  g_source_attach(r->flush, ctx);
  if (r->opt.verify_threads &&
      !(r->verifier = gdb_nostr_verifier_new(ctx, r->opt.verify_threads, r->seen, job_done, r))) {
    r->start_rc = GDB_ENOMEM; /* the message is recorded */
    relay_stop_on_loop(r);
    return;
  }
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
    relay_stop_on_loop(r);
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
  gdb_nostr_verifier_free(r->verifier); /* jobs still out come back orphaned and are freed */
  r->verifier = NULL;
  if (r->flush) {
    g_source_destroy(r->flush);
    g_source_unref(r->flush);
    r->flush = NULL;
  }
}

static void relay_free(gdb_nostr_relay *r) {
  if (!r) return;
  if (r->ring) {
    for (size_t k = 0; k < r->ring_len; k++) {
      gdb_nostr_event *ev = r->ring[(r->ring_head + k) % r->opt.store_max];
      if (ev) gdb_nostr_event_release(ev);
    }
    free(r->ring);
  }
  if (r->stored) g_hash_table_destroy(r->stored);
  if (r->latest) g_hash_table_destroy(r->latest);
  if (r->dirty) g_ptr_array_free(r->dirty, TRUE);
  gdb_nostr_seen_free(r->seen);
  gdb_nostr_subgroups_free(r->groups);
  gdb_buf_free(&r->frame);
  gdb_buf_free(&r->frame_prefix);
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
  r->latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  r->dirty = g_ptr_array_new();
  r->seen = gdb_nostr_seen_new(r->opt.seen_max); /* NULL (no cache) if memory is short */
  r->groups = gdb_nostr_subgroups_new();
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
  c->json = gdb_nostr_relay_info_status(c->r->name, &c->r->st);
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
