/*
 * bench_relay.c — `genosdb bench relay`: the embedded relay verifying and fanning out events.
 * The relay runs in this process (network thread + verification workers); one publisher and
 * --subs subscribers are plain loopback sockets driven by the main thread (a hand-rolled
 * WebSocket client that reads with large buffers and parses only the frame headers and the
 * event's index, so the client side costs as little as possible). Events are signed before
 * the clock starts; each carries its index as content so a subscriber can match it to its
 * send time. Prints one JSON object: throughput (events verified and delivered per second),
 * the delivery latency distribution from publish to receipt at each subscriber, and how the
 * CPU time of the run split between the relay's threads and the clients (per-thread
 * /proc/self/task/<tid>/schedstat), with the load average at the start.
 *
 *   genosdb bench relay [--subs 100] [--events 20000] [--rate 0] [--window 512] [--threads T]
 *   --rate R paces publishing at R events/s (0: as fast as the window allows); --window bounds
 *   events published but not yet acknowledged with OK; --threads sets the relay's verification
 *   threads (default: the relay's, one per core; 0 verifies on the network thread).
 */
#include "bench.h"

#include "cli/cli.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct wconn {
  int fd;
  uint8_t *buf;
  size_t len, cap;
} wconn;

static int ws_open(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) goto fail;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char req[256];
  int n = snprintf(req, sizeof req,
                   "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: "
                   "Upgrade\r\nSec-WebSocket-Key: YmVuY2htYXJrYmVuY2htYQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n");
  if (write(fd, req, (size_t)n) != n) goto fail;
  char resp[1024];
  size_t len = 0;
  while (len < sizeof resp - 1) { /* byte by byte up to the blank line: it is short */
    if (read(fd, resp + len, 1) != 1) goto fail;
    len++;
    if (len >= 4 && !memcmp(resp + len - 4, "\r\n\r\n", 4)) break;
  }
  resp[len] = 0;
  if (!strstr(resp, " 101 ")) goto fail;
  return fd;
fail:
  if (fd >= 0) close(fd);
  return -1;
}

/* Appends one masked text frame to out (a client must mask). */
static size_t ws_frame(uint8_t *out, const char *p, size_t n) {
  size_t o = 0;
  out[o++] = 0x81;
  if (n < 126) {
    out[o++] = (uint8_t)(0x80 | n);
  } else if (n <= 0xffff) {
    out[o++] = 0x80 | 126;
    out[o++] = (uint8_t)(n >> 8);
    out[o++] = (uint8_t)n;
  } else {
    out[o++] = 0x80 | 127;
    for (int i = 0; i < 8; i++) out[o++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
  }
  static const uint8_t mask[4] = {1, 2, 3, 4};
  memcpy(out + o, mask, 4);
  o += 4;
  for (size_t i = 0; i < n; i++) out[o + i] = (uint8_t)p[i] ^ mask[i & 3];
  return o + n;
}

static bool send_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      poll(&pfd, 1, 100);
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Reads what is available; calls on_msg for each complete text frame, with the time the read
 * returned (one clock read per read, not per message). false on close. */
typedef void (*msg_fn)(const char *s, size_t n, uint64_t now_ns, void *data);
static bool ws_pump(wconn *c, msg_fn fn, void *data) {
  for (;;) {
    if (c->cap - c->len < 65536) {
      c->cap = c->cap ? c->cap * 2 : 262144;
      c->buf = realloc(c->buf, c->cap);
      if (!c->buf) return false;
    }
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (r <= 0) return false;
    c->len += (size_t)r;
    if ((size_t)r < 65536) break;
  }
  uint64_t now = bench_now_ns();
  size_t off = 0;
  while (c->len - off >= 2) {
    const uint8_t *h = c->buf + off;
    uint64_t n = h[1] & 0x7f;
    size_t hl = 2;
    if (n == 126) {
      if (c->len - off < 4) break;
      n = (uint64_t)h[2] << 8 | h[3];
      hl = 4;
    } else if (n == 127) {
      if (c->len - off < 10) break;
      n = 0;
      for (int i = 0; i < 8; i++) n = n << 8 | h[2 + i];
      hl = 10;
    }
    if (c->len - off < hl + n) break;
    if ((h[0] & 0x0f) == 0x1) fn((const char *)h + hl, (size_t)n, now, data);
    off += hl + (size_t)n;
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
  return true;
}

typedef struct run {
  uint64_t *sent_ns;
  uint32_t *lat_us; /* one per delivery */
  size_t n_lat, cap_lat, n_events;
  size_t oks, eoses;
} run;

/* CPU time per thread of this process, grouped by the thread's role (its name). */
enum { CPU_CLIENTS, CPU_LOOP, CPU_VERIFY, CPU_OTHER, CPU_GROUPS };
typedef struct cpu_sample {
  uint64_t ns[CPU_GROUPS];
} cpu_sample;

static void cpu_read(cpu_sample *out) {
  memset(out, 0, sizeof *out);
  DIR *d = opendir("/proc/self/task");
  if (!d) return;
  struct dirent *e;
  pid_t self = getpid();
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], comm[64] = "";
    unsigned long long ns = 0;
    snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    if (fscanf(f, "%llu", &ns) != 1) ns = 0;
    fclose(f);
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    if ((f = fopen(path, "r"))) {
      if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
      fclose(f);
    }
    int g = atol(e->d_name) == self            ? CPU_CLIENTS
            : !strncmp(comm, "gdb-net", 7)     ? CPU_LOOP
            : !strncmp(comm, "gdb-verify", 10) ? CPU_VERIFY
                                               : CPU_OTHER;
    out->ns[g] += ns;
  }
  closedir(d);
}

/* The whole machine's busy and stolen CPU time (/proc/stat, all processes), in seconds: with
 * this process's own time it tells how much else ran during the benchmark. */
static void machine_read(double *busy, double *steal) {
  unsigned long long v[8] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) != 8)
    memset(v, 0, sizeof v);
  if (f) fclose(f);
  double hz = (double)sysconf(_SC_CLK_TCK);
  *busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz; /* user nice system irq softirq */
  *steal = (double)v[7] / hz;
}

/* The event's index, its content. The relay writes events as {...,"content":"<i>","sig":"<128
 * hex>"}: the digits end 140 bytes before the end of ["EVENT",sub,{...}], so they are read from
 * there without scanning the message; anything else falls back to a search. */
static long content_index(const char *s, size_t n) {
  static const char TAIL[] = "\",\"sig\":\"";
  if (n > 160 && !memcmp(s + n - 140, TAIL, 9) && !memcmp(s + n - 3, "\"}]", 3)) {
    size_t e = n - 140, b = e;
    while (b > 0 && s[b - 1] >= '0' && s[b - 1] <= '9') b--;
    if (b < e && s[b - 1] == '"') return strtol(s + b, NULL, 10);
  }
  const char *p = memmem(s, n, "\"content\":\"", 11);
  return p ? strtol(p + 11, NULL, 10) : -1;
}

static void on_sub_msg(const char *s, size_t n, uint64_t now, void *data) {
  run *r = data;
  if (n > 9 && !memcmp(s, "[\"EVENT\",", 9)) {
    long i = content_index(s, n);
    if (i >= 0 && (size_t)i < r->n_events && r->n_lat < r->cap_lat)
      r->lat_us[r->n_lat++] = (uint32_t)((now - r->sent_ns[i]) / 1000);
  } else if (n > 7 && !memcmp(s, "[\"EOSE\"", 7)) {
    r->eoses++;
  }
}

static void on_pub_msg(const char *s, size_t n, uint64_t now, void *data) {
  (void)now;
  run *r = data;
  if (n > 5 && !memcmp(s, "[\"OK\"", 5)) r->oks++;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

int bench_relay(int argc, char **argv) {
  unsigned long subs = 100, events = 20000, rate = 0, window = 512, threads = 1000;
  for (int i = 1; i < argc; i++) {
    unsigned long *dst = !strcmp(argv[i], "--subs")      ? &subs
                         : !strcmp(argv[i], "--events")  ? &events
                         : !strcmp(argv[i], "--rate")    ? &rate
                         : !strcmp(argv[i], "--window")  ? &window
                         : !strcmp(argv[i], "--threads") ? &threads
                                                         : NULL;
    char *end;
    if (!dst || i + 1 >= argc || (*dst = strtoul(argv[++i], &end, 10), *end))
      return cli_usage(
          "bench relay: options are --subs N --events N --rate R --window W --threads T");
  }
  if (!subs || !events || subs > 1000 || events > 10000000 || !window)
    return cli_usage("bench relay: --subs 1..1000, --events 1..10000000, --window >= 1");
  /* signed before the clock starts: the benchmark is the relay, not the signer */
  char **frames = calloc(events, sizeof *frames);
  size_t *frame_len = calloc(events, sizeof *frame_len);
  run r = {
      .sent_ns = calloc(events, sizeof(uint64_t)), .cap_lat = events * subs, .n_events = events};
  r.lat_us = malloc(r.cap_lat * sizeof *r.lat_us);
  wconn *sc = calloc(subs, sizeof *sc);
  if (!frames || !frame_len || !r.sent_ns || !r.lat_us || !sc)
    return cli_fail(GDB_ENOMEM, "bench relay");
  uint8_t keys[8][32];
  for (int k = 0; k < 8; k++) gdb_nostr_key_generate(keys[k]);
  for (unsigned long i = 0; i < events; i++) {
    char content[32];
    snprintf(content, sizeof content, "%lu", i);
    gdb_nostr_event *ev;
    int rc = gdb_nostr_event_sign(keys[i % 8], 0, 20000, "[[\"x\",\"bench\"]]", content, &ev);
    if (rc) return cli_fail(rc, "bench relay");
    size_t n = strlen(gdb_nostr_event_json(ev)) + 16;
    char *msg = malloc(n);
    n = (size_t)snprintf(msg, n, "[\"EVENT\",%s]", gdb_nostr_event_json(ev));
    frames[i] = malloc(n + 14);
    frame_len[i] = ws_frame((uint8_t *)frames[i], msg, n);
    free(msg);
    gdb_nostr_event_release(ev);
  }
  /* what each event costs a verifying thread, on one thread: parsing the event's JSON, and
   * verifying it (the id, then the BIP-340 signature) */
  double verify_us = 0, parse_us = 0;
  {
    gdb_nostr_event *ev, *copy;
    if (gdb_nostr_event_sign(keys[0], 0, 20000, "[[\"x\",\"bench\"]]", "0", &ev) == GDB_OK) {
      const char *json = gdb_nostr_event_json(ev);
      size_t len = strlen(json);
      uint64_t v0 = bench_now_ns();
      for (int i = 0; i < 500; i++) (void)gdb_nostr_event_verify(ev);
      verify_us = (double)(bench_now_ns() - v0) / 500 / 1000.0;
      v0 = bench_now_ns();
      for (int i = 0; i < 500; i++)
        if (gdb_nostr_event_parse(json, len, &copy) == GDB_OK) gdb_nostr_event_release(copy);
      parse_us = (double)(bench_now_ns() - v0) / 500 / 1000.0;
      gdb_nostr_event_release(ev);
    }
  }
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  o.port = 0;
  o.events_per_sec = 0;
  o.max_subs = 4;
  o.max_out_bytes = 256u << 20;
  if (threads != 1000) o.verify_threads = (uint32_t)(threads > 64 ? 64 : threads);
  gdb_nostr_relay *relay;
  int rc = gdb_nostr_relay_start(&o, &relay);
  if (rc) return cli_fail(rc, "bench relay");
  uint16_t port = gdb_nostr_relay_port(relay);
  const char *req = "[\"REQ\",\"b\",{\"kinds\":[20000],\"#x\":[\"bench\"]}]";
  uint8_t reqf[128];
  size_t reqn = ws_frame(reqf, req, strlen(req));
  for (unsigned long s = 0; s < subs; s++) {
    sc[s].fd = ws_open(port);
    if (sc[s].fd < 0 || !send_all(sc[s].fd, reqf, reqn)) {
      gdb_nostr_relay_stop(relay);
      return cli_fail(GDB_ENET, "bench relay: subscriber connection");
    }
  }
  wconn pub = {.fd = ws_open(port)};
  if (pub.fd < 0) {
    gdb_nostr_relay_stop(relay);
    return cli_fail(GDB_ENET, "bench relay: publisher connection");
  }
  struct pollfd *pfd = calloc(subs + 1, sizeof *pfd);
  for (unsigned long s = 0; s < subs; s++) pfd[s] = (struct pollfd){sc[s].fd, POLLIN, 0};
  pfd[subs] = (struct pollfd){pub.fd, POLLIN, 0};
  uint64_t deadline = bench_now_ns() + 10ull * 1000000000ull;
  while (r.eoses < subs && bench_now_ns() < deadline) {
    poll(pfd, subs, 100);
    for (unsigned long s = 0; s < subs; s++)
      if (pfd[s].revents) ws_pump(&sc[s], on_sub_msg, &r);
  }
  /* epoll, not poll: a wake-up then costs what is ready, not a pass over every socket */
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event *evs = calloc(subs + 1, sizeof *evs);
  for (unsigned long s = 0; ep >= 0 && s <= subs; s++) {
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)s};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s < subs ? sc[s].fd : pub.fd, &e)) {
      close(ep);
      ep = -1;
    }
  }
  if (ep < 0 || !evs) {
    gdb_nostr_relay_stop(relay);
    return cli_fail(GDB_ENET, "bench relay: epoll");
  }
  size_t want = events * subs, next = 0;
  size_t batch_cap = 64 * 1024, batch_len;
  uint8_t *batch = malloc(batch_cap);
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 1) load[0] = -1;
  cpu_sample cpu0, cpu1;
  cpu_read(&cpu0);
  double busy0, steal0, busy1, steal1;
  machine_read(&busy0, &steal0);
  uint64_t t0 = bench_now_ns();
  deadline = t0 + 120ull * 1000000000ull;
  bool ok = r.eoses == subs;
  while (ok && r.n_lat < want && bench_now_ns() < deadline) {
    /* publish what the pace and the window allow */
    uint64_t now = bench_now_ns();
    batch_len = 0; /* every frame due now in one write */
    while (batch && next < events && next - r.oks < window &&
           (!rate || now - t0 >= (uint64_t)next * 1000000000ull / rate) &&
           batch_len + frame_len[next] <= batch_cap) {
      memcpy(batch + batch_len, frames[next], frame_len[next]);
      batch_len += frame_len[next];
      r.sent_ns[next++] = now;
    }
    if (batch_len && !send_all(pub.fd, batch, batch_len)) ok = false;
    /* wait for input until the next paced send at most (not a busy loop: the relay needs the
     * cores) */
    uint64_t wait_ns = 5000000;
    if (rate && next < events && next - r.oks < window) {
      uint64_t due = t0 + (uint64_t)next * 1000000000ull / rate, t = bench_now_ns();
      wait_ns = due > t ? due - t : 0;
    }
    struct timespec ts = {(time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull)};
    int n = epoll_pwait2(ep, evs, (int)subs + 1, &ts, NULL);
    if (n < 0 && errno != EINTR) break;
    for (int k = 0; k < n; k++) {
      uint32_t s = evs[k].data.u32;
      if (s < subs ? !ws_pump(&sc[s], on_sub_msg, &r) : !ws_pump(&pub, on_pub_msg, &r)) ok = false;
    }
  }
  double secs = (double)(bench_now_ns() - t0) / 1e9;
  cpu_read(&cpu1);
  machine_read(&busy1, &steal1);
  double cpu[CPU_GROUPS];
  double ours = 0;
  for (int g = 0; g < CPU_GROUPS; g++) ours += cpu[g] = (double)(cpu1.ns[g] - cpu0.ns[g]) / 1e9;
  double others = busy1 - busy0 - ours;
  gdb_nostr_relay_stats st;
  gdb_nostr_relay_get_stats(relay, &st);
  qsort(r.lat_us, r.n_lat, sizeof *r.lat_us, cmp_u32);
#define PCT(p) (r.n_lat ? r.lat_us[(size_t)((double)(r.n_lat - 1) * (p))] / 1000.0 : 0.0)
  printf(
      "{\"suite\":\"relay\",\"subs\":%lu,\"events\":%lu,\"rate\":%lu,\"window\":%lu,"
      "\"threads\":%u,"
      "\"complete\":%s,\"seconds\":%.3f,\"events_per_sec\":%.0f,\"deliveries_per_sec\":%.0f,"
      "\"delivered\":%zu,\"verified\":%llu,\"dropped\":%llu,"
      "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"rss_mb\":%.1f,"
      "\"verify_us\":%.1f,\"parse_us\":%.1f,\"cpu_s\":{\"relay_loop\":%.2f,\"relay_verify\":%.2f,"
      "\"clients\":%.2f,\"other\":%.2f},\"loadavg\":%.2f,"
      "\"machine_s\":{\"other_processes\":%.2f,\"steal\":%.2f}}\n",
      subs, events, rate, window, o.verify_threads, r.n_lat == want ? "true" : "false", secs,
      (double)r.oks / secs, (double)r.n_lat / secs, r.n_lat, (unsigned long long)st.events,
      (unsigned long long)st.dropped, PCT(0.5), PCT(0.9), PCT(0.99), PCT(1.0),
      (double)bench_rss_bytes() / 1048576.0, verify_us, parse_us, cpu[CPU_LOOP], cpu[CPU_VERIFY],
      cpu[CPU_CLIENTS], cpu[CPU_OTHER], load[0], others > 0 ? others : 0.0, steal1 - steal0);
  for (unsigned long s = 0; s < subs; s++) {
    close(sc[s].fd);
    free(sc[s].buf);
  }
  close(pub.fd);
  free(pub.buf);
  gdb_nostr_relay_stop(relay);
  for (unsigned long i = 0; i < events; i++) free(frames[i]);
  free(frames);
  free(frame_len);
  free(r.sent_ns);
  free(r.lat_us);
  free(sc);
  free(pfd);
  free(evs);
  close(ep);
  free(batch);
  return r.n_lat == want ? CLI_OK : CLI_FAIL;
}
