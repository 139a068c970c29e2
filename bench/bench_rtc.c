/*
 * bench_rtc.c — `genosdb bench rtc`: two C peers on 127.0.0.1, reported as one JSON object:
 *   connect_ms       median time from creating both peers to an open channel on each side
 *   throughput_mb_s  one reliable ordered channel, 64 KiB messages, sender to receiver
 *   msgs_s           small messages (64 B) per second over one reliable ordered channel
 *
 * By default the peers run in two processes (this one and a forked child, each with its own
 * network thread), exchanging descriptions over pipes, as two applications would. --inproc
 * puts both in this process, sharing one network thread. --bind IP uses another address than
 * 127.0.0.1 (then packets stay at 1200 bytes, as on any real path).
 *
 * The sender feeds the channel from the network thread (in on_open and on_buffered_low),
 * keeping at most --window bytes queued, which is how an application gets full speed.
 */
#include "bench.h"

#include "cli/cli.h"

#include <glib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *BIND[] = {"127.0.0.1"}; /* --bind changes it */

typedef struct side {
  gdb_rtc_peer *p;
  gdb_rtc_channel *ch;
  _Atomic int state, open, gathered;
  /* sending */
  size_t msg_size;
  long long to_send, sent;
  size_t window;
  uint8_t *buf;
  /* receiving */
  _Atomic long long got_msgs, got_bytes;
  long long expect_msgs;
  _Atomic int64_t done_us;
  int64_t open_us;
} side;

static void on_state(gdb_rtc_peer *p, gdb_rtc_state s, void *d) {
  (void)p;
  atomic_store(&((side *)d)->state, (int)s);
}
static void on_cand(gdb_rtc_peer *p, const char *c, const char *mid, void *d) {
  (void)p, (void)mid;
  if (!c) atomic_store(&((side *)d)->gathered, 1);
}

static void pump(gdb_rtc_channel *ch, void *d) {
  side *s = d;
  while (s->sent < s->to_send && gdb_rtc_channel_buffered_amount(ch) <= s->window) {
    if (gdb_rtc_channel_send(ch, s->buf, s->msg_size, true) != GDB_OK) return;
    s->sent++;
  }
}

/* The sender's channel opened: note the time and start sending (network thread). */
static void on_open(gdb_rtc_channel *ch, void *d) {
  side *s = d;
  s->ch = ch;
  s->open_us = g_get_monotonic_time();
  atomic_store(&s->open, 1);
  pump(ch, s);
}

static void on_message(gdb_rtc_channel *ch, const uint8_t *m, size_t len, bool bin, void *d) {
  (void)ch, (void)m, (void)bin;
  side *s = d;
  atomic_fetch_add(&s->got_bytes, (long long)len);
  if (atomic_fetch_add(&s->got_msgs, 1) + 1 == s->expect_msgs)
    atomic_store(&s->done_us, g_get_monotonic_time());
}

static void on_channel(gdb_rtc_peer *p, gdb_rtc_channel *ch, void *d) {
  (void)p;
  side *s = d;
  gdb_rtc_channel_callbacks cb = {.on_message = on_message, .data = s};
  gdb_rtc_channel_set_callbacks(ch, &cb);
  s->ch = ch;
  atomic_store(&s->open, 1);
}

static bool wait_int(_Atomic int *v, int want, int ms) {
  for (int i = 0; i < ms && atomic_load(v) < want; i++) g_usleep(1000);
  return atomic_load(v) >= want;
}

static int make_peer(side *s) {
  gdb_rtc_config c;
  gdb_rtc_config_init(&c);
  c.bind_addresses = BIND;
  c.bind_address_count = 1;
  c.cb = (gdb_rtc_peer_callbacks){
      .on_state = on_state, .on_candidate = on_cand, .on_channel = on_channel, .data = s};
  return gdb_rtc_peer_new(&c, &s->p);
}

static char *full_desc(side *s) {
  char *d = NULL;
  wait_int(&s->gathered, 1, 5000);
  gdb_rtc_peer_local_description(s->p, &d);
  return d;
}

/* ── the child process: answers and counts ── */

static int write_all(int fd, const char *s) {
  size_t n = strlen(s) + 1; /* with the NUL as a separator */
  for (size_t at = 0; at < n;) {
    ssize_t w = write(fd, s + at, n - at);
    if (w <= 0) return -1;
    at += (size_t)w;
  }
  return 0;
}

static char *read_nul(int fd) {
  size_t n = 0, cap = 4096;
  char *b = malloc(cap), c;
  while (b && read(fd, &c, 1) == 1) {
    if (n + 1 >= cap) {
      char *nb = realloc(b, cap *= 2);
      if (!nb) break;
      b = nb;
    }
    b[n++] = c;
    if (!c) return b;
  }
  free(b);
  return NULL;
}

/* One scenario between a sender (offerer, this process) and a receiver (answerer, here or in
 * the child). Returns seconds from start of sending to the last message received, and the
 * connect time. */
typedef struct result {
  double connect_ms, seconds;
  long long msgs, bytes;
} result;

static int receiver_child(int in_fd, int out_fd, long long expect) {
  side r = {.expect_msgs = expect};
  if (make_peer(&r)) return 3;
  char *offer = read_nul(in_fd);
  if (!offer || gdb_rtc_peer_set_remote_description(r.p, "offer", offer)) return 3;
  gdb_rtc_peer_add_remote_candidate(r.p, NULL, NULL);
  char *a = NULL;
  gdb_rtc_peer_create_answer(r.p, &a);
  gdb_free(a);
  char *ans = full_desc(&r);
  write_all(out_fd, ans);
  gdb_free(ans);
  free(offer);
  /* Report the time of the last message as soon as it arrives. */
  for (int i = 0; i < 600000 && atomic_load(&r.done_us) == 0; i++) { /* 10 min */
    int st = atomic_load(&r.state);
    if (st == GDB_RTC_FAILED || st == GDB_RTC_CLOSED) break;
    g_usleep(100);
  }
  char line[64];
  snprintf(line, sizeof line, "%lld", (long long)atomic_load(&r.done_us));
  write_all(out_fd, line);
  char *bye = read_nul(in_fd);
  free(bye);
  gdb_rtc_peer_free(r.p);
  return 0;
}

static int run_scenario(bool inproc, size_t msg_size, long long count, size_t window, result *res) {
  int to_child[2], from_child[2];
  pid_t pid = -1;
  side r = {.expect_msgs = count};
  if (!inproc) {
    if (pipe(to_child) || pipe(from_child)) return -1;
    fflush(NULL);
    pid = fork(); /* before this process starts any thread of its own in this scenario */
    if (pid == 0) {
      close(to_child[1]);
      close(from_child[0]);
      _exit(receiver_child(to_child[0], from_child[1], count));
    }
    close(to_child[0]);
    close(from_child[1]);
  }
  side s = {.msg_size = msg_size, .to_send = count, .window = window};
  s.buf = malloc(msg_size);
  memset(s.buf, 0x5a, msg_size);
  int64_t t0 = g_get_monotonic_time();
  int rc = -1;
  if (make_peer(&s) || (inproc && make_peer(&r))) goto out;
  gdb_rtc_channel_callbacks cb = {.on_open = on_open, .on_buffered_low = pump, .data = &s};
  gdb_rtc_channel *ch;
  if (gdb_rtc_channel_open(s.p, "bench", NULL, &cb, &ch)) goto out;
  gdb_rtc_channel_set_buffered_low_threshold(ch, window / 2);
  char *o = NULL;
  gdb_rtc_peer_create_offer(s.p, &o);
  gdb_free(o);
  char *offer = full_desc(&s), *answer = NULL;
  if (inproc) {
    gdb_rtc_peer_set_remote_description(r.p, "offer", offer);
    gdb_rtc_peer_add_remote_candidate(r.p, NULL, NULL);
    char *a = NULL;
    gdb_rtc_peer_create_answer(r.p, &a);
    gdb_free(a);
    answer = full_desc(&r);
  } else {
    write_all(to_child[1], offer);
    answer = read_nul(from_child[0]);
  }
  gdb_free(offer);
  if (!answer || gdb_rtc_peer_set_remote_description(s.p, "answer", answer)) {
    fprintf(stderr, "bench rtc: no usable answer: %s\n", answer ? gdb_errmsg() : "none");
    free(answer);
    goto out;
  }
  free(answer);
  gdb_rtc_peer_add_remote_candidate(s.p, NULL, NULL);
  if (!wait_int(&s.open, 1, 10000)) {
    fprintf(stderr, "bench rtc: channel did not open (state %s)\n",
            gdb_rtc_state_name(atomic_load(&s.state)));
    goto out;
  }
  int64_t t1 = s.open_us;
  res->connect_ms = (double)(t1 - t0) / 1000.0;
  int64_t done = 0;
  if (inproc) {
    for (int i = 0; i < 600000 && !(done = atomic_load(&r.done_us)); i++) g_usleep(1000);
  } else {
    char *line = read_nul(from_child[0]);
    done = line ? atoll(line) : 0;
    free(line);
  }
  if (!done) {
    fprintf(stderr,
            "bench rtc: the receiver did not get all %lld messages (sender state %s, %lld sent)\n",
            count, gdb_rtc_state_name(atomic_load(&s.state)), s.sent);
    goto out;
  }
  /* Monotonic clocks are shared between processes on one host. */
  res->seconds = (double)(done - t1) / 1e6;
  res->msgs = count;
  res->bytes = count * (long long)msg_size;
  rc = 0;
out:
  if (!inproc) {
    write_all(to_child[1], "bye");
    close(to_child[1]);
  }
  gdb_rtc_peer_free(s.p);
  if (inproc) gdb_rtc_peer_free(r.p);
  if (!inproc) {
    close(from_child[0]);
    waitpid(pid, NULL, 0);
  }
  free(s.buf);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int bench_rtc(int argc, char **argv) {
  bool inproc = false;
  long long mb = 256, small = 1000000;
  int connects = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--inproc"))
      inproc = true;
    else if (!strcmp(argv[i], "--mb") && i + 1 < argc)
      mb = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--msgs") && i + 1 < argc)
      small = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
      BIND[0] = argv[++i];
    else if (!strcmp(argv[i], "--connects") && i + 1 < argc)
      connects = atoi(argv[++i]);
    else
      return cli_usage("bench rtc: options are --inproc, --bind IP, --mb N, --msgs N, --connects N");
  }
  if (mb < 1 || small < 1 || connects < 1 || connects > 100)
    return cli_usage("bench rtc: --mb, --msgs >= 1, --connects 1..100");
  double cms[100];
  result r;
  for (int i = 0; i < connects; i++) {
    if (run_scenario(inproc, 1, 1, 1 << 20, &r)) goto fail;
    cms[i] = r.connect_ms;
  }
  qsort(cms, (size_t)connects, sizeof cms[0], cmp_double);
  result big, tiny;
  if (run_scenario(inproc, 65536, mb * 16, 4u << 20, &big)) goto fail;
  if (run_scenario(inproc, 64, small, 1u << 20, &tiny)) goto fail;
  printf("{\"suite\":\"rtc\",\"bind\":\"%s\",\"processes\":%d,\"connect_ms\":%.1f,\"connect_ms_max\":%.1f,"
         "\"throughput_mb_s\":%.1f,\"throughput_bytes\":%lld,\"msgs_s\":%.0f,\"msgs\":%lld,"
         "\"msg_size\":64,\"chunk\":65536}\n",
         BIND[0], inproc ? 1 : 2, cms[connects / 2], cms[connects - 1],
         (double)big.bytes / 1e6 / big.seconds, big.bytes, (double)tiny.msgs / tiny.seconds,
         tiny.msgs);
  return CLI_OK;
fail:
  fprintf(stderr, "genosdb: bench rtc: a scenario failed: %s\n", gdb_errmsg());
  return CLI_FAIL;
}
