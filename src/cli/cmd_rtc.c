/*
 * cmd_rtc.c — `genosdb rtc answer|offer`: WebRTC data channels from the command line, for
 * tests and diagnosis. Signaling is one JSON line each way on stdin/stdout
 * ({"type":"offer"|"answer","sdp":…}) carrying complete descriptions (candidates included).
 *
 *   rtc answer [--echo] ...   answer an offer; with --echo send every message back
 *   rtc offer  [--channels N] [--messages N] [--send-file FILE] [--no-echo] ...
 *                             offer, then send messages and/or a file and check the echoes
 *                             (--no-echo: just send; closing delivers what is queued)
 *
 * Callbacks arrive on the library's network thread; this file keeps their effects in atomics
 * that the main thread polls.
 */
#include "cli/cli.h"

#include <glib.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BIND 8
#define MAX_CHANNELS 64

typedef struct rtc_opts {
  const char *bind[MAX_BIND];
  size_t n_bind;
  gdb_rtc_ice_server servers[4];
  size_t n_servers;
  const char *turn_user, *turn_pass;
  bool relay_only, echo, no_echo;
  double timeout_s;
  int channels, messages;
  size_t max_size, chunk;
  const char *send_file;
  uint32_t consent_ms;
} rtc_opts;

/* Reports a library failure (its message already names the layer) as cli_fail does. */
static int rtc_fail(int err) {
  fprintf(stderr, "genosdb: %s\n", gdb_errmsg()[0] ? gdb_errmsg() : gdb_strerror(err));
  return err == GDB_EINVAL || err == GDB_ETOOBIG ? CLI_USAGE
         : err == GDB_ENOTFOUND                  ? CLI_NOTFOUND
                                                 : CLI_FAIL;
}

static int parse_opts(int argc, char **argv, rtc_opts *o, bool offer) {
  *o = (rtc_opts){.timeout_s = 60, .channels = 1, .max_size = 65536, .chunk = 65536};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                               \
  do {                                                                                             \
    if (!v) return cli_usage("rtc: %s needs a value", a);                                          \
    i++;                                                                                           \
  } while (0)
    if (!strcmp(a, "--echo") && !offer) {
      o->echo = true;
    } else if (!strcmp(a, "--no-echo") && offer) {
      o->no_echo = true;
    } else if (!strcmp(a, "--relay-only")) {
      o->relay_only = true;
    } else if (!strcmp(a, "--bind")) {
      NEED_VALUE();
      if (o->n_bind == MAX_BIND) return cli_usage("rtc: at most %d --bind addresses", MAX_BIND);
      o->bind[o->n_bind++] = v;
    } else if (!strcmp(a, "--stun") || !strcmp(a, "--turn")) {
      NEED_VALUE();
      if (o->n_servers == 4) return cli_usage("rtc: at most 4 ICE servers");
      o->servers[o->n_servers++].urls = v;
    } else if (!strcmp(a, "--turn-user")) {
      NEED_VALUE();
      o->turn_user = v;
    } else if (!strcmp(a, "--turn-pass")) {
      NEED_VALUE();
      o->turn_pass = v;
    } else if (!strcmp(a, "--timeout")) {
      NEED_VALUE();
      o->timeout_s = atof(v);
      if (o->timeout_s <= 0)
        return cli_usage("rtc: --timeout must be a positive number of seconds");
    } else if (!strcmp(a, "--consent-timeout")) {
      NEED_VALUE();
      o->consent_ms = (uint32_t)atoi(v);
    } else if (offer && !strcmp(a, "--channels")) {
      NEED_VALUE();
      o->channels = atoi(v);
      if (o->channels < 0 || o->channels > MAX_CHANNELS)
        return cli_usage("rtc: --channels must be 0..%d", MAX_CHANNELS);
    } else if (offer && !strcmp(a, "--messages")) {
      NEED_VALUE();
      o->messages = atoi(v);
      if (o->messages < 0) return cli_usage("rtc: --messages must be >= 0");
    } else if (offer && !strcmp(a, "--max-size")) {
      NEED_VALUE();
      o->max_size = (size_t)atol(v);
      if (o->max_size < 1 || o->max_size > 262144)
        return cli_usage("rtc: --max-size must be 1..262144");
    } else if (offer && !strcmp(a, "--chunk")) {
      NEED_VALUE();
      o->chunk = (size_t)atol(v);
      if (o->chunk < 1 || o->chunk > 262144) return cli_usage("rtc: --chunk must be 1..262144");
    } else if (offer && !strcmp(a, "--send-file")) {
      NEED_VALUE();
      o->send_file = v;
    } else {
      return cli_usage("rtc %s: unknown option \"%s\"", argv[1], a);
    }
#undef NEED_VALUE
  }
  for (size_t i = 0; i < o->n_servers; i++) {
    o->servers[i].username = o->turn_user;
    o->servers[i].credential = o->turn_pass;
  }
  return CLI_OK;
}

/* ── shared state between the network thread's callbacks and the main thread ── */

typedef struct session session;

typedef struct chk {
  session *s;
  int index;
  _Atomic long long next; /* echoes received */
  _Atomic long long bytes;
  _Atomic int bad;
  _Atomic int open;
  const uint8_t *file; /* file channel: the expected bytes */
  size_t file_len;
} chk;

struct session {
  const rtc_opts *o;
  gdb_rtc_peer *p;
  _Atomic int state;
  _Atomic int gathered;
  _Atomic long long msgs, bytes; /* received on any channel */
  chk chk[MAX_CHANNELS + 1];
  const size_t *sizes;
  size_t n_sizes;
};

static void on_state(gdb_rtc_peer *p, gdb_rtc_state st, void *data) {
  (void)p;
  atomic_store(&((session *)data)->state, (int)st);
}

static void on_candidate(gdb_rtc_peer *p, const char *cand, const char *mid, void *data) {
  (void)p, (void)mid;
  if (!cand) atomic_store(&((session *)data)->gathered, 1);
}

static void echo_message(gdb_rtc_channel *ch, const uint8_t *msg, size_t len, bool binary,
                         void *data) {
  session *s = data;
  atomic_fetch_add(&s->msgs, 1);
  atomic_fetch_add(&s->bytes, (long long)len);
  if (s->o->echo && gdb_rtc_channel_send(ch, msg, len, binary) != GDB_OK)
    fprintf(stderr, "genosdb: rtc: echo failed: %s\n", gdb_errmsg());
}

static void on_channel(gdb_rtc_peer *p, gdb_rtc_channel *ch, void *data) {
  (void)p;
  gdb_rtc_channel_callbacks cb = {.on_message = echo_message, .data = data};
  gdb_rtc_channel_set_callbacks(ch, &cb);
}

static int wait_until(_Atomic int *v, int want, double seconds, session *s) {
  for (long i = 0; i < (long)(seconds * 1000); i++) {
    if (atomic_load(v) >= want) return 0;
    int st = atomic_load(&s->state);
    if (st == GDB_RTC_FAILED || st == GDB_RTC_CLOSED) return -1;
    g_usleep(1000);
  }
  return atomic_load(v) >= want ? 0 : -1;
}

static int start_peer(session *s, const rtc_opts *o) {
  gdb_rtc_config c;
  gdb_rtc_config_init(&c);
  c.bind_addresses = o->bind;
  c.bind_address_count = o->n_bind;
  c.ice_servers = o->servers;
  c.ice_server_count = o->n_servers;
  c.relay_only = o->relay_only;
  if (o->consent_ms) c.consent_timeout_ms = o->consent_ms;
  c.cb = (gdb_rtc_peer_callbacks){
      .on_state = on_state, .on_candidate = on_candidate, .on_channel = on_channel, .data = s};
  s->o = o;
  int rc = gdb_rtc_peer_new(&c, &s->p);
  return rc ? rtc_fail(rc) : CLI_OK;
}

/* Reads {"type":want,"sdp":…} from stdin; *sdp: caller frees. */
static int read_description(const char *want, char **sdp) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (n <= 0) {
    free(line);
    return cli_usage("rtc: expected a JSON line {\"type\":\"%s\",\"sdp\":…} on stdin, got end of "
                     "input",
                     want);
  }
  json_error_t err;
  json_t *j = json_loadb(line, (size_t)n, 0, &err);
  free(line);
  const char *type = j ? json_string_value(json_object_get(j, "type")) : NULL;
  const char *text = j ? json_string_value(json_object_get(j, "sdp")) : NULL;
  if (!j || !type || !text || strcmp(type, want)) {
    json_decref(j);
    return cli_usage("rtc: expected {\"type\":\"%s\",\"sdp\":…} on stdin%s%s", want, j ? "" : ": ",
                     j ? "" : err.text);
  }
  *sdp = strdup(text);
  json_decref(j);
  return CLI_OK;
}

static void print_description(const char *type, const char *sdp) {
  json_t *j = json_pack("{s:s,s:s}", "type", type, "sdp", sdp);
  char *out = json_dumps(j, JSON_COMPACT);
  cli_println(out);
  free(out);
  json_decref(j);
}

/* Waits for gathering and returns the complete local description (caller frees). */
static int complete_description(session *s, char **sdp) {
  if (wait_until(&s->gathered, 1, 10, s) != 0 && !gdb_rtc_peer_gathering_done(s->p))
    fprintf(stderr, "genosdb: rtc: candidate gathering did not finish in 10 s; sending what "
                    "there is\n");
  int rc = gdb_rtc_peer_local_description(s->p, sdp);
  return rc ? rtc_fail(rc) : CLI_OK;
}

static int wait_connected(session *s, double timeout_s) {
  for (long i = 0; i < (long)(timeout_s * 1000); i++) {
    int st = atomic_load(&s->state);
    if (st == GDB_RTC_CONNECTED) return CLI_OK;
    if (st == GDB_RTC_FAILED || st == GDB_RTC_CLOSED) break;
    g_usleep(1000);
  }
  gdb_rtc_peer_info info;
  gdb_rtc_peer_get_info(s->p, &info);
  fprintf(stderr, "genosdb: rtc: not connected (state %s)\n", gdb_rtc_state_name(info.state));
  return CLI_FAIL;
}

/* ── answer ── */

static int rtc_answer(int argc, char **argv) {
  rtc_opts o;
  int rc = parse_opts(argc, argv, &o, false);
  if (rc) return rc;
  char *offer = NULL, *answer = NULL;
  if ((rc = read_description("offer", &offer))) return rc;
  session *s = calloc(1, sizeof *s);
  if ((rc = start_peer(s, &o))) goto out;
  int err = gdb_rtc_peer_set_remote_description(s->p, "offer", offer);
  if (!err) err = gdb_rtc_peer_add_remote_candidate(s->p, NULL, NULL); /* it is complete */
  if (!err) err = gdb_rtc_peer_create_answer(s->p, &answer);
  if (err) {
    rc = rtc_fail(err);
    goto out;
  }
  gdb_free(answer);
  answer = NULL;
  if ((rc = complete_description(s, &answer))) goto out;
  print_description("answer", answer);
  int64_t end = g_get_monotonic_time() + (int64_t)(o.timeout_s * G_TIME_SPAN_SECOND);
  int st;
  while ((st = atomic_load(&s->state)) != GDB_RTC_CLOSED && st != GDB_RTC_FAILED &&
         g_get_monotonic_time() < end)
    g_usleep(2000);
  json_t *j =
      json_pack("{s:s,s:s,s:I,s:I}", "type", "end", "state", gdb_rtc_state_name(st), "messages",
                (json_int_t)atomic_load(&s->msgs), "bytes", (json_int_t)atomic_load(&s->bytes));
  char *line = json_dumps(j, JSON_COMPACT);
  cli_println(line);
  free(line);
  json_decref(j);
  if (st == GDB_RTC_CLOSED) {
    rc = CLI_OK;
  } else {
    gdb_rtc_peer_info info;
    gdb_rtc_peer_get_info(s->p, &info);
    fprintf(stderr, "genosdb: rtc answer: %s%s%s\n",
            st == GDB_RTC_FAILED ? "the connection failed" : "timed out",
            info.reason[0] ? ": " : "", info.reason);
    rc = CLI_FAIL;
  }
out:
  if (s->p) gdb_rtc_peer_free(s->p);
  free(s);
  free(offer);
  gdb_free(answer);
  return rc;
}

/* ── offer ── */

static uint32_t msg_seed(int channel, long long i) { return (uint32_t)(channel * 1000003 + i); }

static void fill(uint8_t *buf, size_t len, uint32_t seed, bool binary) {
  uint32_t x = seed * 2654435761u + 7u;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = binary ? (uint8_t)(x >> 16) : (uint8_t)('a' + (x >> 16) % 26);
  }
}

static void check_message(gdb_rtc_channel *ch, const uint8_t *msg, size_t len, bool binary,
                          void *data) {
  (void)ch;
  chk *c = data;
  session *s = c->s;
  if (c->file) { /* the file channel: the echo must be the file, in order */
    long long at = atomic_load(&c->bytes);
    if ((size_t)at + len > c->file_len || memcmp(c->file + at, msg, len)) atomic_store(&c->bad, 1);
    atomic_fetch_add(&c->bytes, (long long)len);
    atomic_fetch_add(&c->next, 1);
    return;
  }
  long long i = atomic_load(&c->next);
  size_t want = s->sizes[i % (long long)s->n_sizes];
  bool want_bin = i % 2;
  uint8_t *exp = malloc(want + 1);
  fill(exp, want, msg_seed(c->index, i), want_bin);
  if (len != want || binary != want_bin || memcmp(exp, msg, len)) atomic_fetch_add(&c->bad, 1);
  free(exp);
  atomic_fetch_add(&c->bytes, (long long)len);
  atomic_fetch_add(&c->next, 1);
}

static void chk_open(gdb_rtc_channel *ch, void *data) {
  (void)ch;
  atomic_store(&((chk *)data)->open, 1);
}

/* Waits for the channel's queue to drop under max bytes (flow control by polling). */
static bool throttle(session *s, gdb_rtc_channel *ch, size_t max, int64_t end) {
  while (gdb_rtc_channel_buffered_amount(ch) > max) {
    int st = atomic_load(&s->state);
    if (st == GDB_RTC_FAILED || st == GDB_RTC_CLOSED || g_get_monotonic_time() > end) return false;
    g_usleep(200);
  }
  return true;
}

static int rtc_offer(int argc, char **argv) {
  rtc_opts o;
  int rc = parse_opts(argc, argv, &o, true);
  if (rc) return rc;
  static const size_t SIZES[] = {0,    1,    7,     100,   1000,  1199,  1200,   1201,
                                 5000, 9999, 16384, 20000, 65535, 65536, 100000, 262144};
  size_t sizes[sizeof SIZES / sizeof SIZES[0]], n_sizes = 0;
  for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++)
    if (SIZES[i] <= o.max_size) sizes[n_sizes++] = SIZES[i];
  uint8_t *file = NULL;
  size_t file_len = 0;
  if (o.send_file) {
    file = (uint8_t *)cli_read_file(o.send_file, &file_len);
    if (!file) return cli_usage("rtc offer: cannot read --send-file %s", o.send_file);
  }
  char *offer = NULL, *answer = NULL;
  session *s = calloc(1, sizeof *s);
  s->sizes = sizes;
  s->n_sizes = n_sizes;
  gdb_rtc_channel *ch[MAX_CHANNELS + 1] = {0};
  int nch = o.channels + (file ? 1 : 0);
  if ((rc = start_peer(s, &o))) goto out;
  for (int i = 0; i < nch; i++) {
    char label[32];
    bool is_file = file && i == o.channels;
    snprintf(label, sizeof label, is_file ? "file" : "ch%d", i);
    s->chk[i].index = i;
    s->chk[i].s = s;
    if (is_file) {
      s->chk[i].file = file;
      s->chk[i].file_len = file_len;
    }
    gdb_rtc_channel_callbacks cb = {
        .on_open = chk_open, .on_message = check_message, .data = &s->chk[i]};
    int err = gdb_rtc_channel_open(s->p, label, NULL, &cb, &ch[i]);
    if (err) {
      rc = rtc_fail(err);
      goto out;
    }
  }
  int err = gdb_rtc_peer_create_offer(s->p, &offer);
  if (err) {
    rc = rtc_fail(err);
    goto out;
  }
  gdb_free(offer);
  offer = NULL;
  if ((rc = complete_description(s, &offer))) goto out;
  print_description("offer", offer);
  if ((rc = read_description("answer", &answer))) goto out;
  err = gdb_rtc_peer_set_remote_description(s->p, "answer", answer);
  if (!err) err = gdb_rtc_peer_add_remote_candidate(s->p, NULL, NULL);
  if (err) {
    rc = rtc_fail(err);
    goto out;
  }
  int64_t t_start = g_get_monotonic_time();
  int64_t end = t_start + (int64_t)(o.timeout_s * G_TIME_SPAN_SECOND);
  if ((rc = wait_connected(s, o.timeout_s))) goto out;
  double connect_ms = (double)(g_get_monotonic_time() - t_start) / 1000.0;
  for (int i = 0; i < nch; i++)
    if (wait_until(&s->chk[i].open, 1, 10, s)) {
      fprintf(stderr, "genosdb: rtc offer: channel %d did not open\n", i);
      rc = CLI_FAIL;
      goto out;
    }

  /* Messages, round-robin over the channels, then the file on its own channel. */
  int64_t t0 = g_get_monotonic_time();
  uint8_t *buf = malloc(262144);
  long long sent_msgs = 0, sent_bytes = 0;
  bool ok = true;
  for (long long i = 0; i < o.messages && ok; i++)
    for (int c = 0; c < o.channels && ok; c++) {
      size_t len = sizes[i % (long long)n_sizes];
      fill(buf, len, msg_seed(c, i), i % 2);
      ok = throttle(s, ch[c], 4u << 20, end) && gdb_rtc_channel_send(ch[c], buf, len, i % 2) == 0;
      sent_msgs++;
      sent_bytes += (long long)len;
    }
  free(buf);
  int64_t t_file = g_get_monotonic_time();
  if (file && ok) {
    gdb_rtc_channel *fc = ch[o.channels];
    for (size_t at = 0; at < file_len && ok; at += o.chunk) {
      size_t len = file_len - at < o.chunk ? file_len - at : o.chunk;
      ok = throttle(s, fc, 2u << 20, end) && gdb_rtc_channel_send(fc, file + at, len, true) == 0;
    }
  }
  if (!ok)
    fprintf(stderr, "genosdb: rtc offer: sending stopped (state %s)\n",
            gdb_rtc_state_name(atomic_load(&s->state)));
  /* Wait for every echo (or, with --no-echo, for every byte to be handed to SCTP; closing
   * then delivers the rest before the association shuts down). */
  long long got_msgs = 0, got_bytes = 0, bad = 0;
  while (o.no_echo && ok) {
    size_t queued = 0;
    for (int c = 0; c < nch; c++) queued += gdb_rtc_channel_buffered_amount(ch[c]);
    int st = atomic_load(&s->state);
    if (!queued) break;
    if (st == GDB_RTC_FAILED || st == GDB_RTC_CLOSED || g_get_monotonic_time() > end) ok = false;
    g_usleep(500);
  }
  for (; !o.no_echo;) {
    got_msgs = got_bytes = bad = 0;
    bool done = true;
    for (int c = 0; c < o.channels; c++) {
      got_msgs += atomic_load(&s->chk[c].next);
      got_bytes += atomic_load(&s->chk[c].bytes);
      bad += atomic_load(&s->chk[c].bad);
      if (atomic_load(&s->chk[c].next) < o.messages) done = false;
    }
    if (file) {
      bad += atomic_load(&s->chk[o.channels].bad);
      if ((size_t)atomic_load(&s->chk[o.channels].bytes) < file_len) done = false;
    }
    int st = atomic_load(&s->state);
    if (done || bad || !ok || st == GDB_RTC_FAILED || st == GDB_RTC_CLOSED ||
        g_get_monotonic_time() > end)
      break;
    g_usleep(500);
  }
  int64_t t1 = g_get_monotonic_time();
  long long file_echoed = file ? atomic_load(&s->chk[o.channels].bytes) : 0;
  bool verified =
      ok && (o.no_echo || (!bad && got_msgs == sent_msgs && (size_t)file_echoed == file_len));
  double file_s = (double)(t1 - t_file) / 1e6;
  gdb_rtc_peer_info info;
  gdb_rtc_peer_get_info(s->p, &info);
  json_t *j = json_pack(
      "{s:s,s:b,s:f,s:i,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:I}", "type", "report", "ok", verified,
      "connect_ms", connect_ms, "channels", o.channels, "messages_sent", (json_int_t)sent_msgs,
      "messages_verified", (json_int_t)(bad ? 0 : got_msgs), "bytes_sent", (json_int_t)sent_bytes,
      "file_bytes", (json_int_t)file_len, "file_bytes_verified",
      (json_int_t)(bad ? 0 : file_echoed), "seconds", (double)(t1 - t0) / 1e6, "file_echo_mb_s",
      file && file_s > 0 ? (double)file_len / 1e6 / file_s : 0.0, "mismatches", (json_int_t)bad);
  if (o.no_echo) {
    json_object_set_new(j, "echo", json_false());
    json_object_set_new(j, "send_mb_s",
                        json_real(file_s > 0 ? (double)file_len / 1e6 / file_s : 0));
  }
  json_object_set_new(j, "local_candidate_type", json_string(info.local_candidate_type));
  json_object_set_new(j, "remote_candidate_type", json_string(info.remote_candidate_type));
  json_object_set_new(j, "local_address", json_string(info.local_address));
  char *line = json_dumps(j, JSON_COMPACT);
  cli_println(line);
  free(line);
  json_decref(j);
  rc = verified ? CLI_OK : CLI_FAIL;
  if (!verified)
    fprintf(stderr,
            "genosdb: rtc offer: %lld of %lld messages and %lld of %zu file bytes came "
            "back intact (state %s%s%s)\n",
            bad ? 0 : got_msgs, sent_msgs, bad ? 0 : file_echoed, file_len,
            gdb_rtc_state_name(atomic_load(&s->state)), info.reason[0] ? ": " : "", info.reason);
out:
  if (s->p) gdb_rtc_peer_free(s->p);
  free(s);
  free(file);
  gdb_free(offer);
  free(answer);
  return rc;
}

int cmd_rtc(const cli_global *g, int argc, char **argv) {
  (void)g;
  if (argc >= 2 && !strcmp(argv[1], "answer")) return rtc_answer(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "offer")) return rtc_offer(argc, argv);
  return cli_usage("rtc: use \"rtc answer [--echo] [--bind IP] [--timeout S]\" or \"rtc offer "
                   "[--bind IP] [--channels N] [--messages N] [--send-file FILE] [--no-echo]\"");
}
