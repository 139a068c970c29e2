/*
 * sctp.c — SCTP associations in user space (usrsctp) carried over DTLS, one per peer
 * connection.
 *
 * usrsctp is initialised once per process without its own threads (usrsctp_init_nothreads):
 * the network thread drives its timers with usrsctp_handle_timers() and makes every other
 * usrsctp call, so usrsctp, DTLS and ICE never run concurrently. Associations use AF_CONN:
 * usrsctp hands each outgoing packet to conn_output(), which encrypts it into a DTLS record;
 * decrypted records come back in through usrsctp_conninput(). The AF_CONN "address" of a
 * peer is a small integer looked up in a table, never a pointer, so a packet usrsctp emits
 * for an association being torn down cannot reach freed memory.
 *
 * Socket events (readable, writable, notifications) are signalled by an upcall that only
 * marks the peer; gdb_rtc_sctp_drain() then processes them after usrsctp has returned, so no
 * usrsctp call is ever made from inside usrsctp.
 *
 * The SCTP checksum is computed here (CRC32c with the SSE4.2 instruction) rather than by
 * usrsctp's table code, and incoming checksums are not verified: every packet arrives inside
 * a DTLS record whose AEAD tag already authenticated each byte. Browsers still get correct
 * checksums.
 *
 * At exit, when no association is left, usrsctp_finish() releases usrsctp's global state.
 */
#include "net/rtc/rtc.h"

#include "core/error.h"
#include "net/rtc/dcep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#define SCTP_LOCAL_PORT 5000
#define RXBUF_SIZE (64 * 1024)
#define TIMER_MS 10
#define STREAMS 1024

static GMutex g_mu; /* guards the globals below against gdb_rtc_sctp_global_acquire */
static bool g_inited;
static int g_assocs; /* live sockets: the timer runs while there are any */
static guint g_timer;
static gdb_net_loop *g_timer_loop;
static int64_t g_timer_last_us;
static GHashTable *g_registry; /* sctp_id → peer (network thread) */
static uintptr_t g_next_id;
static GQueue g_dirty; /* peers with pending socket events (network thread) */

/* CRC32c (Castagnoli), as SCTP uses it: the SSE4.2 instruction where the CPU has it,
 * usrsctp's table code otherwise. Returns the value to store in the packet as it is. */
#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(const uint8_t *p, size_t n) {
  uint64_t crc = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    crc = __builtin_ia32_crc32di(crc, v);
  }
  uint32_t c = (uint32_t)crc;
  for (; n; p++, n--) c = __builtin_ia32_crc32qi(c, *p);
  return ~c;
}
#endif

uint32_t gdb_rtc_crc32c(const void *buf, size_t len) {
#if defined(__x86_64__)
  static int have_sse42 = -1;
  if (have_sse42 < 0) have_sse42 = __builtin_cpu_supports("sse4.2") ? 1 : 0;
  if (have_sse42) return crc32c_sse42(buf, len);
#endif
  return usrsctp_crc32c((void *)buf, len);
}

static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df) {
  (void)tos, (void)set_df;
  gdb_rtc_peer *p = g_registry ? g_hash_table_lookup(g_registry, addr) : NULL;
  if (!p || len < 12) return 0;
  /* Checksum offload: usrsctp leaves the checksum to us (and does not verify incoming ones,
   * which DTLS has already authenticated). buf is usrsctp's scratch copy of the packet. */
  uint8_t *pkt = buf;
  memset(pkt + 8, 0, 4);
  uint32_t crc = gdb_rtc_crc32c(pkt, len);
  memcpy(pkt + 8, &crc, 4);
  gdb_rtc_peer_send_sctp(p, buf, len);
  return 0;
}

static void global_finish(void) {
  g_mutex_lock(&g_mu);
  bool idle = g_inited && g_assocs == 0 && g_timer == 0;
  g_mutex_unlock(&g_mu);
  if (!idle) return;
  /* Closed endpoints linger until usrsctp's timers reap them: advance its clock. */
  for (int i = 0; i < 1000 && usrsctp_finish() != 0; i++) usrsctp_handle_timers(TIMER_MS);
  if (g_registry) g_hash_table_destroy(g_registry);
  g_registry = NULL;
}

void gdb_rtc_sctp_global_acquire(void) {
  g_mutex_lock(&g_mu);
  if (!g_inited) {
    usrsctp_init_nothreads(0, conn_output, NULL);
    usrsctp_enable_crc32c_offload(); /* see conn_output */
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_asconf_enable(0);
    usrsctp_sysctl_set_sctp_auth_enable(0);
    usrsctp_sysctl_set_sctp_rto_min_default(200);
    usrsctp_sysctl_set_sctp_rto_initial_default(1000);
    usrsctp_sysctl_set_sctp_rto_max_default(10000);
    usrsctp_sysctl_set_sctp_init_rto_max_default(10000);
    usrsctp_sysctl_set_sctp_heartbeat_interval_default(1000);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    usrsctp_sysctl_set_sctp_max_chunks_on_queue(64 * 1024);
    usrsctp_sysctl_set_sctp_nr_outgoing_streams_default(STREAMS);
    g_registry = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_inited = true;
    atexit(global_finish);
  }
  g_mutex_unlock(&g_mu);
}

static gboolean timer_cb(gpointer data) {
  (void)data;
  int64_t now = g_get_monotonic_time();
  int64_t ms = (now - g_timer_last_us) / 1000;
  if (ms > 0) {
    usrsctp_handle_timers((uint32_t)ms);
    g_timer_last_us += ms * 1000;
  }
  gdb_rtc_sctp_drain();
  return G_SOURCE_CONTINUE;
}

static void assoc_count(gdb_rtc_peer *p, int delta) {
  g_mutex_lock(&g_mu);
  g_assocs += delta;
  if (g_assocs == 1 && delta > 0 && !g_timer) {
    g_timer_last_us = g_get_monotonic_time();
    g_timer_loop = p->loop;
    g_timer = gdb_net_loop_timeout(p->loop, TIMER_MS, timer_cb, NULL);
  } else if (g_assocs == 0 && g_timer) {
    GSource *src = g_main_context_find_source_by_id(gdb_net_loop_context(p->loop), g_timer);
    if (src) g_source_destroy(src);
    g_timer = 0;
    g_timer_loop = NULL;
  }
  g_mutex_unlock(&g_mu);
}

static void upcall(struct socket *so, void *arg, int flags) {
  (void)so, (void)flags;
  gdb_rtc_peer *p = g_hash_table_lookup(g_registry, arg);
  if (!p || p->sctp_queued) return;
  p->sctp_queued = true;
  gdb_rtc_peer_ref(p);
  g_queue_push_tail(&g_dirty, p);
}

static int setopt(struct socket *s, int level, int name, const void *v, socklen_t n,
                  const char *what) {
  if (usrsctp_setsockopt(s, level, name, v, n) < 0)
    return gdb_fail(GDB_ENET, "rtc: SCTP option %s failed: %s", what, strerror(errno));
  return GDB_OK;
}

int gdb_rtc_sctp_start(gdb_rtc_peer *p) {
  int rc = GDB_OK;
  p->sctp_id = ++g_next_id;
  void *addr = (void *)p->sctp_id;
  g_hash_table_insert(g_registry, addr, p);
  usrsctp_register_address(addr);
  struct socket *s = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (!s) {
    rc = gdb_fail(GDB_ENET, "rtc: usrsctp_socket failed: %s", strerror(errno));
    goto fail;
  }
  p->sock = s;
  assoc_count(p, +1);
  usrsctp_set_non_blocking(s, 1);
  usrsctp_set_upcall(s, upcall, addr);

  struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close = ABORT, nothing lingers */
  int one = 1;
  size_t big = p->cfg.max_message_size * 2u;
  int buf = (int)(big > 2u * 1024 * 1024 ? big : 2u * 1024 * 1024);
  g_mutex_lock(&p->mu);
  p->send_limit = p->remote_max_msg < (uint32_t)buf / 2 ? p->remote_max_msg : (size_t)buf / 2;
  g_mutex_unlock(&p->mu);
  struct sctp_assoc_value reset = {.assoc_id = SCTP_ALL_ASSOC,
                                   .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
  struct sctp_initmsg init = {.sinit_num_ostreams = STREAMS, .sinit_max_instreams = STREAMS};
  struct sctp_paddrparams pp = {0};
  pp.spp_flags = SPP_PMTUD_DISABLE | SPP_HB_ENABLE;
  p->mtu = gdb_rtc_peer_path_mtu(p);
  pp.spp_pathmtu = p->mtu;
  pp.spp_hbinterval = 1000;
  if ((rc = setopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, "SO_LINGER")) ||
      (rc = setopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf, "SO_SNDBUF")) ||
      (rc = setopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf, "SO_RCVBUF")) ||
      (rc = setopt(s, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset,
                   "SCTP_ENABLE_STREAM_RESET")) ||
      (rc = setopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &one, sizeof one, "SCTP_RECVRCVINFO")) ||
      (rc = setopt(s, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one, "SCTP_NODELAY")) ||
      (rc = setopt(s, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG")) ||
      (rc =
           setopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp, "SCTP_PEER_ADDR_PARAMS")))
    goto fail;
  static const uint16_t events[] = {SCTP_ASSOC_CHANGE,        SCTP_REMOTE_ERROR,
                                    SCTP_SHUTDOWN_EVENT,      SCTP_STREAM_RESET_EVENT,
                                    SCTP_STREAM_CHANGE_EVENT, SCTP_SENDER_DRY_EVENT};
  for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
    struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i], .se_on = 1};
    if ((rc = setopt(s, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev, "SCTP_EVENT"))) goto fail;
  }
  struct sockaddr_conn local = {
      .sconn_family = AF_CONN, .sconn_port = htons(SCTP_LOCAL_PORT), .sconn_addr = addr};
  if (usrsctp_bind(s, (struct sockaddr *)&local, sizeof local) < 0) {
    rc = gdb_fail(GDB_ENET, "rtc: SCTP bind failed: %s", strerror(errno));
    goto fail;
  }
  struct sockaddr_conn remote = local;
  remote.sconn_port = htons(p->remote.sctp_port);
  if (usrsctp_connect(s, (struct sockaddr *)&remote, sizeof remote) < 0 && errno != EINPROGRESS) {
    rc = gdb_fail(GDB_ENET, "rtc: SCTP connect failed: %s", strerror(errno));
    goto fail;
  }
  return GDB_OK;
fail:
  gdb_rtc_sctp_stop(p);
  return rc;
}

void gdb_rtc_sctp_stop(gdb_rtc_peer *p) {
  if (!p->sctp_id) return;
  void *addr = (void *)p->sctp_id;
  if (p->sock) {
    usrsctp_set_upcall(p->sock, NULL, NULL);
    usrsctp_close(p->sock); /* SO_LINGER 0: ABORT if still associated */
    p->sock = NULL;
    assoc_count(p, -1);
  }
  usrsctp_deregister_address(addr);
  g_hash_table_remove(g_registry, addr);
  p->sctp_id = 0;
  p->sctp_up = false;
}

void gdb_rtc_sctp_shutdown(gdb_rtc_peer *p) {
  if (p->sock && p->sctp_up) usrsctp_shutdown(p->sock, SHUT_WR);
}

void gdb_rtc_sctp_input(gdb_rtc_peer *p, const uint8_t *pkt, size_t len) {
  if (p->sctp_id) usrsctp_conninput((void *)p->sctp_id, pkt, len, 0);
}

int gdb_rtc_sctp_send(gdb_rtc_peer *p, gdb_rtc_channel *ch, uint32_t ppid, const void *msg,
                      size_t len) {
  if (!p->sock || !p->sctp_up || ch->sid < 0) return -1;
  struct sctp_sendv_spa spa = {0};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = (uint16_t)ch->sid;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  bool dcep = ppid == GDB_PPID_DCEP;
  /* DCEP messages, and everything before the peer acknowledged the channel, go ordered and
   * reliably (RFC 8832 §6). */
  if (!dcep && ch->acked) {
    if (ch->dcep_type & 0x80) spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
    uint8_t base = ch->dcep_type & 0x7f;
    if (base == 0x01) {
      spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
      spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
      spa.sendv_prinfo.pr_value = ch->reliability;
    } else if (base == 0x02) {
      spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
      spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
      spa.sendv_prinfo.pr_value = ch->reliability;
    }
  }
  static const uint8_t zero = 0;
  if (len == 0) msg = &zero, len = 1; /* empty messages carry one byte (RFC 8831 §6.6) */
  ssize_t n =
      usrsctp_sendv(p->sock, msg, len, NULL, 0, &spa, (socklen_t)sizeof spa, SCTP_SENDV_SPA, 0);
  if (n >= 0) return 1;
  if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) return 0;
  return -errno;
}

void gdb_rtc_sctp_reset_stream(gdb_rtc_peer *p, uint16_t sid) {
  if (!p->sock || !p->sctp_up) return;
  size_t n = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
  struct sctp_reset_streams *r = calloc(1, n);
  if (!r) return;
  r->srs_assoc_id = SCTP_ALL_ASSOC;
  r->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  r->srs_number_streams = 1;
  r->srs_stream_list[0] = sid;
  usrsctp_setsockopt(p->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, r, (socklen_t)n);
  free(r);
}

static void on_notification(gdb_rtc_peer *p, const union sctp_notification *n, size_t len) {
  if (len < sizeof n->sn_header) return;
  switch (n->sn_header.sn_type) {
  case SCTP_ASSOC_CHANGE: {
    const struct sctp_assoc_change *ac = &n->sn_assoc_change;
    if (ac->sac_state == SCTP_COMM_UP) {
      struct sctp_status st;
      socklen_t sl = sizeof st;
      memset(&st, 0, sizeof st);
      p->n_out_streams = STREAMS;
      if (usrsctp_getsockopt(p->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0)
        p->n_out_streams = st.sstat_outstrms;
      p->sctp_up = true;
      if (!p->ended) {
        gdb_rtc_peer_emit_state(p, GDB_RTC_CONNECTED);
        gdb_rtc_channels_open_pending(p);
      }
    } else if (ac->sac_state == SCTP_COMM_LOST || ac->sac_state == SCTP_SHUTDOWN_COMP ||
               ac->sac_state == SCTP_CANT_STR_ASSOC) {
      p->sctp_up = false;
      if (p->draining)
        gdb_rtc_peer_schedule_finalize(p);
      else
        gdb_rtc_peer_end(p, ac->sac_state == SCTP_CANT_STR_ASSOC ? GDB_RTC_FAILED : GDB_RTC_CLOSED,
                         ac->sac_state == SCTP_SHUTDOWN_COMP ? "the peer shut the association down"
                         : ac->sac_state == SCTP_COMM_LOST   ? "the SCTP association was lost"
                                                             : "SCTP could not start");
    }
    break;
  }
  case SCTP_STREAM_RESET_EVENT: {
    const struct sctp_stream_reset_event *e = &n->sn_strreset_event;
    if (e->strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) break;
    size_t count = (e->strreset_length - sizeof *e) / sizeof(uint16_t);
    for (size_t i = 0; i < count; i++) {
      if (e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)
        gdb_rtc_channels_stream_reset(p, e->strreset_stream_list[i], true);
      if (e->strreset_flags & SCTP_STREAM_RESET_OUTGOING_SSN)
        gdb_rtc_channels_stream_reset(p, e->strreset_stream_list[i], false);
    }
    break;
  }
  case SCTP_SENDER_DRY_EVENT: break;
  default: break;
  }
}

static void deliver(gdb_rtc_peer *p, const struct sctp_rcvinfo *info) {
  if (p->rx_discard) {
    p->rx_discard = false;
    g_debug("rtc: dropped a message over max-message-size on stream %u", info->rcv_sid);
  } else {
    gdb_rtc_channels_deliver(p, info->rcv_sid, ntohl(info->rcv_ppid), p->rx.data, p->rx.len);
  }
  p->rx.len = 0;
}

static void process(gdb_rtc_peer *p) {
  for (int budget = 0; p->sock && !p->finalized && budget < 4096; budget++) {
    struct sctp_rcvinfo info;
    memset(&info, 0, sizeof info);
    socklen_t infolen = sizeof info;
    unsigned int infotype = 0;
    int flags = 0;
    struct sockaddr_conn from;
    socklen_t fromlen = sizeof from;
    ssize_t n = usrsctp_recvv(p->sock, p->rxbuf, RXBUF_SIZE, (struct sockaddr *)&from, &fromlen,
                              &info, &infolen, &infotype, &flags);
    if (n <= 0) break;
    if (flags & MSG_NOTIFICATION) {
      on_notification(p, (const union sctp_notification *)p->rxbuf, (size_t)n);
      continue;
    }
    if (!p->rx_discard) {
      if (p->rx.len + (size_t)n > p->cfg.max_message_size + 1u) {
        p->rx_discard = true; /* (+1: an empty message is one byte on the wire) */
        p->rx.len = 0;
      } else {
        gdb_buf_put(&p->rx, p->rxbuf, (size_t)n);
      }
    }
    if (flags & MSG_EOR) deliver(p, &info);
  }
  if (p->sock && !p->finalized) gdb_rtc_channels_flush(p);
}

void gdb_rtc_sctp_drain(void) {
  static bool draining; /* a callback run from here may call us again: the outer loop wins */
  if (draining) return;
  draining = true;
  gdb_rtc_peer *p;
  while ((p = g_queue_pop_head(&g_dirty))) {
    p->sctp_queued = false;
    if (p->rxbuf || (p->rxbuf = malloc(RXBUF_SIZE))) process(p);
    gdb_rtc_peer_unref(p);
  }
  draining = false;
}
