/*
 * cmd_nostr.c — the Nostr diagnostics of the command line:
 *   genosdb relay [--port N] [--bind ADDR] [...]     run the embedded relay until SIGINT/SIGTERM
 *   genosdb nostr publish --relay URL --kind K --content TEXT [--key HEX] [--tags JSON] [--ca-file PEM]
 *   genosdb nostr sub --relay URL [--count N] [--timeout MS] [--eose] [--ca-file PEM] FILTER_JSON
 *   genosdb nostr room --relay URL --app A --room R [--password P] [--duration MS] ...
 * Each prints JSON, one object per line, and is a thin client of the nostr section of
 * genosdb.h.
 */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RELAYS 16

static const char *arg_value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) return NULL;
  return argv[++*i];
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno || v > max || s[0] == '-') return false;
  *out = v;
  return true;
}

/* A one-shot wait the network thread can end early. */
typedef struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool done;
} waiter;

static void waiter_init(waiter *w) {
  pthread_mutex_init(&w->mu, NULL);
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cond, &a);
  pthread_condattr_destroy(&a);
  w->done = false;
}

static void waiter_wake(waiter *w) {
  pthread_mutex_lock(&w->mu);
  w->done = true;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->mu);
}

/* Waits until woken or ms elapsed (or a stop signal arrived); true when woken. */
static volatile sig_atomic_t stop_signal;
static bool waiter_wait(waiter *w, unsigned long ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += (time_t)(ms / 1000);
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->mu);
  while (!w->done && !stop_signal) {
    struct timespec step; /* wake every 100 ms to notice signals */
    clock_gettime(CLOCK_MONOTONIC, &step);
    step.tv_nsec += 100000000L;
    if (step.tv_nsec >= 1000000000L) {
      step.tv_sec++;
      step.tv_nsec -= 1000000000L;
    }
    if (step.tv_sec > until.tv_sec || (step.tv_sec == until.tv_sec && step.tv_nsec > until.tv_nsec))
      step = until;
    if (pthread_cond_timedwait(&w->cond, &w->mu, &step) == ETIMEDOUT &&
        (step.tv_sec == until.tv_sec && step.tv_nsec == until.tv_nsec))
      break;
  }
  bool done = w->done;
  pthread_mutex_unlock(&w->mu);
  return done;
}

static void on_stop_signal(int sig) {
  (void)sig;
  stop_signal = 1;
}

static void catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static void print_health(gdb_nostr_pool *pool) {
  static const char *STATES[] = {"connecting", "open", "backoff", "dropped"};
  for (size_t i = 0; i < gdb_nostr_pool_relay_count(pool); i++) {
    gdb_nostr_relay_health h;
    if (gdb_nostr_pool_health(pool, i, &h)) continue;
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:f, s:I, s:I, s:s}", "relay", h.url, "state",
                          STATES[h.state], "connects", (int)h.connects, "failures", (int)h.failures,
                          "latency_ms", h.latency_ms, "events_in", (json_int_t)h.events_in,
                          "rejected_in", (json_int_t)h.rejected_in, "reason", h.reason);
    char *s = json_dumps(o, JSON_COMPACT);
    fprintf(stderr, "%s\n", s);
    free(s);
    json_decref(o);
  }
}

/* ── genosdb relay ── */

int cmd_relay(const cli_global *g, int argc, char **argv) {
  (void)g;
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    unsigned long v;
    if (!strcmp(a, "--bind")) {
      if (!(o.bind = arg_value(argc, argv, &i))) return cli_usage("relay: --bind needs an ADDR");
    } else if (!strcmp(a, "--name")) {
      if (!(o.name = arg_value(argc, argv, &i))) return cli_usage("relay: --name needs a NAME");
    } else if (!strcmp(a, "--port")) {
      if (!parse_uint(arg_value(argc, argv, &i), 65535, &v))
        return cli_usage("relay: --port needs a number 0..65535 (0: any free port)");
      o.port = (uint16_t)v;
    } else if (!strcmp(a, "--max-message")) {
      if (!parse_uint(arg_value(argc, argv, &i), 64u << 20, &v))
        return cli_usage("relay: --max-message needs a byte count");
      o.max_message = (uint32_t)v;
    } else if (!strcmp(a, "--max-subs")) {
      if (!parse_uint(arg_value(argc, argv, &i), 100000, &v))
        return cli_usage("relay: --max-subs needs a number");
      o.max_subs = (uint32_t)v;
    } else if (!strcmp(a, "--rate")) {
      if (!parse_uint(arg_value(argc, argv, &i), 10000000, &v))
        return cli_usage("relay: --rate needs events per second (0: unlimited)");
      o.events_per_sec = (uint32_t)v;
    } else if (!strcmp(a, "--store")) {
      if (!parse_uint(arg_value(argc, argv, &i), 10000000, &v))
        return cli_usage("relay: --store needs a number of events");
      o.store_max = (uint32_t)v;
    } else if (!strcmp(a, "--min-pow")) {
      if (!parse_uint(arg_value(argc, argv, &i), 256, &v))
        return cli_usage("relay: --min-pow needs a difficulty 0..256");
      o.min_pow = (int)v;
    } else if (!strcmp(a, "--verify-threads")) {
      if (!parse_uint(arg_value(argc, argv, &i), 64, &v))
        return cli_usage("relay: --verify-threads needs a number 0..64 (0: the network thread)");
      o.verify_threads = (uint32_t)v;
    } else if (!strcmp(a, "--seen")) {
      if (!parse_uint(arg_value(argc, argv, &i), 1u << 26, &v))
        return cli_usage("relay: --seen needs a number of events (0: no cache)");
      o.seen_max = (uint32_t)v;
    } else {
      return cli_usage("relay: unknown option \"%s\" (options: --port N --bind ADDR --name S "
                       "--max-message B --max-subs N --rate N --store N --min-pow D "
                       "--verify-threads N --seen N)",
                       a);
    }
  }
  catch_signals();
  gdb_nostr_relay *r;
  int rc = gdb_nostr_relay_start(&o, &r);
  if (rc) return cli_fail(rc, "relay");
  printf("{\"listening\":\"ws://%s%s%s:%u\"}\n", strchr(o.bind, ':') ? "[" : "", o.bind,
         strchr(o.bind, ':') ? "]" : "", gdb_nostr_relay_port(r));
  fflush(stdout);
  while (!stop_signal) usleep(100 * 1000);
  char *st = gdb_nostr_relay_status_json(r);
  if (st) fprintf(stderr, "%s\n", st);
  gdb_free(st);
  gdb_nostr_relay_stop(r);
  return CLI_OK;
}

/* ── genosdb nostr publish ── */

typedef struct publish_state {
  waiter w;
  int answers, accepted, expected;
  pthread_mutex_t mu;
} publish_state;

static void on_ok(const char *id, bool ok, const char *msg, const char *relay, void *data) {
  publish_state *s = data;
  json_t *o =
      json_pack("{s:s, s:s, s:b, s:s}", "ok", id, "relay", relay, "accepted", ok, "message", msg);
  char *txt = json_dumps(o, JSON_COMPACT);
  cli_println(txt);
  free(txt);
  json_decref(o);
  pthread_mutex_lock(&s->mu);
  s->answers++;
  if (ok) s->accepted++;
  bool all = s->answers >= s->expected;
  pthread_mutex_unlock(&s->mu);
  if (all) waiter_wake(&s->w);
}

/* --ca-file PEM: a readable file, or NULL after printing why. */
static const char *ca_file_arg(int argc, char **argv, int *i) {
  const char *f = arg_value(argc, argv, i);
  if (!f) {
    cli_usage("--ca-file needs a PEM file of trusted certificates for wss://");
    return NULL;
  }
  if (access(f, R_OK)) {
    cli_usage("--ca-file %s: %s", f, strerror(errno));
    return NULL;
  }
  return f;
}

static int nostr_publish(int argc, char **argv) {
  const char *relays[MAX_RELAYS], *content = NULL, *key_hex = NULL, *tags = NULL;
  size_t n_relays = 0;
  unsigned long kind = 1, timeout = 5000;
  gdb_nostr_pool_options po;
  gdb_nostr_pool_options_init(&po);
  bool have_kind = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--relay")) {
      if (n_relays == MAX_RELAYS || !(relays[n_relays++] = arg_value(argc, argv, &i)))
        return cli_usage("nostr publish: --relay needs a URL (at most %d)", MAX_RELAYS);
    } else if (!strcmp(a, "--kind")) {
      if (!parse_uint(arg_value(argc, argv, &i), 65535, &kind))
        return cli_usage("nostr publish: --kind needs a number 0..65535");
      have_kind = true;
    } else if (!strcmp(a, "--content")) {
      if (!(content = arg_value(argc, argv, &i)))
        return cli_usage("nostr publish: --content needs TEXT");
    } else if (!strcmp(a, "--key")) {
      if (!(key_hex = arg_value(argc, argv, &i)))
        return cli_usage("nostr publish: --key needs 64 hex");
    } else if (!strcmp(a, "--tags")) {
      if (!(tags = arg_value(argc, argv, &i))) return cli_usage("nostr publish: --tags needs JSON");
    } else if (!strcmp(a, "--timeout")) {
      if (!parse_uint(arg_value(argc, argv, &i), 3600000, &timeout))
        return cli_usage("nostr publish: --timeout needs milliseconds");
    } else if (!strcmp(a, "--ca-file")) {
      if (!(po.ca_file = ca_file_arg(argc, argv, &i))) return CLI_USAGE;
    } else {
      return cli_usage("nostr publish: unknown option \"%s\"", a);
    }
  }
  if (!n_relays || !have_kind || !content)
    return cli_usage("usage: genosdb nostr publish --relay URL --kind K --content TEXT [--key HEX] "
                     "[--tags JSON] [--timeout MS] [--ca-file PEM]");
  uint8_t key[32];
  if (key_hex) {
    for (int i = 0; i < 32; i++) {
      unsigned int b;
      if (strlen(key_hex) != 64 || sscanf(key_hex + 2 * i, "%2x", &b) != 1)
        return cli_usage("nostr publish: --key must be 64 hex digits");
      key[i] = (uint8_t)b;
    }
  } else if (gdb_nostr_key_generate(key)) {
    return cli_fail(GDB_ECRYPTO, "nostr publish");
  }
  gdb_nostr_event *ev;
  int rc = gdb_nostr_event_sign(key, 0, (int)kind, tags, content, &ev);
  if (rc) return cli_fail(rc, "nostr publish");
  cli_println(gdb_nostr_event_json(ev));
  gdb_nostr_pool *pool;
  if ((rc = gdb_nostr_pool_new(relays, n_relays, &po, &pool))) {
    gdb_nostr_event_release(ev);
    return cli_fail(rc, "nostr publish");
  }
  publish_state s = {.expected = (int)n_relays};
  pthread_mutex_init(&s.mu, NULL);
  waiter_init(&s.w);
  gdb_nostr_pool_publish(pool, ev, on_ok, &s);
  waiter_wait(&s.w, timeout);
  if (s.answers < (int)n_relays) print_health(pool);
  gdb_nostr_pool_free(pool);
  gdb_nostr_event_release(ev);
  if (s.accepted == 0) {
    fprintf(stderr, "genosdb: nostr publish: %s\n",
            s.answers ? "every relay refused the event" : "no relay answered in time");
    return CLI_FAIL;
  }
  return CLI_OK;
}

/* ── genosdb nostr sub ── */

typedef struct sub_state {
  waiter w;
  unsigned long count, limit;
  bool stop_at_eose;
  pthread_mutex_t mu;
} sub_state;

static void on_sub_event(const gdb_nostr_event *ev, const char *relay, void *data) {
  sub_state *s = data;
  (void)relay;
  pthread_mutex_lock(&s->mu);
  bool print = !s->limit || s->count < s->limit;
  if (print) s->count++;
  bool done = s->limit && s->count >= s->limit;
  pthread_mutex_unlock(&s->mu);
  if (print) cli_println(gdb_nostr_event_json(ev));
  if (done) waiter_wake(&s->w);
}

static void on_sub_eose(const char *relay, void *data) {
  sub_state *s = data;
  (void)relay;
  if (s->stop_at_eose) waiter_wake(&s->w);
}

static int nostr_sub(int argc, char **argv) {
  const char *relays[MAX_RELAYS], *filter = NULL;
  size_t n_relays = 0;
  unsigned long timeout = 10000;
  sub_state s = {0};
  gdb_nostr_pool_options po;
  gdb_nostr_pool_options_init(&po);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--relay")) {
      if (n_relays == MAX_RELAYS || !(relays[n_relays++] = arg_value(argc, argv, &i)))
        return cli_usage("nostr sub: --relay needs a URL (at most %d)", MAX_RELAYS);
    } else if (!strcmp(a, "--count")) {
      if (!parse_uint(arg_value(argc, argv, &i), 100000000, &s.limit))
        return cli_usage("nostr sub: --count needs a number");
    } else if (!strcmp(a, "--timeout")) {
      if (!parse_uint(arg_value(argc, argv, &i), 86400000, &timeout))
        return cli_usage("nostr sub: --timeout needs milliseconds");
    } else if (!strcmp(a, "--eose")) {
      s.stop_at_eose = true;
    } else if (!strcmp(a, "--ca-file")) {
      if (!(po.ca_file = ca_file_arg(argc, argv, &i))) return CLI_USAGE;
    } else if (a[0] == '-' && a[1] == '-') {
      return cli_usage("nostr sub: unknown option \"%s\"", a);
    } else if (filter) {
      return cli_usage("nostr sub: one FILTER_JSON only (an array of filters is fine)");
    } else {
      filter = a;
    }
  }
  if (!n_relays || !filter)
    return cli_usage("usage: genosdb nostr sub --relay URL [--count N] [--timeout MS] [--eose] "
                     "[--ca-file PEM] FILTER_JSON");
  /* One filter object or an array of them. */
  char *filters = NULL;
  if (filter[0] == '{') {
    filters = malloc(strlen(filter) + 3);
    if (filters) sprintf(filters, "[%s]", filter);
  } else {
    filters = strdup(filter);
  }
  if (!filters) return cli_fail(GDB_ENOMEM, "nostr sub");
  catch_signals();
  gdb_nostr_pool *pool;
  int rc = gdb_nostr_pool_new(relays, n_relays, &po, &pool);
  if (rc) {
    free(filters);
    return cli_fail(rc, "nostr sub");
  }
  pthread_mutex_init(&s.mu, NULL);
  waiter_init(&s.w);
  uint64_t id;
  rc = gdb_nostr_pool_subscribe(pool, filters, on_sub_event, on_sub_eose, &s, &id);
  free(filters);
  if (rc) {
    gdb_nostr_pool_free(pool);
    return cli_fail(rc, "nostr sub");
  }
  waiter_wait(&s.w, timeout);
  if (gdb_nostr_pool_open_count(pool) == 0) print_health(pool);
  gdb_nostr_pool_free(pool);
  return CLI_OK;
}

static int cmd_nostr_room(int argc, char **argv);

int cmd_nostr(const cli_global *g, int argc, char **argv) {
  (void)g;
  if (argc < 2) return cli_usage("nostr: which action? (publish, sub, room)");
  if (!strcmp(argv[1], "publish")) return nostr_publish(argc - 1, argv + 1);
  if (!strcmp(argv[1], "sub")) return nostr_sub(argc - 1, argv + 1);
  if (!strcmp(argv[1], "room")) return cmd_nostr_room(argc - 1, argv + 1);
  return cli_usage("nostr: unknown action \"%s\" (publish, sub, room)", argv[1]);
}

/* ── genosdb nostr room: a diagnostic peer exchanging test offers and answers ── */

typedef struct room_state {
  waiter w;
  pthread_mutex_t mu;
  unsigned long handshakes, until;
} room_state;

static void print_room_event(const char *event, const char *peer, const char *type,
                             const char *payload) {
  json_t *o = json_pack("{s:s, s:s}", "event", event, "peer", peer);
  if (type) json_object_set_new(o, "type", json_string(type));
  if (payload) json_object_set_new(o, "payload", json_string(payload));
  char *txt = json_dumps(o, JSON_COMPACT);
  cli_println(txt);
  free(txt);
  json_decref(o);
}

static void room_handshake_done(room_state *s) {
  pthread_mutex_lock(&s->mu);
  bool done = ++s->handshakes >= s->until && s->until;
  pthread_mutex_unlock(&s->mu);
  if (done) waiter_wake(&s->w);
}

static void on_peer_seen(gdb_signal_room *room, const char *peer, void *data) {
  (void)data;
  const char *self = gdb_signal_room_self(room);
  print_room_event("peer:seen", peer, NULL, NULL);
  /* The smaller id makes the offer, as a WebRTC "polite peer" rule would. */
  if (strcmp(self, peer) < 0) {
    char payload[200];
    snprintf(payload, sizeof payload, "test-offer %.8s->%.8s", self, peer);
    if (gdb_signal_room_send(room, peer, "offer", payload) == GDB_OK)
      print_room_event("sent", peer, "offer", payload);
  }
}

static void on_peer_lost(gdb_signal_room *room, const char *peer, void *data) {
  (void)room;
  (void)data;
  print_room_event("peer:lost", peer, NULL, NULL);
}

static void on_signal(gdb_signal_room *room, const char *peer, const char *type,
                      const char *payload, void *data) {
  room_state *s = data;
  print_room_event("signal", peer, type, payload);
  if (!strcmp(type, "offer")) {
    char answer[200];
    snprintf(answer, sizeof answer, "test-answer %.8s->%.8s", gdb_signal_room_self(room), peer);
    if (gdb_signal_room_send(room, peer, "answer", answer) == GDB_OK)
      print_room_event("sent", peer, "answer", answer);
    room_handshake_done(s);
  } else if (!strcmp(type, "answer")) {
    room_handshake_done(s);
  }
}

static int cmd_nostr_room(int argc, char **argv) {
  const char *relays[MAX_RELAYS];
  gdb_signal_options o = {.relays = relays};
  unsigned long duration = 10000, announce = 0, until = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--relay")) {
      if (o.n_relays == MAX_RELAYS || !(relays[o.n_relays++] = arg_value(argc, argv, &i)))
        return cli_usage("nostr room: --relay needs a URL (at most %d)", MAX_RELAYS);
    } else if (!strcmp(a, "--app")) {
      if (!(o.app_id = arg_value(argc, argv, &i)))
        return cli_usage("nostr room: --app needs a NAME");
    } else if (!strcmp(a, "--room")) {
      if (!(o.room_id = arg_value(argc, argv, &i)))
        return cli_usage("nostr room: --room needs a NAME");
    } else if (!strcmp(a, "--password")) {
      if (!(o.password = arg_value(argc, argv, &i)))
        return cli_usage("nostr room: --password needs a SECRET");
    } else if (!strcmp(a, "--duration")) {
      if (!parse_uint(arg_value(argc, argv, &i), 86400000, &duration))
        return cli_usage("nostr room: --duration needs milliseconds");
    } else if (!strcmp(a, "--announce-ms")) {
      if (!parse_uint(arg_value(argc, argv, &i), 3600000, &announce) || announce < 100)
        return cli_usage("nostr room: --announce-ms needs milliseconds (at least 100)");
    } else if (!strcmp(a, "--until")) {
      if (!parse_uint(arg_value(argc, argv, &i), 1000, &until))
        return cli_usage("nostr room: --until needs a number of handshakes");
    } else {
      return cli_usage("nostr room: unknown option \"%s\"", a);
    }
  }
  if (!o.n_relays || !o.app_id || !o.room_id)
    return cli_usage("usage: genosdb nostr room --relay URL --app A --room R [--password P] "
                     "[--duration MS] [--until HANDSHAKES] [--announce-ms MS]");
  o.announce_ms = (uint32_t)announce;
  catch_signals();
  room_state s = {.until = until};
  pthread_mutex_init(&s.mu, NULL);
  waiter_init(&s.w);
  gdb_signal_callbacks cbs = {on_peer_seen, on_peer_lost, on_signal, &s};
  gdb_signal_room *room;
  int rc = gdb_signal_room_join(&o, &cbs, &room);
  if (rc) return cli_fail(rc, "nostr room");
  char self_buf[65];
  snprintf(self_buf, sizeof self_buf, "%s", gdb_signal_room_self(room));
  fprintf(stderr, "{\"self\":\"%s\"}\n", self_buf);
  waiter_wait(&s.w, duration);
  gdb_signal_stats st;
  gdb_signal_room_get_stats(room, &st);
  gdb_signal_room_leave(room);
  pthread_mutex_lock(&s.mu);
  printf("{\"summary\":{\"self\":\"%s\",\"peers\":%llu,\"handshakes\":%lu,\"sent\":%llu,"
         "\"received\":%llu,\"unreadable\":%llu}}\n",
         self_buf, (unsigned long long)st.peers, s.handshakes, (unsigned long long)st.sent,
         (unsigned long long)st.received, (unsigned long long)st.unreadable);
  pthread_mutex_unlock(&s.mu);
  fflush(stdout);
  return CLI_OK;
}
