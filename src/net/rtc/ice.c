/*
 * ice.c — the libnice side of a peer connection: agent properties, bind addresses, STUN and
 * TURN servers from browser-style URLs, remote candidates, the selected pair (candidate
 * types, loopback detection for the packet size) and its socket buffers. The agent's signal
 * handlers live in peer.c, where the connection's state machine is. Network thread only.
 */
#include "net/rtc/rtc.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void gdb_rtc_ice_set_properties(gdb_rtc_peer *p) {
  GObjectClass *k = G_OBJECT_GET_CLASS(p->agent);
  if (g_object_class_find_property(k, "upnp")) g_object_set(p->agent, "upnp", FALSE, NULL);
  g_object_set(p->agent, "ice-tcp", FALSE, NULL);
  if (p->cfg.relay_only) g_object_set(p->agent, "force-relay", TRUE, NULL);
}

/* Resolves host to a numeric address (NULL if it cannot). Caller frees. */
static char *resolve(const char *host) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return NULL;
  char buf[INET6_ADDRSTRLEN] = "";
  getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof buf, NULL, 0, NI_NUMERICHOST);
  freeaddrinfo(res);
  return buf[0] ? g_strdup(buf) : NULL;
}

/* One "stun:", "turn:" or "turns:" URL onto the agent. */
static int add_ice_url(gdb_rtc_peer *p, const char *url, const gdb_rtc_ice_server *s) {
  bool stun = g_str_has_prefix(url, "stun:"), turn = g_str_has_prefix(url, "turn:"),
       turns = g_str_has_prefix(url, "turns:");
  if (!stun && !turn && !turns)
    return gdb_fail(GDB_EINVAL,
                    "rtc: ICE server URL \"%s\" must start with stun:, turn: or turns:", url);
  const char *rest = strchr(url, ':') + 1;
  NiceRelayType relay = turns ? NICE_RELAY_TYPE_TURN_TLS : NICE_RELAY_TYPE_TURN_UDP;
  char *hostport = g_strdup(rest), *q = strchr(hostport, '?');
  if (q) {
    if (strstr(q, "transport=tcp") && !turns) relay = NICE_RELAY_TYPE_TURN_TCP;
    *q = 0;
  }
  unsigned port = turns ? 5349 : 3478;
  char *host = hostport, *colon = strrchr(hostport, ':');
  if (host[0] == '[') {
    char *close = strchr(host, ']');
    if (!close) goto bad;
    *close = 0;
    colon = close[1] == ':' ? close + 1 : NULL;
    host++;
  } else if (colon && strchr(hostport, ':') != colon) {
    colon = NULL; /* a bare IPv6 address */
  }
  if (colon) {
    char *end;
    *colon = 0;
    unsigned long v = strtoul(colon + 1, &end, 10);
    if (*end || v == 0 || v > 65535) goto bad;
    port = (unsigned)v;
  }
  char *ip = resolve(host);
  if (!ip) {
    g_free(hostport);
    return gdb_fail(GDB_ENET, "rtc: cannot resolve the ICE server host in \"%s\"", url);
  }
  if (stun) {
    g_object_set(p->agent, "stun-server", ip, "stun-server-port", port, NULL);
  } else if (!s->username || !s->credential) {
    g_free(ip);
    g_free(hostport);
    return gdb_fail(GDB_EINVAL, "rtc: TURN server \"%s\" needs a username and a credential", url);
  } else {
    nice_agent_set_relay_info(p->agent, p->stream, 1, ip, port, s->username, s->credential, relay);
  }
  g_free(ip);
  g_free(hostport);
  return GDB_OK;
bad:
  g_free(hostport);
  return gdb_fail(GDB_EINVAL, "rtc: malformed ICE server URL \"%s\"", url);
}

int gdb_rtc_ice_configure(gdb_rtc_peer *p) {
  if (p->cfg.port_min || p->cfg.port_max)
    nice_agent_set_port_range(p->agent, p->stream, 1, p->cfg.port_min, p->cfg.port_max);
  for (size_t i = 0; i < p->cfg.bind_address_count; i++) {
    NiceAddress a;
    nice_address_init(&a);
    if (!nice_address_set_from_string(&a, p->bind_addrs[i])) {
      return gdb_fail(GDB_EINVAL, "rtc: bind address \"%s\" is not an IP address",
                      p->bind_addrs[i]);
    }
    nice_agent_add_local_address(p->agent, &a);
  }
  for (size_t i = 0; i < p->cfg.ice_server_count; i++) {
    const gdb_rtc_ice_server *s = &p->servers[i];
    gchar **urls = g_strsplit_set(s->urls ? s->urls : "", " ,", -1);
    for (gchar **u = urls; *u; u++) {
      if (!**u) continue;
      int rc = add_ice_url(p, *u, s);
      if (rc) {
        g_strfreev(urls);
        return rc;
      }
    }
    g_strfreev(urls);
  }
  return GDB_OK;
}

int gdb_rtc_ice_add_candidate(gdb_rtc_peer *p, const char *cand) {
  if (!cand || !*cand) {
    nice_agent_peer_candidate_gathering_done(p->agent, p->stream);
    return GDB_OK;
  }
  if (g_str_has_prefix(cand, "a=")) cand += 2;
  if (!g_str_has_prefix(cand, "candidate:"))
    return gdb_fail(GDB_EINVAL, "rtc: a candidate must start with \"candidate:\"");
  /* mDNS (.local) candidates cannot be resolved here; skip them quietly like TCP ones. */
  gchar *line = g_strconcat("a=", cand, NULL);
  NiceCandidate *nc = nice_agent_parse_remote_candidate_sdp(p->agent, p->stream, line);
  g_free(line);
  if (!nc) return gdb_fail(GDB_EINVAL, "rtc: cannot parse candidate \"%.80s\"", cand);
  if (nc->transport != NICE_CANDIDATE_TRANSPORT_UDP) {
    nice_candidate_free(nc);
    return GDB_OK;
  }
  GSList *l = g_slist_append(NULL, nc);
  nice_agent_set_remote_candidates(p->agent, p->stream, 1, l);
  g_slist_free(l);
  nice_candidate_free(nc);
  return GDB_OK;
}

static bool is_loopback(const NiceAddress *a) {
  struct sockaddr_storage ss;
  nice_address_copy_to_sockaddr(a, (struct sockaddr *)&ss);
  if (ss.ss_family == AF_INET)
    return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
  if (ss.ss_family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
  return false;
}

uint16_t gdb_rtc_peer_path_mtu(gdb_rtc_peer *p) {
  uint16_t mtu = p->cfg.mtu;
  NiceCandidate *l = NULL, *r = NULL;
  if (p->remote.max_packet > mtu && p->agent &&
      nice_agent_get_selected_pair(p->agent, p->stream, 1, &l, &r) &&
      l->type == NICE_CANDIDATE_TYPE_HOST && is_loopback(&l->addr) && is_loopback(&r->addr)) {
    uint32_t big =
        p->remote.max_packet < GDB_RTC_LOOPBACK_MTU ? p->remote.max_packet : GDB_RTC_LOOPBACK_MTU;
    mtu = (uint16_t)big;
    if (p->dtls) gdb_rtc_dtls_set_mtu(p->dtls, mtu);
  }
  return mtu;
}

/* The selected pair's UDP socket gets large kernel buffers: at full speed the default
 * (~200 KiB) overflows, the kernel drops datagrams and SCTP halves its window. The kernel caps
 * the request at net.core.rmem_max / wmem_max. */
void gdb_rtc_ice_enlarge_buffers(gdb_rtc_peer *p) {
  GSocket *s = nice_agent_get_selected_socket(p->agent, p->stream, 1);
  if (!s) return;
  int fd = g_socket_get_fd(s), size = 4 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) ||
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size))
    g_debug("rtc: could not enlarge socket buffers: %s", g_strerror(errno));
  g_object_unref(s);
}

static const char *cand_type(NiceCandidateType t) {
  switch (t) {
  case NICE_CANDIDATE_TYPE_HOST: return "host";
  case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: return "srflx";
  case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return "prflx";
  case NICE_CANDIDATE_TYPE_RELAYED: return "relay";
  default: return "";
  }
}

static void addr_str(const NiceAddress *a, char *out, size_t cap) {
  char ip[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(a, ip);
  if (nice_address_ip_version(a) == 6)
    snprintf(out, cap, "[%s]:%u", ip, nice_address_get_port(a));
  else
    snprintf(out, cap, "%s:%u", ip, nice_address_get_port(a));
}

void gdb_rtc_ice_selected_pair(gdb_rtc_peer *p, gdb_rtc_peer_info *i) {
  NiceCandidate *l = NULL, *r = NULL;
  if (p->agent && nice_agent_get_selected_pair(p->agent, p->stream, 1, &l, &r)) {
    snprintf(i->local_candidate_type, sizeof i->local_candidate_type, "%s", cand_type(l->type));
    snprintf(i->remote_candidate_type, sizeof i->remote_candidate_type, "%s", cand_type(r->type));
    addr_str(&l->addr, i->local_address, sizeof i->local_address);
    addr_str(&r->addr, i->remote_address, sizeof i->remote_address);
  }
}
