/*
 * peer.c — a WebRTC peer connection: the libnice ICE agent, the DTLS session over it, the
 * SCTP association over that (sctp.c), and the public gdb_rtc_peer_* API.
 *
 * Every public call runs its work on the network thread (gdb_net_loop_invoke_sync), so the
 * connection's state is touched by one thread only; callbacks are made from there too. The
 * connection ends in one place, gdb_rtc_peer_end() (or gdb_rtc_peer_close() for our own
 * close), which reports the state and closes the channels; the transports are torn down
 * later from a fresh loop iteration (finalize), never from inside usrsctp, OpenSSL or libnice.
 */
#include "net/rtc/rtc.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSENT_TICK_MS 250
#define DTLS_TICK_MS 20
#define MAX_PENDING_DGRAMS 64

static const char *STATE_NAMES[] = {"new",          "connecting", "connected",
                                    "disconnected", "failed",     "closed"};

const char *gdb_rtc_state_name(gdb_rtc_state s) {
  return (unsigned)s < 6 ? STATE_NAMES[s] : "unknown";
}

void gdb_rtc_config_init(gdb_rtc_config *c) {
  memset(c, 0, sizeof *c);
  c->max_message_size = 262144;
  c->consent_timeout_ms = 10000;
  c->mtu = 1200;
  c->close_linger_ms = 2000;
}

void gdb_rtc_peer_ref(gdb_rtc_peer *p) { atomic_fetch_add(&p->refs, 1); }

static void peer_destroy(gdb_rtc_peer *p) {
  gdb_rtc_channels_free_all(p);
  out_msg *m;
  while ((m = g_queue_pop_head(&p->sendq))) free(m);
  GBytes *b;
  while ((b = g_queue_pop_head(&p->pending_dgrams))) g_bytes_unref(b);
  g_ptr_array_free(p->local_cands, TRUE);
  g_ptr_array_free(p->channels, TRUE);
  g_hash_table_destroy(p->by_sid);
  gdb_sdp_clear(&p->remote);
  gdb_rtc_dtls_free(p->dtls);
  gdb_rtc_cert_free(p->cert);
  gdb_buf_free(&p->rx);
  free(p->rxbuf);
  for (size_t i = 0; i < p->cfg.bind_address_count; i++) g_free(p->bind_addrs[i]);
  g_free(p->bind_addrs);
  for (size_t i = 0; i < p->cfg.ice_server_count; i++) {
    g_free((char *)p->servers[i].urls);
    g_free((char *)p->servers[i].username);
    g_free((char *)p->servers[i].credential);
  }
  g_free(p->servers);
  g_mutex_clear(&p->mu);
  g_cond_clear(&p->cond);
  free(p);
}

void gdb_rtc_peer_unref(gdb_rtc_peer *p) {
  if (atomic_fetch_sub(&p->refs, 1) == 1) peer_destroy(p);
}

/* ── state and events ── */

void gdb_rtc_peer_emit_state(gdb_rtc_peer *p, gdb_rtc_state s) {
  if (atomic_load(&p->state) == (int)s) return;
  int cur = atomic_load(&p->state);
  if (cur == GDB_RTC_FAILED || cur == GDB_RTC_CLOSED) return; /* final */
  atomic_store(&p->state, (int)s);
  if (!p->muted && p->cfg.cb.on_state) p->cfg.cb.on_state(p, s, p->cfg.cb.data);
}

static void finalize(gdb_rtc_peer *p);

static void finalize_cb(void *data) {
  gdb_rtc_peer *p = data;
  finalize(p);
  gdb_rtc_peer_unref(p);
}

void gdb_rtc_peer_schedule_finalize(gdb_rtc_peer *p) {
  gdb_rtc_peer_ref(p);
  gdb_net_loop_invoke(p->loop, finalize_cb, p);
}

void gdb_rtc_peer_end(gdb_rtc_peer *p, gdb_rtc_state state, const char *reason) {
  if (p->ended) return;
  p->ended = true;
  if (reason) snprintf(p->error, sizeof p->error, "%s", reason);
  if (reason) g_debug("rtc: connection %s: %s", gdb_rtc_state_name(state), reason);
  gdb_rtc_channels_close_all(p);
  gdb_rtc_peer_emit_state(p, state);
  gdb_rtc_peer_schedule_finalize(p);
}

/* ── DTLS glue ── */

static void ice_send(gdb_rtc_peer *p, const uint8_t *pkt, size_t len) {
  if (p->frozen || !p->agent) return;
  if (!p->ice_connected ||
      nice_agent_send(p->agent, p->stream, 1, (guint)len, (const gchar *)pkt) < 0) {
    /* No selected pair yet (the peer's handshake can race our own ICE state): keep the
     * datagram and send it once there is one. */
    if (!p->ice_connected && g_queue_get_length(&p->pending_dgrams) < MAX_PENDING_DGRAMS)
      g_queue_push_tail(&p->pending_dgrams, g_bytes_new(pkt, len));
    return;
  }
  p->bytes_sent += len;
}

static void dtls_send(void *data, const uint8_t *pkt, size_t len) { ice_send(data, pkt, len); }

static void dtls_recv(void *data, const uint8_t *msg, size_t len) {
  gdb_rtc_sctp_input(data, msg, len);
}

void gdb_rtc_peer_send_sctp(gdb_rtc_peer *p, const void *pkt, size_t len) {
  if (p->dtls) gdb_rtc_dtls_write(p->dtls, pkt, len);
}

static void dtls_check(gdb_rtc_peer *p, gdb_rtc_dtls_state before) {
  gdb_rtc_dtls_state now = gdb_rtc_dtls_state_of(p->dtls);
  if (now == before) return;
  if (now == GDB_DTLS_CONNECTED) {
    if (p->ended) return;
    if (gdb_rtc_sctp_start(p) != GDB_OK) gdb_rtc_peer_end(p, GDB_RTC_FAILED, gdb_errmsg());
  } else if (now == GDB_DTLS_FAILED) {
    gdb_rtc_peer_end(p, GDB_RTC_FAILED, gdb_rtc_dtls_error(p->dtls));
  } else if (now == GDB_DTLS_CLOSED) {
    if (p->draining)
      gdb_rtc_peer_schedule_finalize(p);
    else
      gdb_rtc_peer_end(p, GDB_RTC_CLOSED, "the peer closed the connection");
  }
}

static gboolean dtls_tick(gpointer data) {
  gdb_rtc_peer *p = data;
  if (!p->dtls || gdb_rtc_dtls_state_of(p->dtls) != GDB_DTLS_HANDSHAKING || p->ended) {
    p->dtls_timer = 0;
    return G_SOURCE_REMOVE;
  }
  if (gdb_rtc_dtls_timeout_ms(p->dtls) == 0) {
    gdb_rtc_dtls_state before = gdb_rtc_dtls_state_of(p->dtls);
    gdb_rtc_dtls_handle_timeout(p->dtls);
    dtls_check(p, before);
  }
  return G_SOURCE_CONTINUE;
}

static void dtls_maybe_start(gdb_rtc_peer *p) {
  if (!p->dtls || !p->ice_connected || p->dtls_started || p->ended) return;
  p->dtls_started = true;
  p->dtls_timer = gdb_net_loop_timeout(p->loop, DTLS_TICK_MS, dtls_tick, p);
  gdb_rtc_dtls_state before = gdb_rtc_dtls_state_of(p->dtls);
  gdb_rtc_dtls_start(p->dtls);
  dtls_check(p, before);
}

/* ── ICE (libnice signals, on the network thread) ── */

static void on_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
                    gpointer data) {
  (void)agent, (void)stream, (void)comp;
  gdb_rtc_peer *p = data;
  if (p->frozen || p->finalized) return;
  p->last_rx_us = g_get_monotonic_time();
  p->bytes_received += len;
  if (atomic_load(&p->state) == GDB_RTC_DISCONNECTED && p->sctp_up)
    gdb_rtc_peer_emit_state(p, GDB_RTC_CONNECTED);
  if (!p->dtls || !gdb_rtc_is_dtls((const uint8_t *)buf, len)) return;
  gdb_rtc_peer_ref(p);
  gdb_rtc_dtls_state before = gdb_rtc_dtls_state_of(p->dtls);
  gdb_rtc_dtls_feed(p->dtls, (const uint8_t *)buf, len);
  dtls_check(p, before);
  gdb_rtc_sctp_drain();
  gdb_rtc_peer_unref(p);
}

static void emit_candidate(gdb_rtc_peer *p, const char *cand) {
  if (!p->muted && p->cfg.cb.on_candidate) p->cfg.cb.on_candidate(p, cand, p->mid, p->cfg.cb.data);
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data) {
  gdb_rtc_peer *p = data;
  gchar *line = nice_agent_generate_local_candidate_sdp(agent, c);
  if (!line) return;
  const char *cand = g_str_has_prefix(line, "a=") ? line + 2 : line;
  g_ptr_array_add(p->local_cands, g_strdup(cand));
  if (p->have_local) emit_candidate(p, cand);
  g_free(line);
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data) {
  (void)agent, (void)stream;
  gdb_rtc_peer *p = data;
  g_mutex_lock(&p->mu);
  p->gathering_done = true;
  g_cond_broadcast(&p->cond);
  g_mutex_unlock(&p->mu);
  if (p->have_local) emit_candidate(p, NULL);
}

static void on_component_state(NiceAgent *agent, guint stream, guint comp, guint state,
                               gpointer data) {
  (void)agent, (void)stream, (void)comp;
  gdb_rtc_peer *p = data;
  if (p->ended) return;
  if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
    if (!p->ice_connected) {
      p->ice_connected = true;
      gdb_rtc_ice_enlarge_buffers(p);
      p->last_rx_us = g_get_monotonic_time();
      GBytes *b;
      while ((b = g_queue_pop_head(&p->pending_dgrams))) {
        gsize n;
        const uint8_t *d = g_bytes_get_data(b, &n);
        ice_send(p, d, n);
        g_bytes_unref(b);
      }
      dtls_maybe_start(p);
    }
  } else if (state == NICE_COMPONENT_STATE_FAILED) {
    gdb_rtc_peer_end(p, GDB_RTC_FAILED,
                     p->ice_connected ? "ICE consent to send was lost"
                                      : "ICE found no working candidate pair");
  }
}

static gboolean consent_tick(gpointer data) {
  gdb_rtc_peer *p = data;
  if (p->ended || p->finalized) {
    p->consent_timer = 0;
    return G_SOURCE_REMOVE;
  }
  if (!p->ice_connected) return G_SOURCE_CONTINUE;
  int64_t silent_ms = (g_get_monotonic_time() - p->last_rx_us) / 1000;
  if (silent_ms > (int64_t)p->cfg.consent_timeout_ms) {
    char why[96];
    snprintf(why, sizeof why, "nothing heard from the peer for %lld ms", (long long)silent_ms);
    gdb_rtc_peer_end(p, GDB_RTC_FAILED, why);
    p->consent_timer = 0;
    return G_SOURCE_REMOVE;
  }
  if (silent_ms > (int64_t)p->cfg.consent_timeout_ms / 2 && p->sctp_up)
    gdb_rtc_peer_emit_state(p, GDB_RTC_DISCONNECTED);
  return G_SOURCE_CONTINUE;
}

/* ── creation ── */

typedef struct call {
  gdb_rtc_peer *p;
  int rc;
  const char *s1, *s2;
  char *out;
  char err[256];
  gdb_rtc_channel *ch;
  const gdb_rtc_channel_options *opts;
  const gdb_rtc_channel_callbacks *cbs;
} call;

/* Runs fn on the network thread and carries its error message back to the caller's thread. */
static int run(gdb_rtc_peer *p, void (*fn)(void *), call *c) {
  c->p = p;
  gdb_net_loop_invoke_sync(p->loop, fn, c);
  if (c->rc != GDB_OK) gdb_fail(c->rc, "%s", c->err);
  return c->rc;
}

static void call_fail(call *c, int rc) {
  c->rc = rc;
  snprintf(c->err, sizeof c->err, "%s", gdb_errmsg());
}

static void setup_agent(void *data) {
  call *c = data;
  gdb_rtc_peer *p = c->p;
  p->agent =
      nice_agent_new_full(p->ctx, NICE_COMPATIBILITY_RFC5245,
                          NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_CONSENT_FRESHNESS);
  if (!p->agent) {
    call_fail(c, gdb_fail(GDB_ENET, "rtc: libnice could not create an ICE agent"));
    return;
  }
  gdb_rtc_ice_set_properties(p);
  g_signal_connect(p->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), p);
  g_signal_connect(p->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), p);
  g_signal_connect(p->agent, "component-state-changed", G_CALLBACK(on_component_state), p);
  p->stream = nice_agent_add_stream(p->agent, 1);
  if (!p->stream) {
    call_fail(c, gdb_fail(GDB_ENET, "rtc: libnice could not add a stream"));
    return;
  }
  nice_agent_set_stream_name(p->agent, p->stream, "application");
  int rc = gdb_rtc_ice_configure(p);
  if (rc) {
    call_fail(c, rc);
    return;
  }
  nice_agent_attach_recv(p->agent, p->stream, 1, p->ctx, on_recv, p);
  gchar *ufrag = NULL, *pwd = NULL;
  nice_agent_get_local_credentials(p->agent, p->stream, &ufrag, &pwd);
  snprintf(p->ufrag, sizeof p->ufrag, "%s", ufrag ? ufrag : "");
  snprintf(p->pwd, sizeof p->pwd, "%s", pwd ? pwd : "");
  g_free(ufrag);
  g_free(pwd);
  if (!nice_agent_gather_candidates(p->agent, p->stream)) {
    call_fail(c, gdb_fail(GDB_ENET, "rtc: ICE candidate gathering could not start (check the "
                                    "bind addresses and ICE servers)"));
    return;
  }
  p->consent_timer = gdb_net_loop_timeout(p->loop, CONSENT_TICK_MS, consent_tick, p);
}

static void force_finalize(void *data);
static void wait_finished(gdb_rtc_peer *p);

int gdb_rtc_peer_new(const gdb_rtc_config *cfg, gdb_rtc_peer **out) {
  gdb_rtc_config defaults;
  if (!cfg) {
    gdb_rtc_config_init(&defaults);
    cfg = &defaults;
  }
  if (cfg->consent_timeout_ms < 1000 || cfg->mtu < 576 || cfg->mtu > 16000 ||
      cfg->max_message_size < 1024)
    return gdb_fail(GDB_EINVAL,
                    "rtc: config out of range (consent_timeout_ms >= 1000, mtu 576..9000, "
                    "max_message_size >= 1024); start from gdb_rtc_config_init()");
  gdb_rtc_peer *p = calloc(1, sizeof *p);
  if (!p) return gdb_fail(GDB_ENOMEM, "rtc: out of memory");
  atomic_init(&p->refs, 1);
  atomic_init(&p->state, GDB_RTC_NEW);
  p->cfg = *cfg;
  g_mutex_init(&p->mu);
  g_cond_init(&p->cond);
  p->local_cands = g_ptr_array_new_with_free_func(g_free);
  p->channels = g_ptr_array_new();
  p->by_sid = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_queue_init(&p->sendq);
  g_queue_init(&p->pending_dgrams);
  snprintf(p->mid, sizeof p->mid, "0");
  p->remote_max_msg = 65536;
  p->session_id = g_random_int() | (uint64_t)g_random_int() << 31;
  p->bind_addrs = g_new0(char *, cfg->bind_address_count + 1);
  for (size_t i = 0; i < cfg->bind_address_count; i++)
    p->bind_addrs[i] = g_strdup(cfg->bind_addresses[i]);
  p->cfg.bind_addresses = (const char *const *)p->bind_addrs;
  p->servers = g_new0(gdb_rtc_ice_server, cfg->ice_server_count + 1);
  for (size_t i = 0; i < cfg->ice_server_count; i++) {
    p->servers[i].urls = g_strdup(cfg->ice_servers[i].urls);
    p->servers[i].username = g_strdup(cfg->ice_servers[i].username);
    p->servers[i].credential = g_strdup(cfg->ice_servers[i].credential);
  }
  p->cfg.ice_servers = p->servers;
  int rc = gdb_rtc_cert_new(&p->cert);
  if (rc) {
    peer_destroy(p);
    return rc;
  }
  gdb_rtc_sctp_global_acquire();
  p->loop = gdb_net_loop_acquire();
  p->ctx = gdb_net_loop_context(p->loop);
  call c = {0};
  rc = run(p, setup_agent, &c);
  if (rc) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", gdb_errmsg());
    p->ended = p->muted = true;
    gdb_net_loop_invoke_sync(p->loop, force_finalize, p);
    wait_finished(p);
    gdb_net_loop *loop = p->loop;
    gdb_rtc_peer_unref(p);
    gdb_net_loop_release(loop);
    return gdb_fail(rc, "%s", msg);
  }
  *out = p;
  return GDB_OK;
}

/* ── descriptions ── */

static char *make_sdp(gdb_rtc_peer *p) {
  gdb_sdp_local l = {0};
  l.session_id = p->session_id;
  l.ufrag = p->ufrag;
  l.pwd = p->pwd;
  l.fp_alg = "sha-256";
  l.fp = gdb_rtc_cert_fingerprint(p->cert);
  l.fp_len = 32;
  l.mid = p->mid;
  l.sctp_port = 5000;
  l.max_message_size = p->cfg.max_message_size;
  l.max_packet = GDB_RTC_LOOPBACK_MTU;
  l.candidates = (const char *const *)p->local_cands->pdata;
  l.n_candidates = p->local_cands->len;
  l.end_of_candidates = p->gathering_done;
  if (p->offerer) {
    l.setup = GDB_SDP_SETUP_ACTPASS;
  } else {
    l.setup = p->dtls_client ? GDB_SDP_SETUP_ACTIVE : GDB_SDP_SETUP_PASSIVE;
    l.offer = &p->remote;
  }
  return gdb_sdp_format(&l);
}

static gboolean gathering_done_late(gpointer data) {
  gdb_rtc_peer *p = data;
  if (!p->ended) emit_candidate(p, NULL);
  gdb_rtc_peer_unref(p);
  return G_SOURCE_REMOVE;
}

static void describe(call *c) {
  gdb_rtc_peer *p = c->p;
  bool first = !p->have_local;
  p->have_local = true;
  c->out = make_sdp(p);
  if (!c->out) {
    call_fail(c, gdb_fail(GDB_ENOMEM, "rtc: out of memory"));
    return;
  }
  /* Gathering finished before there was a description to trickle against: tell the
   * application now, from a later iteration (it is waiting in create_offer/answer). */
  if (first && p->gathering_done) {
    gdb_rtc_peer_ref(p);
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, gathering_done_late, p, NULL);
    g_source_attach(s, p->ctx);
    g_source_unref(s);
  }
}

static void do_offer(void *data) {
  call *c = data;
  gdb_rtc_peer *p = c->p;
  if (p->ended || p->answerer || (p->have_remote && !p->offerer)) {
    call_fail(c, gdb_fail(GDB_ESTATE, "rtc: create_offer on a peer that %s",
                          p->ended ? "is closed" : "already answers a remote offer"));
    return;
  }
  if (!p->offerer) {
    p->offerer = true;
    g_object_set(p->agent, "controlling-mode", TRUE, NULL);
  }
  describe(c);
}

static void do_answer(void *data) {
  call *c = data;
  gdb_rtc_peer *p = c->p;
  if (p->ended || p->offerer || !p->have_remote) {
    call_fail(c, gdb_fail(GDB_ESTATE, "rtc: create_answer needs a remote offer first%s",
                          p->ended ? " (the peer is closed)" : ""));
    return;
  }
  p->answerer = true;
  describe(c);
}

static void do_local_description(void *data) {
  call *c = data;
  if (!c->p->have_local) {
    call_fail(c, gdb_fail(GDB_ESTATE, "rtc: no local description yet (create an offer or an "
                                      "answer first)"));
    return;
  }
  describe(c);
}

int gdb_rtc_peer_create_offer(gdb_rtc_peer *p, char **sdp) {
  call c = {0};
  int rc = run(p, do_offer, &c);
  if (!rc) *sdp = c.out;
  return rc;
}

int gdb_rtc_peer_create_answer(gdb_rtc_peer *p, char **sdp) {
  call c = {0};
  int rc = run(p, do_answer, &c);
  if (!rc) *sdp = c.out;
  return rc;
}

int gdb_rtc_peer_local_description(gdb_rtc_peer *p, char **sdp) {
  call c = {0};
  int rc = run(p, do_local_description, &c);
  if (!rc) *sdp = c.out;
  return rc;
}

static void do_set_remote(void *data) {
  call *c = data;
  gdb_rtc_peer *p = c->p;
  bool offer = !strcmp(c->s1, "offer"), answer = !strcmp(c->s1, "answer");
  int rc;
  if (!offer && !answer) {
    call_fail(c, gdb_fail(GDB_EINVAL,
                          "rtc: description type must be \"offer\" or \"answer\", "
                          "not \"%s\"",
                          c->s1));
    return;
  }
  if (p->ended || p->have_remote || (offer && p->offerer) || (answer && !p->offerer)) {
    call_fail(c, gdb_fail(GDB_ESTATE, "rtc: cannot set a remote %s now (%s)", c->s1,
                          p->ended         ? "the peer is closed"
                          : p->have_remote ? "renegotiation is not supported"
                          : offer          ? "we made the offer"
                                           : "we made no offer"));
    return;
  }
  gdb_sdp sdp;
  if ((rc = gdb_sdp_parse(c->s2, strlen(c->s2), &sdp))) {
    call_fail(c, rc);
    return;
  }
  if (answer && sdp.setup == GDB_SDP_SETUP_ACTPASS) sdp.setup = GDB_SDP_SETUP_ACTIVE;
  p->remote = sdp;
  p->have_remote = true;
  p->remote_max_msg = sdp.max_message_size;
  if (offer) {
    snprintf(p->mid, sizeof p->mid, "%s", sdp.mid[0] ? sdp.mid : "0");
    g_object_set(p->agent, "controlling-mode", FALSE, NULL);
    p->dtls_client = sdp.setup != GDB_SDP_SETUP_ACTIVE;
  } else {
    p->dtls_client = sdp.setup == GDB_SDP_SETUP_PASSIVE;
  }
  gdb_rtc_dtls_io io = {.send = dtls_send, .recv = dtls_recv, .data = p};
  if ((rc = gdb_rtc_dtls_new(p->cert, p->dtls_client, sdp.fp_alg, sdp.fp, sdp.fp_len, p->cfg.mtu,
                             &io, &p->dtls))) {
    call_fail(c, rc);
    return;
  }
  nice_agent_set_remote_credentials(p->agent, p->stream, sdp.ufrag, sdp.pwd);
  for (size_t i = 0; i < sdp.n_candidates; i++)
    if (gdb_rtc_ice_add_candidate(p, sdp.candidates[i]) != GDB_OK)
      g_debug("rtc: ignored remote candidate: %s", gdb_errmsg());
  if (sdp.end_of_candidates) nice_agent_peer_candidate_gathering_done(p->agent, p->stream);
  gdb_rtc_peer_emit_state(p, GDB_RTC_CONNECTING);
  dtls_maybe_start(p);
}

int gdb_rtc_peer_set_remote_description(gdb_rtc_peer *p, const char *type, const char *sdp) {
  if (!type || !sdp) return gdb_fail(GDB_EINVAL, "rtc: description type and SDP are required");
  call c = {.s1 = type, .s2 = sdp};
  return run(p, do_set_remote, &c);
}

static void do_add_candidate(void *data) {
  call *c = data;
  if (c->p->ended) return;
  if (!c->p->have_remote) {
    call_fail(c, gdb_fail(GDB_ESTATE, "rtc: add the remote description before its candidates"));
    return;
  }
  int rc = gdb_rtc_ice_add_candidate(c->p, c->s1);
  if (rc) call_fail(c, rc);
}

int gdb_rtc_peer_add_remote_candidate(gdb_rtc_peer *p, const char *candidate, const char *mid) {
  (void)mid; /* one media section: every candidate is for it */
  call c = {.s1 = candidate};
  return run(p, do_add_candidate, &c);
}

bool gdb_rtc_peer_gathering_done(gdb_rtc_peer *p) {
  g_mutex_lock(&p->mu);
  bool done = p->gathering_done;
  g_mutex_unlock(&p->mu);
  return done;
}

gdb_rtc_state gdb_rtc_peer_state(gdb_rtc_peer *p) { return (gdb_rtc_state)atomic_load(&p->state); }

static void do_info(void *data) {
  call *c = data;
  gdb_rtc_peer *p = c->p;
  gdb_rtc_peer_info *i = (gdb_rtc_peer_info *)c->out;
  memset(i, 0, sizeof *i);
  i->state = gdb_rtc_peer_state(p);
  i->dtls_client = p->dtls_client;
  i->remote_max_message_size = p->remote_max_msg;
  i->bytes_sent = p->bytes_sent;
  i->bytes_received = p->bytes_received;
  snprintf(i->reason, sizeof i->reason, "%s", p->error);
  gdb_rtc_ice_selected_pair(p, i);
}

int gdb_rtc_peer_get_info(gdb_rtc_peer *p, gdb_rtc_peer_info *out) {
  call c = {.out = (char *)out};
  return run(p, do_info, &c);
}

/* ── closing ── */

static void on_agent_closed(GObject *src, GAsyncResult *res, gpointer data) {
  (void)src, (void)res;
  gdb_rtc_peer *p = data;
  g_mutex_lock(&p->mu);
  p->finished = true;
  g_cond_broadcast(&p->cond);
  g_mutex_unlock(&p->mu);
  gdb_rtc_peer_unref(p);
}

static void teardown_agent(gdb_rtc_peer *p) {
  if (!p->agent) {
    g_mutex_lock(&p->mu);
    p->finished = true;
    g_cond_broadcast(&p->cond);
    g_mutex_unlock(&p->mu);
    return;
  }
  g_signal_handlers_disconnect_by_data(p->agent, p);
  if (p->stream) nice_agent_attach_recv(p->agent, p->stream, 1, p->ctx, NULL, NULL);
  gdb_rtc_peer_ref(p);
  nice_agent_close_async(p->agent, on_agent_closed, p);
  g_object_unref(p->agent);
  p->agent = NULL;
}

static void remove_source(gdb_rtc_peer *p, guint *id) {
  GSource *s = *id ? g_main_context_find_source_by_id(p->ctx, *id) : NULL;
  if (s) g_source_destroy(s);
  *id = 0;
}

static void finalize(gdb_rtc_peer *p) {
  if (p->finalized) return;
  p->finalized = true;
  remove_source(p, &p->consent_timer);
  remove_source(p, &p->dtls_timer);
  remove_source(p, &p->linger_timer);
  gdb_rtc_sctp_stop(p);
  if (p->dtls) gdb_rtc_dtls_close(p->dtls);
  teardown_agent(p);
}

static gboolean linger_expired(gpointer data) {
  gdb_rtc_peer *p = data;
  p->linger_timer = 0;
  finalize(p);
  return G_SOURCE_REMOVE;
}

/* Our close: report now, then let queued data drain before the SCTP shutdown. */
static void do_close(void *data) {
  gdb_rtc_peer *p = data;
  if (p->muted) return;
  if (!p->ended) {
    p->ended = true;
    gdb_rtc_channels_close_all(p);
    gdb_rtc_peer_emit_state(p, GDB_RTC_CLOSED);
    p->muted = true;
    if (p->sctp_up && !p->finalized) {
      p->draining = true;
      p->linger_timer = gdb_net_loop_timeout(p->loop, p->cfg.close_linger_ms, linger_expired, p);
      gdb_rtc_channels_flush(p); /* shuts SCTP down once the queue is empty */
      gdb_rtc_sctp_drain();
    } else {
      gdb_rtc_peer_schedule_finalize(p);
    }
  }
  p->muted = true;
}

void gdb_rtc_peer_close(gdb_rtc_peer *p) {
  if (!p) return;
  /* Safe inline from a callback too: nothing here tears a transport down under the caller;
   * finalize always runs from a later loop iteration. */
  gdb_net_loop_invoke_sync(p->loop, do_close, p);
}

static void force_finalize(void *data) { finalize(data); }

/* Waits for the transports to be gone: the linger, then a forced teardown if need be. */
static void wait_finished(gdb_rtc_peer *p) {
  int64_t deadline = g_get_monotonic_time() + (int64_t)(p->cfg.close_linger_ms + 1000) * 1000;
  g_mutex_lock(&p->mu);
  while (!p->finished) {
    if (!g_cond_wait_until(&p->cond, &p->mu, deadline)) {
      g_mutex_unlock(&p->mu);
      gdb_net_loop_invoke_sync(p->loop, force_finalize, p);
      g_mutex_lock(&p->mu);
      deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
    }
  }
  g_mutex_unlock(&p->mu);
}

void gdb_rtc_peer_free(gdb_rtc_peer *p) {
  if (!p) return;
  if (gdb_net_loop_is_current(p->loop)) {
    g_critical("gdb_rtc_peer_free called on the network thread (from a callback); "
               "use gdb_rtc_peer_close there and free from another thread");
    return;
  }
  gdb_rtc_peer_close(p);
  wait_finished(p);
  gdb_net_loop *loop = p->loop;
  gdb_rtc_peer_unref(p);
  gdb_net_loop_release(loop);
}

static void do_freeze(void *data) { ((gdb_rtc_peer *)data)->frozen = true; }

void gdb_rtc_peer_test_freeze(gdb_rtc_peer *p) { gdb_net_loop_invoke_sync(p->loop, do_freeze, p); }
