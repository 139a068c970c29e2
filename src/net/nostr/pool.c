/*
 * pool.c — the Nostr client: a pool of relay links on the network thread. Every relay is
 * connected in parallel and used the moment it opens (publishes wait per relay, never for the
 * pool); subscriptions are re-sent after each reconnect; a lost or failed relay is retried
 * after an exponential backoff with jitter; one that fails max_failures times in a row, or
 * demands proof of work (OK/CLOSED "pow:" or NIP-11 min_pow_difficulty), is dropped for the
 * session. Every received event is verified and matched against the subscription's filters
 * before the application sees it, once per event id.
 */
#include "core/buf.h"
#include "core/error.h"
#include "net/nostr/event.h"
#include "net/nostr/filter.h"
#include "net/nostr/lws_glue.h"
#include "net/nostr/message.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_MAX 256  /* publishes kept for a relay that is not open yet */
#define SEEN_MAX 8192    /* event ids remembered per subscription for de-duplication */
#define OK_WAIT_MAX 4096 /* publishes whose OK we still wait for */

typedef struct shared_ctx {
  struct shared_ctx *next;
  char *ca_file;
  struct lws_context *ctx;
  int refs;
} shared_ctx;

typedef struct pool_sub {
  uint64_t id;
  char wire_id[24]; /* "gdb<id>" */
  char *filters_json;
  gdb_nostr_filter **filters;
  size_t n_filters;
  gdb_nostr_event_fn fn;
  gdb_nostr_eose_fn eose;
  void *data;
  GHashTable *seen; /* id hex (owned) */
  GQueue seen_order;
} pool_sub;

typedef struct ok_wait {
  gdb_nostr_ok_fn fn;
  void *data;
  int64_t sent_us;
} ok_wait;

typedef struct relay_link {
  gdb_nostr_pool *pool;
  char url[256];
  char host[200];
  char path[256];
  int port;
  bool tls;
  struct lws *wsi;
  gdb_nostr_relay_health h;
  int64_t started_us;
  guint timer;    /* connect timeout or backoff */
  GQueue out;     /* gdb_buf * with LWS_PRE headroom, waiting for writable */
  GQueue pending; /* gdb_nostr_event * to publish when open */
  gdb_buf rx;
  bool rx_overflow;
  struct lws *info_wsi; /* NIP-11 request */
  gdb_buf info;
} relay_link;

struct gdb_nostr_pool {
  gdb_nostr_pool_options opt;
  char *ca_file;
  gdb_net_loop *loop;
  struct shared_ctx *shared;
  relay_link *links;
  size_t n_links;
  GPtrArray *subs; /* pool_sub * */
  uint64_t next_sub;
  GHashTable *oks; /* id hex (owned) -> ok_wait (owned) */
  bool closing;
  int rc;
};

void gdb_nostr_pool_options_init(gdb_nostr_pool_options *o) {
  memset(o, 0, sizeof *o);
  o->connect_timeout_ms = 5000;
  o->backoff_min_ms = 500;
  o->backoff_max_ms = 30000;
  o->max_failures = 8;
}

static void link_connect(relay_link *l);

/* ── output ── */

static void link_queue(relay_link *l, const gdb_buf *msg) {
  gdb_buf *b = calloc(1, sizeof *b);
  if (!b) return;
  gdb_buf_grow(b, LWS_PRE + msg->len);
  b->len = LWS_PRE;
  gdb_buf_put(b, msg->data, msg->len);
  if (b->oom) {
    gdb_buf_free(b);
    free(b);
    return;
  }
  g_queue_push_tail(&l->out, b);
  if (l->wsi) lws_callback_on_writable(l->wsi);
}

static void link_clear_out(relay_link *l) {
  gdb_buf *b;
  while ((b = g_queue_pop_head(&l->out))) {
    gdb_buf_free(b);
    free(b);
  }
}

static int link_writable(relay_link *l) {
  gdb_buf *b;
  while ((b = g_queue_peek_head(&l->out)) && !lws_send_pipe_choked(l->wsi)) {
    size_t n = b->len - LWS_PRE;
    int w = lws_write(l->wsi, b->data + LWS_PRE, n, LWS_WRITE_TEXT);
    g_queue_pop_head(&l->out);
    gdb_buf_free(b);
    free(b);
    if (w < (int)n) return -1;
  }
  if (!g_queue_is_empty(&l->out)) lws_callback_on_writable(l->wsi);
  return 0;
}

static void send_req(relay_link *l, pool_sub *s) {
  gdb_buf b = {0};
  gdb_buf_printf(&b, "[\"REQ\",\"%s\",", s->wire_id);
  /* filters_json is an array: splice its elements in */
  const char *f = s->filters_json;
  size_t n = strlen(f);
  gdb_buf_put(&b, f + 1, n - 1);
  if (!b.oom) link_queue(l, &b);
  gdb_buf_free(&b);
}

static void send_event(relay_link *l, const gdb_nostr_event *ev) {
  gdb_buf b = {0};
  gdb_nostr_msg_event(&b, NULL, ev);
  if (!b.oom) link_queue(l, &b);
  gdb_buf_free(&b);
}

/* ── state changes ── */

static void timer_clear(relay_link *l) {
  /* g_source_remove() would look in the default context, not the network thread's */
  GSource *src =
      l->timer ? g_main_context_find_source_by_id(gdb_net_loop_context(l->pool->loop), l->timer)
               : NULL;
  if (src) g_source_destroy(src);
  l->timer = 0;
}

static void link_detach(relay_link *l) {
  if (l->wsi) {
    lws_set_opaque_user_data(l->wsi, NULL);
    lws_set_timeout(l->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
  l->wsi = NULL;
  if (l->info_wsi) {
    lws_set_opaque_user_data(l->info_wsi, NULL);
    lws_set_timeout(l->info_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
  l->info_wsi = NULL;
  link_clear_out(l);
  gdb_buf_free(&l->rx);
  l->rx_overflow = false;
}

static void link_drop(relay_link *l, const char *why) {
  if (l->h.state == GDB_NOSTR_DROPPED) return;
  timer_clear(l);
  link_detach(l);
  l->h.state = GDB_NOSTR_DROPPED;
  snprintf(l->h.reason, sizeof l->h.reason, "%s", why);
  gdb_nostr_event *ev;
  while ((ev = g_queue_pop_head(&l->pending))) gdb_nostr_event_release(ev);
}

static gboolean backoff_fired(gpointer p) {
  relay_link *l = p;
  l->timer = 0;
  link_connect(l);
  return G_SOURCE_REMOVE;
}

static void link_failed(relay_link *l, const char *why) {
  if (l->pool->closing || l->h.state == GDB_NOSTR_DROPPED) return;
  timer_clear(l);
  link_detach(l);
  l->h.failures++;
  l->h.consecutive++;
  snprintf(l->h.reason, sizeof l->h.reason, "%s", why);
  if (l->h.consecutive >= l->pool->opt.max_failures) {
    char msg[160];
    snprintf(msg, sizeof msg, "failed %u times in a row (last: %.100s)", l->h.consecutive, why);
    link_drop(l, msg);
    return;
  }
  /* min * 2^(n-1), capped, plus up to 50% jitter so restarted relays are not stormed */
  uint64_t d = l->pool->opt.backoff_min_ms;
  for (uint32_t i = 1; i < l->h.consecutive && d < l->pool->opt.backoff_max_ms; i++) d *= 2;
  if (d > l->pool->opt.backoff_max_ms) d = l->pool->opt.backoff_max_ms;
  uint32_t r = 0;
  RAND_bytes((uint8_t *)&r, sizeof r);
  d += d * (r % 500) / 1000;
  l->h.state = GDB_NOSTR_BACKOFF;
  l->timer = gdb_net_loop_timeout(l->pool->loop, (guint)d, backoff_fired, l);
}

static gboolean connect_timeout_fired(gpointer p) {
  relay_link *l = p;
  l->timer = 0;
  if (l->h.state == GDB_NOSTR_CONNECTING) link_failed(l, "no answer within the connect timeout");
  return G_SOURCE_REMOVE;
}

static void link_opened(relay_link *l) {
  timer_clear(l);
  l->h.state = GDB_NOSTR_OPEN;
  l->h.connects++;
  l->h.consecutive = 0;
  l->h.latency_ms = (double)(gdb_nostr_now_us() - l->started_us) / 1000.0;
  for (guint i = 0; i < l->pool->subs->len; i++) send_req(l, g_ptr_array_index(l->pool->subs, i));
  gdb_nostr_event *ev;
  while ((ev = g_queue_pop_head(&l->pending))) {
    send_event(l, ev);
    gdb_nostr_event_release(ev);
  }
}

/* ── incoming ── */

static pool_sub *sub_by_wire(gdb_nostr_pool *p, const char *wire) {
  for (guint i = 0; i < p->subs->len; i++) {
    pool_sub *s = g_ptr_array_index(p->subs, i);
    if (!strcmp(s->wire_id, wire)) return s;
  }
  return NULL;
}

static void on_event(relay_link *l, gdb_nostr_msg *m) {
  pool_sub *s = sub_by_wire(l->pool, m->sub_id);
  if (!s) return; /* a subscription we closed */
  gdb_nostr_event *ev = m->event;
  if (g_hash_table_contains(s->seen, ev->id_hex)) return;
  if (gdb_nostr_event_verify(ev)) {
    l->h.rejected_in++;
    return;
  }
  bool match = false;
  for (size_t i = 0; i < s->n_filters && !match; i++)
    match = gdb_nostr_filter_match(s->filters[i], ev);
  if (!match) {
    l->h.rejected_in++;
    return;
  }
  l->h.events_in++;
  char *id = strdup(ev->id_hex);
  g_hash_table_add(s->seen, id);
  g_queue_push_tail(&s->seen_order, id);
  if (g_queue_get_length(&s->seen_order) > SEEN_MAX)
    g_hash_table_remove(s->seen, g_queue_pop_head(&s->seen_order));
  s->fn(ev, l->url, s->data);
}

static void on_message(relay_link *l, const char *txt, size_t n) {
  gdb_nostr_msg m;
  if (gdb_nostr_msg_parse(txt, n, GDB_NMSG_TO_CLIENT, 0, &m)) {
    snprintf(l->h.reason, sizeof l->h.reason, "relay sent a bad message: %.90s", gdb_errmsg());
    gdb_nostr_msg_clear(&m);
    return;
  }
  switch (m.type) {
  case GDB_NMSG_EVENT: on_event(l, &m); break;
  case GDB_NMSG_EOSE: {
    pool_sub *s = sub_by_wire(l->pool, m.sub_id);
    if (s && s->eose) s->eose(l->url, s->data);
    break;
  }
  case GDB_NMSG_OK: {
    ok_wait *w = g_hash_table_lookup(l->pool->oks, m.event_id);
    if (w) {
      l->h.latency_ms = (double)(gdb_nostr_now_us() - w->sent_us) / 1000.0;
      if (w->fn) w->fn(m.event_id, m.ok, m.message, l->url, w->data);
    }
    if (!m.ok && !strncmp(m.message, "pow:", 4)) link_drop(l, m.message);
    break;
  }
  case GDB_NMSG_CLOSED:
    snprintf(l->h.reason, sizeof l->h.reason, "subscription closed: %.100s", m.message);
    if (!strncmp(m.message, "pow:", 4)) link_drop(l, m.message);
    break;
  case GDB_NMSG_NOTICE:
    snprintf(l->h.reason, sizeof l->h.reason, "notice: %.110s", m.message);
    break;
  default: break;
  }
  gdb_nostr_msg_clear(&m);
}

static void link_receive(relay_link *l, const void *in, size_t len) {
  if (lws_is_first_fragment(l->wsi)) {
    l->rx.len = 0;
    l->rx_overflow = false;
  }
  if (!l->rx_overflow) {
    if (l->rx.len + len > 1024 * 1024) {
      l->rx_overflow = true; /* a relay message over 1 MiB is not for signaling: skip it */
    } else {
      gdb_buf_put(&l->rx, in, len);
    }
  }
  if (!lws_is_final_fragment(l->wsi) || lws_remaining_packet_payload(l->wsi)) return;
  if (!l->rx_overflow && !l->rx.oom) on_message(l, (const char *)l->rx.data, l->rx.len);
  l->rx.len = 0;
  l->rx_overflow = false;
}

/* NIP-11: a relay that asks for proof of work is of no use for signaling. */
static void on_info(relay_link *l) {
  json_t *o = json_loadb((const char *)l->info.data, l->info.len, 0, NULL);
  json_t *pow = json_object_get(json_object_get(o, "limitation"), "min_pow_difficulty");
  if (json_is_integer(pow) && json_integer_value(pow) > 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "pow: relay information demands difficulty %lld",
             (long long)json_integer_value(pow));
    link_drop(l, msg);
  }
  json_decref(o);
}

static int link_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
  relay_link *l = lws_get_opaque_user_data(wsi);
  switch (reason) {
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    if (l && l->wsi == wsi) {
      char why[160];
      const char *msg = in ? (const char *)in : "unknown";
      if (l->tls && strstr(msg, "SSL")) /* lws reports a failed verification as a bare SSL error */
        snprintf(why, sizeof why, "TLS handshake failed (certificate not trusted, or not for this host?): %.60s", msg);
      else
        snprintf(why, sizeof why, "connection failed: %.120s", msg);
      l->wsi = NULL;
      link_failed(l, why);
    }
    break;
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    if (l && l->wsi == wsi) link_opened(l);
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    if (l && l->wsi == wsi) link_receive(l, in, len);
    break;
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    if (l && l->wsi == wsi) return link_writable(l);
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (l && l->wsi == wsi) {
      l->wsi = NULL;
      link_failed(l, "connection closed by the relay");
    }
    break;
  case LWS_CALLBACK_WSI_DESTROY:
    if (l && l->wsi == wsi) l->wsi = NULL;
    if (l && l->info_wsi == wsi) l->info_wsi = NULL;
    break;
  default: break;
  }
  return 0;
}

static int info_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
  relay_link *l = lws_get_opaque_user_data(wsi);
  switch (reason) {
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
    uint8_t **p = in, *end = *p + len;
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ACCEPT,
                                     (const uint8_t *)"application/nostr+json", 22, p, end))
      return -1;
    break;
  }
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
    if (l && l->info.len + len < 65536) gdb_buf_put(&l->info, in, len);
    break;
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
    char buf[LWS_PRE + 2048], *px = buf + LWS_PRE;
    int lenx = sizeof buf - LWS_PRE;
    if (lws_http_client_read(wsi, &px, &lenx) < 0) return -1;
    break;
  }
  case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
    if (l && l->info_wsi == wsi) {
      l->info_wsi = NULL;
      lws_set_opaque_user_data(wsi, NULL);
      on_info(l);
    }
    break;
  case LWS_CALLBACK_WSI_DESTROY:
    if (l && l->info_wsi == wsi) l->info_wsi = NULL;
    break;
  default: break;
  }
  return 0;
}

static void link_connect(relay_link *l) {
  gdb_nostr_pool *p = l->pool;
  if (p->closing || l->h.state == GDB_NOSTR_DROPPED) return;
  l->h.state = GDB_NOSTR_CONNECTING;
  l->started_us = gdb_nostr_now_us();
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = p->shared->ctx;
  ci.address = l->host;
  ci.port = l->port;
  ci.path = l->path;
  ci.host = l->host;
  ci.origin = l->host;
  ci.ssl_connection = l->tls ? LCCSCF_USE_SSL : 0;
  ci.local_protocol_name = "gdb-nostr";
  ci.opaque_user_data = l;
  ci.pwsi = &l->wsi;
  l->timer = gdb_net_loop_timeout(p->loop, p->opt.connect_timeout_ms, connect_timeout_fired, l);
  if (!lws_client_connect_via_info(&ci)) {
    l->wsi = NULL;
    if (l->h.state == GDB_NOSTR_CONNECTING) link_failed(l, "could not start the connection");
    return;
  }
  /* NIP-11 alongside (its answer can only drop the relay, never delay it) */
  gdb_buf_free(&l->info);
  ci.method = "GET";
  ci.local_protocol_name = "gdb-nostr-info";
  ci.pwsi = &l->info_wsi;
  ci.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  if (!lws_client_connect_via_info(&ci)) l->info_wsi = NULL;
}

/* ws://host[:port][/path] or wss://… */
static int parse_url(relay_link *l, const char *url) {
  if (strlen(url) >= sizeof l->url) return gdb_fail(GDB_EINVAL, "relay URL too long: %s", url);
  snprintf(l->url, sizeof l->url, "%s", url);
  snprintf(l->h.url, sizeof l->h.url, "%s", url);
  const char *rest;
  if (!strncmp(url, "ws://", 5)) {
    rest = url + 5;
    l->port = 80;
  } else if (!strncmp(url, "wss://", 6)) {
    rest = url + 6;
    l->tls = true;
    l->port = 443;
  } else {
    return gdb_fail(GDB_EINVAL, "relay URL \"%s\" must start with ws:// or wss://", url);
  }
  const char *slash = strchr(rest, '/');
  size_t hostlen = slash ? (size_t)(slash - rest) : strlen(rest);
  char hostport[200];
  if (hostlen == 0 || hostlen >= sizeof hostport)
    return gdb_fail(GDB_EINVAL, "relay URL \"%s\" has no host", url);
  memcpy(hostport, rest, hostlen);
  hostport[hostlen] = 0;
  char *colon = hostport[0] == '[' ? strstr(hostport, "]:") : strrchr(hostport, ':');
  if (colon) {
    char *port = colon + (hostport[0] == '[' ? 2 : 1), *end;
    long v = strtol(port, &end, 10);
    if (*end || v <= 0 || v > 65535)
      return gdb_fail(GDB_EINVAL, "relay URL \"%s\" has a bad port", url);
    l->port = (int)v;
    *(hostport[0] == '[' ? colon + 1 : colon) = 0;
  }
  if (hostport[0] == '[') { /* [::1] -> ::1 */
    size_t n = strlen(hostport);
    if (hostport[n - 1] != ']') return gdb_fail(GDB_EINVAL, "relay URL \"%s\" bad IPv6", url);
    hostport[n - 1] = 0;
    memmove(hostport, hostport + 1, n - 1);
  }
  snprintf(l->host, sizeof l->host, "%s", hostport);
  snprintf(l->path, sizeof l->path, "%s", slash ? slash : "/");
  return GDB_OK;
}

/* ── lifecycle ── */

static void sub_free(pool_sub *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_filters; i++) gdb_nostr_filter_free(s->filters[i]);
  free(s->filters);
  free(s->filters_json);
  if (s->seen) g_hash_table_destroy(s->seen);
  g_queue_clear(&s->seen_order);
  free(s);
}

static void ok_free(gpointer p) { free(p); }

/* Client contexts are shared by every pool of the process that uses the same CA file: one
 * OpenSSL client context and trust store instead of one per pool (loading the store costs
 * ~0.7 MB and, with libwebsockets 4.1.6, concurrent contexts doing their own TLS global init
 * leak it). Touched on the loop thread only. */
static shared_ctx *shared_list;

static const struct lws_protocols CLIENT_PROTOCOLS[] = {
    {.name = "gdb-nostr", .callback = link_callback, .rx_buffer_size = 65536},
    {.name = "gdb-nostr-info", .callback = info_callback},
    {0},
};

static shared_ctx *shared_acquire(gdb_net_loop *loop, const char *ca_file) {
  for (shared_ctx *c = shared_list; c; c = c->next)
    if ((!c->ca_file && !ca_file) || (c->ca_file && ca_file && !strcmp(c->ca_file, ca_file))) {
      c->refs++;
      return c;
    }
  shared_ctx *c = calloc(1, sizeof *c);
  if (!c || (ca_file && !(c->ca_file = strdup(ca_file)))) {
    free(c);
    gdb_fail(GDB_ENOMEM, "pool: out of memory");
    return NULL;
  }
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* wss:// (the relay has no TLS) */
  info.protocols = CLIENT_PROTOCOLS;
  info.timeout_secs = 20;
  info.connect_timeout_secs = 20;
  if (ca_file) info.client_ssl_ca_filepath = c->ca_file;
  c->ctx = gdb_nostr_lws_context(loop, &info);
  if (!c->ctx) {
    free(c->ca_file);
    free(c);
    return NULL;
  }
  c->refs = 1;
  c->next = shared_list;
  shared_list = c;
  return c;
}

static void shared_release(shared_ctx *c) {
  if (!c || --c->refs > 0) return;
  for (shared_ctx **pp = &shared_list; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  lws_context_destroy(c->ctx);
  free(c->ca_file);
  free(c);
}

static void pool_start_on_loop(void *arg) {
  gdb_nostr_pool *p = arg;
  p->shared = shared_acquire(p->loop, p->ca_file);
  if (!p->shared) {
    p->rc = GDB_ENET;
    return;
  }
  for (size_t i = 0; i < p->n_links; i++) link_connect(&p->links[i]);
}

static void pool_stop_on_loop(void *arg) {
  gdb_nostr_pool *p = arg;
  p->closing = true;
  for (size_t i = 0; i < p->n_links; i++) {
    timer_clear(&p->links[i]);
    link_detach(&p->links[i]); /* its connections close on their own, unaware of the pool */
  }
  shared_release(p->shared);
  p->shared = NULL;
}

static void pool_free_mem(gdb_nostr_pool *p) {
  for (size_t i = 0; i < p->n_links; i++) {
    relay_link *l = &p->links[i];
    link_clear_out(l);
    gdb_nostr_event *ev;
    while ((ev = g_queue_pop_head(&l->pending))) gdb_nostr_event_release(ev);
    gdb_buf_free(&l->rx);
    gdb_buf_free(&l->info);
  }
  free(p->links);
  if (p->subs) {
    for (guint i = 0; i < p->subs->len; i++) sub_free(g_ptr_array_index(p->subs, i));
    g_ptr_array_free(p->subs, TRUE);
  }
  if (p->oks) g_hash_table_destroy(p->oks);
  if (p->loop) gdb_net_loop_release(p->loop);
  free(p->ca_file);
  free(p);
}

int gdb_nostr_pool_new(const char *const *urls, size_t n, const gdb_nostr_pool_options *opts,
                       gdb_nostr_pool **out) {
  *out = NULL;
  if (n == 0) return gdb_fail(GDB_EINVAL, "pool: give at least one relay URL");
  gdb_nostr_pool *p = calloc(1, sizeof *p);
  if (!p) return gdb_fail(GDB_ENOMEM, "pool: out of memory");
  gdb_nostr_pool_options_init(&p->opt);
  if (opts) p->opt = *opts;
  if (!p->opt.max_failures) p->opt.max_failures = 1;
  if (!p->opt.backoff_min_ms) p->opt.backoff_min_ms = 1;
  if (p->opt.backoff_max_ms < p->opt.backoff_min_ms) p->opt.backoff_max_ms = p->opt.backoff_min_ms;
  if (!p->opt.connect_timeout_ms) p->opt.connect_timeout_ms = 5000;
  p->ca_file = p->opt.ca_file ? strdup(p->opt.ca_file) : NULL;
  p->links = calloc(n, sizeof *p->links);
  p->subs = g_ptr_array_new();
  p->oks = g_hash_table_new_full(g_str_hash, g_str_equal, free, ok_free);
  if (!p->links) {
    pool_free_mem(p);
    return gdb_fail(GDB_ENOMEM, "pool: out of memory");
  }
  p->n_links = n;
  for (size_t i = 0; i < n; i++) {
    p->links[i].pool = p;
    int rc = parse_url(&p->links[i], urls[i]);
    if (rc) {
      pool_free_mem(p);
      return rc;
    }
  }
  p->loop = gdb_net_loop_acquire();
  gdb_net_loop_invoke_sync(p->loop, pool_start_on_loop, p);
  if (p->rc) {
    int rc = p->rc;
    gdb_net_loop_invoke_sync(p->loop, pool_stop_on_loop, p);
    pool_free_mem(p);
    return rc;
  }
  *out = p;
  return GDB_OK;
}

void gdb_nostr_pool_free(gdb_nostr_pool *p) {
  if (!p) return;
  gdb_net_loop_invoke_sync(p->loop, pool_stop_on_loop, p);
  pool_free_mem(p);
}

typedef struct publish_call {
  gdb_nostr_pool *p;
  gdb_nostr_event *ev;
  gdb_nostr_ok_fn ok;
  void *data;
} publish_call;

static void publish_on_loop(void *arg) {
  publish_call *c = arg;
  gdb_nostr_pool *p = c->p;
  if (g_hash_table_size(p->oks) >= OK_WAIT_MAX) g_hash_table_remove_all(p->oks);
  ok_wait *w = calloc(1, sizeof *w);
  char *id = strdup(c->ev->id_hex);
  if (w && id) {
    w->fn = c->ok;
    w->data = c->data;
    w->sent_us = gdb_nostr_now_us();
    g_hash_table_replace(p->oks, id, w);
  } else {
    free(w);
    free(id);
  }
  for (size_t i = 0; i < p->n_links; i++) {
    relay_link *l = &p->links[i];
    if (l->h.state == GDB_NOSTR_OPEN) {
      send_event(l, c->ev);
    } else if (l->h.state != GDB_NOSTR_DROPPED) {
      if (g_queue_get_length(&l->pending) >= PENDING_MAX)
        gdb_nostr_event_release(g_queue_pop_head(&l->pending));
      gdb_nostr_event_retain(c->ev);
      g_queue_push_tail(&l->pending, c->ev);
    }
  }
}

int gdb_nostr_pool_publish(gdb_nostr_pool *p, gdb_nostr_event *ev, gdb_nostr_ok_fn ok, void *data) {
  publish_call c = {p, ev, ok, data};
  gdb_net_loop_invoke_sync(p->loop, publish_on_loop, &c);
  return GDB_OK;
}

typedef struct sub_call {
  gdb_nostr_pool *p;
  pool_sub *s;
  uint64_t id;
  int rc;
} sub_call;

static void subscribe_on_loop(void *arg) {
  sub_call *c = arg;
  c->s->id = ++c->p->next_sub;
  snprintf(c->s->wire_id, sizeof c->s->wire_id, "gdb%llu", (unsigned long long)c->s->id);
  g_ptr_array_add(c->p->subs, c->s);
  for (size_t i = 0; i < c->p->n_links; i++)
    if (c->p->links[i].h.state == GDB_NOSTR_OPEN) send_req(&c->p->links[i], c->s);
  c->id = c->s->id;
}

int gdb_nostr_pool_subscribe(gdb_nostr_pool *p, const char *filters_json, gdb_nostr_event_fn fn,
                             gdb_nostr_eose_fn eose, void *data, uint64_t *sub_id) {
  json_error_t err;
  json_t *a = json_loads(filters_json, JSON_REJECT_DUPLICATES, &err);
  if (!a) return gdb_fail(GDB_EINVAL, "subscribe: filters are not valid JSON: %s", err.text);
  int rc = GDB_OK;
  pool_sub *s = calloc(1, sizeof *s);
  if (!json_is_array(a) || json_array_size(a) == 0) {
    rc = gdb_fail(GDB_EINVAL, "subscribe: give a JSON array of one or more filter objects");
    goto done;
  }
  if (!s || !(s->filters = calloc(json_array_size(a), sizeof *s->filters))) {
    rc = gdb_fail(GDB_ENOMEM, "subscribe: out of memory");
    goto done;
  }
  for (size_t i = 0; i < json_array_size(a); i++) {
    if ((rc = gdb_nostr_filter_from_json(json_array_get(a, i), &s->filters[i]))) goto done;
    s->n_filters++;
  }
  s->filters_json = json_dumps(a, JSON_COMPACT);
  s->seen = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
  s->fn = fn;
  s->eose = eose;
  s->data = data;
  if (!s->filters_json) {
    rc = gdb_fail(GDB_ENOMEM, "subscribe: out of memory");
    goto done;
  }
  sub_call c = {.p = p, .s = s};
  gdb_net_loop_invoke_sync(p->loop, subscribe_on_loop, &c);
  s = NULL;
  if (sub_id) *sub_id = c.id;
done:
  sub_free(s);
  json_decref(a);
  return rc;
}

static void unsubscribe_on_loop(void *arg) {
  sub_call *c = arg;
  c->rc = GDB_ENOTFOUND;
  for (guint i = 0; i < c->p->subs->len; i++) {
    pool_sub *s = g_ptr_array_index(c->p->subs, i);
    if (s->id != c->id) continue;
    for (size_t k = 0; k < c->p->n_links; k++) {
      relay_link *l = &c->p->links[k];
      if (l->h.state != GDB_NOSTR_OPEN) continue;
      gdb_buf b = {0};
      gdb_buf_printf(&b, "[\"CLOSE\",\"%s\"]", s->wire_id);
      if (!b.oom) link_queue(l, &b);
      gdb_buf_free(&b);
    }
    g_ptr_array_remove_index(c->p->subs, i);
    sub_free(s);
    c->rc = GDB_OK;
    return;
  }
}

int gdb_nostr_pool_unsubscribe(gdb_nostr_pool *p, uint64_t sub_id) {
  sub_call c = {.p = p, .id = sub_id};
  gdb_net_loop_invoke_sync(p->loop, unsubscribe_on_loop, &c);
  if (c.rc) return gdb_fail(c.rc, "unsubscribe: no subscription %llu", (unsigned long long)sub_id);
  return GDB_OK;
}

size_t gdb_nostr_pool_relay_count(gdb_nostr_pool *p) { return p->n_links; }

typedef struct health_call {
  gdb_nostr_pool *p;
  size_t i;
  gdb_nostr_relay_health h;
  size_t open;
} health_call;

static void health_on_loop(void *arg) {
  health_call *c = arg;
  if (c->i < c->p->n_links) c->h = c->p->links[c->i].h;
  for (size_t i = 0; i < c->p->n_links; i++)
    if (c->p->links[i].h.state == GDB_NOSTR_OPEN) c->open++;
}

int gdb_nostr_pool_health(gdb_nostr_pool *p, size_t i, gdb_nostr_relay_health *out) {
  if (i >= p->n_links) return gdb_fail(GDB_ENOTFOUND, "pool: no relay number %zu", i);
  health_call c = {.p = p, .i = i};
  gdb_net_loop_invoke_sync(p->loop, health_on_loop, &c);
  *out = c.h;
  return GDB_OK;
}

size_t gdb_nostr_pool_open_count(gdb_nostr_pool *p) {
  health_call c = {.p = p, .i = SIZE_MAX};
  gdb_net_loop_invoke_sync(p->loop, health_on_loop, &c);
  return c.open;
}
