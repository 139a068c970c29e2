/*
 * rtc.h — the insides of a peer connection, shared by peer.c (ICE, DTLS, life cycle),
 * sctp.c (usrsctp glue) and channel.c (data channels, DCEP, send queue). Private to
 * src/net/rtc; tests include it for the one test hook at the bottom.
 *
 * Threads: every field is owned by the network thread except those marked "mu", which other
 * threads read or change under peer->mu (the send queue, buffered amounts, channel states).
 */
#ifndef GDB_RTC_INTERNAL_H
#define GDB_RTC_INTERNAL_H

#include "genosdb.h"

#include "core/buf.h"
#include "net/loop.h"
#include "net/rtc/dtls.h"
#include "net/rtc/sdp.h"

#include <agent.h>
#include <glib.h>
#include <stdatomic.h>

struct socket;

/* The largest SCTP packet we accept, announced as a=x-gdb-max-packet, and used towards a
 * peer that announced it too when both ends of the ICE pair are loopback addresses (the
 * loopback interface has a 64 KiB MTU; a DTLS record carries at most 16 KiB). Everywhere
 * else packets stay at cfg.mtu (1200), which crosses any real path unfragmented. */
#define GDB_RTC_LOOPBACK_MTU 16000

typedef enum ch_state {
  CH_CONNECTING = 0, /* waiting for the SCTP association */
  CH_OPEN = 1,
  CH_CLOSING = 2, /* our outgoing stream reset is pending */
  CH_CLOSED = 3,
} ch_state;

struct gdb_rtc_channel {
  gdb_rtc_peer *peer;
  char *label, *protocol;
  int sid; /* -1 until assigned */
  bool negotiated;
  uint8_t dcep_type; /* channel type of RFC 8832 (reliability and order) */
  uint32_t reliability;
  uint16_t priority;
  bool acked; /* the remote side knows the channel: unordered sends allowed */
  bool open_sent;
  bool reset_sent;          /* we asked to reset our outgoing stream */
  bool reset_out, reset_in; /* stream resets done, each way */
  ch_state state;           /* mu */
  size_t buffered;          /* mu: bytes queued in peer->sendq */
  size_t low_threshold;     /* mu */
  bool above_low;           /* mu */
  gdb_rtc_channel_callbacks cb;
};

typedef struct out_msg {
  gdb_rtc_channel *ch;
  uint32_t ppid;
  size_t len;
  uint8_t data[];
} out_msg;

struct gdb_rtc_peer {
  atomic_int refs;
  gdb_net_loop *loop;
  GMainContext *ctx;
  gdb_rtc_config cfg; /* strings below are our own copies */
  char **bind_addrs;
  gdb_rtc_ice_server *servers;

  GMutex mu;
  GCond cond;
  _Atomic int state; /* gdb_rtc_state */
  bool muted;        /* gdb_rtc_peer_close ran: no more callbacks */
  bool ended;        /* the connection is over (closed, failed or draining) */
  bool draining;     /* closed by us, sending what was queued before the SCTP shutdown */
  bool finalized;    /* transport torn down */
  bool finished;     /* mu: the agent is closed; gdb_rtc_peer_free may proceed */
  char error[200];

  /* ICE */
  NiceAgent *agent;
  guint stream;
  char ufrag[257], pwd[257];
  bool offerer, answerer; /* which description we made */
  bool have_local, have_remote;
  bool ice_connected;
  bool gathering_done;
  GPtrArray *local_cands; /* "candidate:…" */
  char mid[64];
  gdb_sdp remote;
  uint64_t session_id;
  int64_t last_rx_us;
  uint64_t bytes_sent, bytes_received;
  guint consent_timer, dtls_timer, linger_timer;
  GQueue pending_dgrams; /* DTLS datagrams written before ICE had a pair */
  bool frozen;           /* test hook: drop every packet */

  /* DTLS */
  gdb_rtc_cert *cert;
  gdb_rtc_dtls *dtls;
  bool dtls_client;
  bool dtls_started;

  /* SCTP */
  struct socket *sock;
  uintptr_t sctp_id; /* our address in usrsctp's AF_CONN world */
  bool sctp_up;
  bool sctp_queued; /* on the drain list */
  uint16_t mtu;     /* SCTP packet size in use */
  uint16_t n_out_streams;
  uint8_t *rxbuf;
  gdb_buf rx;      /* message being reassembled */
  bool rx_discard; /* the message being reassembled is over the limit */
  uint32_t remote_max_msg;
  size_t send_limit;

  /* channels */
  GPtrArray *channels;  /* every channel, owned */
  GHashTable *by_sid;   /* sid → channel */
  GQueue sendq;         /* mu: out_msg waiting for SCTP buffer space */
  bool flush_scheduled; /* mu */
  bool shutdown_sent;
  bool opening_scheduled;
};

/* peer.c */
void gdb_rtc_peer_ref(gdb_rtc_peer *p);
void gdb_rtc_peer_unref(gdb_rtc_peer *p);
/* The connection is over (remote close, failure): reports state and closes channels. */
void gdb_rtc_peer_end(gdb_rtc_peer *p, gdb_rtc_state state, const char *reason);
void gdb_rtc_peer_emit_state(gdb_rtc_peer *p, gdb_rtc_state s);
/* Tears down SCTP, DTLS and ICE from a fresh loop iteration. */
void gdb_rtc_peer_schedule_finalize(gdb_rtc_peer *p);
/* The SCTP packet size for this connection (see GDB_RTC_LOOPBACK_MTU). */
uint16_t gdb_rtc_peer_path_mtu(gdb_rtc_peer *p);
/* Sends one SCTP packet through DTLS (the usrsctp output path). */
void gdb_rtc_peer_send_sctp(gdb_rtc_peer *p, const void *pkt, size_t len);

/* ice.c */
/* Agent properties (no UPnP, no ICE-TCP, force-relay for relay_only). */
void gdb_rtc_ice_set_properties(gdb_rtc_peer *p);
/* Port range, bind addresses and ICE servers from the config. */
int gdb_rtc_ice_configure(gdb_rtc_peer *p);
/* One remote candidate ("candidate:…" or "a=candidate:…"); NULL or "": end of candidates. */
int gdb_rtc_ice_add_candidate(gdb_rtc_peer *p, const char *cand);
/* Raises the selected socket's kernel buffers. */
void gdb_rtc_ice_enlarge_buffers(gdb_rtc_peer *p);
/* Fills the selected-pair fields of info. */
void gdb_rtc_ice_selected_pair(gdb_rtc_peer *p, gdb_rtc_peer_info *i);

/* sctp.c — usrsctp, once per process, driven from the network thread */
void gdb_rtc_sctp_global_acquire(void);
/* Creates the association of a peer whose DTLS is up and connects it. */
int gdb_rtc_sctp_start(gdb_rtc_peer *p);
/* Aborts (if still up) and forgets the association. */
void gdb_rtc_sctp_stop(gdb_rtc_peer *p);
/* Graceful SHUTDOWN after queued data is delivered. */
void gdb_rtc_sctp_shutdown(gdb_rtc_peer *p);
/* Hands one SCTP packet that came out of DTLS to usrsctp. */
void gdb_rtc_sctp_input(gdb_rtc_peer *p, const uint8_t *pkt, size_t len);
/* The SCTP CRC32c of len bytes, ready to store in the packet's checksum field. */
uint32_t gdb_rtc_crc32c(const void *buf, size_t len);
/* Processes the events usrsctp signalled since the last call, for every peer. */
void gdb_rtc_sctp_drain(void);
/* Sends one message on a stream: 1 sent, 0 no buffer space (retry later), <0 error. */
int gdb_rtc_sctp_send(gdb_rtc_peer *p, gdb_rtc_channel *ch, uint32_t ppid, const void *msg,
                      size_t len);
/* Resets our outgoing stream sid (channel close). */
void gdb_rtc_sctp_reset_stream(gdb_rtc_peer *p, uint16_t sid);

/* channel.c */
/* The association is up: open channels created before it. */
void gdb_rtc_channels_open_pending(gdb_rtc_peer *p);
/* A whole message arrived on stream sid. */
void gdb_rtc_channels_deliver(gdb_rtc_peer *p, uint16_t sid, uint32_t ppid, const uint8_t *msg,
                              size_t len);
/* Streams were reset by the peer (incoming) or by us (outgoing, done). */
void gdb_rtc_channels_stream_reset(gdb_rtc_peer *p, uint16_t sid, bool incoming);
/* Sends what the queue holds while SCTP takes it; fires low-water callbacks. */
void gdb_rtc_channels_flush(gdb_rtc_peer *p);
/* Every channel reports on_close (connection over). */
void gdb_rtc_channels_close_all(gdb_rtc_peer *p);
void gdb_rtc_channels_free_all(gdb_rtc_peer *p);

/* Test hook: the peer silently drops every packet in both directions, as a vanished host. */
void gdb_rtc_peer_test_freeze(gdb_rtc_peer *p);

#endif
