/*
 * genosdb.h — the one public header of genosdb, a peer-to-peer graph database.
 *
 * Conventions (shared by every part of the library):
 *  - Every function that can fail returns an int: GDB_OK (0) or a negative gdb_err code.
 *    gdb_strerror(code) names the code; gdb_errmsg() returns the detailed message of the last
 *    failure on the calling thread ("put: value is 5242880 bytes, over the 4194304-byte limit").
 *  - Memory the library returns is owned by the caller when the function's comment says
 *    "caller frees"; release it with gdb_free() (or the type's own release function).
 *  - Values are JSON documents whose top level is an object. Inside the library they are
 *    MessagePack buffers in canonical form (map keys in canonical-JSON order, integral numbers
 *    as integers); JSON appears only at the edges (gdb_json_to_value / gdb_value_to_json).
 *  - Callbacks receive the void *data the caller registered with them.
 *
 * Sections: errors · memory · values · clock · database · graph · remote operations ·
 * identities and signing (sm) · WebRTC (rtc) · Nostr signaling (nostr).
 */
#ifndef GENOSDB_H
#define GENOSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GDB_VERSION_STRING "0.1.0"

/* ───────────────────────────── errors ───────────────────────────── */

typedef enum gdb_err {
  GDB_OK = 0,
  GDB_ENOTFOUND = -1, /* no such node, key, peer, ... */
  GDB_EINVAL = -2,    /* bad input: malformed JSON, wrong type, bad argument */
  GDB_ETOOBIG = -3,   /* a value, id or message over its documented limit */
  GDB_EBUSY = -4,     /* the database is held by another process */
  GDB_ECORRUPT = -5,  /* a file or record failed its integrity checks */
  GDB_EIO = -6,       /* the operating system or SQLite reported an I/O failure */
  GDB_ENOMEM = -7,
  GDB_EVERSION = -8,  /* a file or message of a format version this build cannot read */
  GDB_ECLOSED = -9,   /* the handle is closed or closing */
  GDB_EQUERY = -10,   /* a malformed query: unknown operator, bad operand, bad regex */
  GDB_EDENIED = -11,  /* refused by signature, role or permission checks */
  GDB_ECRYPTO = -12,  /* a cryptographic operation failed (wrong passphrase, bad tag) */
  GDB_ETIMEOUT = -13,
  GDB_ESTATE = -14,   /* the call is not valid in the object's current state */
  GDB_ENET = -15,     /* a network failure */
  GDB_EPROTO = -16,   /* a peer broke a protocol: malformed frame, unexpected message */
} gdb_err;

/* The name of an error code ("not found", "invalid input", ...). Static storage. */
const char *gdb_strerror(int err);
/* The detailed message of the last failure on this thread; "" if none. Thread-local storage,
 * valid until the next failing call on the same thread. */
const char *gdb_errmsg(void);

/* ───────────────────────────── memory ───────────────────────────── */

/* Frees memory the library handed to the caller (strings, buffers). NULL is a no-op. */
void gdb_free(void *p);

/* ───────────────────────────── values ───────────────────────────── */

/* Largest value the library accepts by default (MessagePack bytes); see gdb_options. */
#define GDB_VALUE_MAX_DEFAULT (4u * 1024u * 1024u)
/* Longest node id, in bytes of UTF-8. A buffer of GDB_ID_BUFSZ holds any id and its NUL. */
#define GDB_ID_MAX 512
#define GDB_ID_BUFSZ (GDB_ID_MAX + 1)

/* Parses JSON text (any JSON value) into canonical MessagePack. Integers are exact up to 2^53;
 * larger ones and all fractions are doubles, as in JavaScript; an object of the single key
 * "$bin" with a base64 string is a binary blob. Duplicate keys, NaN, invalid UTF-8 and
 * trailing garbage are errors. *out: caller frees. */
int gdb_json_to_value(const char *json, size_t len, uint8_t **out, size_t *out_len);
/* Renders MessagePack as JSON text: canonical JSON (spec/SIGNING.md) when the buffer is in
 * canonical form. Blobs print as {"$bin":"<base64>"}. *out: NUL-terminated, caller frees. */
int gdb_value_to_json(const uint8_t *mp, size_t len, char **out, size_t *out_len);
/* Rewrites any MessagePack value into canonical form (keys sorted, numbers normalized). Fails
 * with GDB_EINVAL on types JSON cannot carry (non-string keys, extension types, NaN). */
int gdb_value_canonicalize(const uint8_t *mp, size_t len, uint8_t **out, size_t *out_len);
/* Canonical JSON of JSON text, exactly as spec/SIGNING.md. *out: caller frees. */
int gdb_canonical_json(const char *json, size_t len, char **out, size_t *out_len);

/* ───────────────────────────── clock ───────────────────────────── */

/* A Hybrid Logical Clock timestamp: physical milliseconds since the epoch and a logical
 * counter. The zero timestamp {0,0} means "none". */
typedef struct gdb_hlc {
  int64_t physical;
  int64_t logical;
} gdb_hlc;

/* -1, 0 or 1 as a orders before, equal to or after b (physical, then logical). */
int gdb_hlc_compare(gdb_hlc a, gdb_hlc b);

/* ─────────────────────────── database ─────────────────────────── */

typedef struct gdb gdb_t;

typedef enum gdb_durability {
  GDB_DURABILITY_ASYNC = 0, /* acknowledged in memory; on disk within save_delay_ms */
  GDB_DURABILITY_SYNC = 1,  /* acknowledged after the transaction holding it committed */
} gdb_durability;

typedef struct gdb_options {
  gdb_durability durability; /* default GDB_DURABILITY_ASYNC */
  int32_t save_delay_ms;     /* batch window of the store thread; default 200 */
  uint32_t oplog_size;       /* operations kept in the log; default 10,000 */
  int64_t max_drift_ms;      /* remote clocks may lead ours by this much; default 60,000 */
  uint32_t max_value_size;   /* bytes of MessagePack per value; default GDB_VALUE_MAX_DEFAULT */
  const char *peer_id;       /* origin of local operations; default: random, kept in the file */
} gdb_options;

/* Fills *opts with the defaults above. */
void gdb_options_init(gdb_options *opts);

/* Opens (creating if needed) the database at path, or a memory-only one when path is NULL or
 * ":memory:". opts may be NULL for defaults. A database already open in another process fails
 * with GDB_EBUSY and a message naming that process. *out: release with gdb_close(). */
int gdb_open(const char *path, const gdb_options *opts, gdb_t **out);
/* Flushes every acknowledged write to disk, stops the store thread and frees the handle. */
int gdb_close(gdb_t *db);
/* Blocks until everything acknowledged so far is committed to disk (no-op in memory). */
int gdb_flush(gdb_t *db);
/* The peer id this database signs its operations with as origin. Valid while db is open. */
const char *gdb_peer_id(const gdb_t *db);

typedef struct gdb_stats {
  uint64_t nodes;           /* live nodes */
  uint64_t tombstones;      /* removed nodes remembered for conflict resolution */
  uint64_t edges;           /* edges held (including those whose source is not live) */
  uint64_t oplog_len;       /* operations in the log */
  uint64_t store_pending;   /* mutations queued for the store thread */
  uint64_t store_commits;   /* transactions the store thread committed */
  uint64_t remote_applied;  /* remote operations that changed state */
  uint64_t remote_ignored;  /* remote operations that lost to newer state */
  uint64_t remote_rejected; /* remote operations refused (malformed, middleware, clock) */
} gdb_stats;
int gdb_get_stats(gdb_t *db, gdb_stats *out);

/* ───────────────────────────── graph ───────────────────────────── */

/* A node as read at one instant: immutable, reference counted, safe to keep and to read from
 * any thread. Release every node obtained from gdb_get() with gdb_node_release(). */
typedef struct gdb_node gdb_node;

/* Stores value (canonical or not; it is canonicalized) under id, or under the SHA-256 hex of
 * its canonical JSON when id is NULL, replacing the whole value of an existing node (its edges
 * stay). The value must be a map. out_id, when not NULL, receives the id (GDB_ID_BUFSZ). */
int gdb_put(gdb_t *db, const char *id, const uint8_t *value, size_t len, char *out_id);
/* gdb_put with a JSON text value. */
int gdb_put_json(gdb_t *db, const char *id, const char *json, size_t len, char *out_id);
/* The live node id, or GDB_ENOTFOUND. *out: release with gdb_node_release(). */
int gdb_get(gdb_t *db, const char *id, gdb_node **out);
/* Adds the edge source → target. Idempotent. The source must be a live node; the target need
 * not exist (yet). */
int gdb_link(gdb_t *db, const char *source, const char *target);
/* Removes the node and every edge from or to it, leaving a tombstone. GDB_ENOTFOUND if the
 * node is not live. */
int gdb_remove(gdb_t *db, const char *id);
/* Removes every node and edge (each becomes a tombstone, so peers converge on the removal). */
int gdb_clear(gdb_t *db);

const char *gdb_node_id(const gdb_node *n);
/* The value as canonical MessagePack; *len receives its size. */
const uint8_t *gdb_node_value(const gdb_node *n, size_t *len);
gdb_hlc gdb_node_timestamp(const gdb_node *n);
size_t gdb_node_edge_count(const gdb_node *n);
const char *gdb_node_edge(const gdb_node *n, size_t i);
/* {"id":…,"value":…,"edges":[…],"timestamp":{"physical":…,"logical":…}}. Caller frees. */
char *gdb_node_json(const gdb_node *n);
void gdb_node_retain(gdb_node *n);
void gdb_node_release(gdb_node *n);

/* Calls fn for each live node in insertion order until fn returns non-zero (which is then
 * returned). The nodes are a consistent snapshot; fn may retain them; fn must not write to db. */
typedef int (*gdb_node_fn)(gdb_node *n, void *data);
int gdb_foreach(gdb_t *db, gdb_node_fn fn, void *data);

/* ───────────────────────────── queries ───────────────────────────── */
/* (section owned by src/core/query*.c, index*.c, subscribe*.c; reference in docs/query.md)
 *
 * Options are JSON text:
 *   {"query": FILTER, "field": "a.b", "order": "asc"|"desc", "$limit": N,
 *    "$after": ID, "$before": ID, "realtime": true, "strictMode": false}
 * FILTER is a MongoDB-style object: {"type":"user","age":{"$gt":50}}, with $eq $ne $gt $gte
 * $lt $lte $in $nin $between $exists $type $text $like $ilike $regex(+$options) $startsWith
 * $endsWith $contains $all $size $elemMatch $and $or $not $nor $near $bbox $mod, and $edge
 * (with $depth) to select descendants of the matching nodes. Results are ordered by "field"
 * (ties by id) or, without it, by creation order; "$after"/"$before" are cursors (node ids in
 * that order). Malformed options fail with GDB_EQUERY and a message naming the problem (with a
 * "did you mean" for misspelt operators and options). */

/* The nodes a query matched, in order. */
typedef struct gdb_result gdb_result;

/* Runs a query (options NULL or "" for every node). *out: release with gdb_result_free(). */
int gdb_map(gdb_t *db, const char *options, gdb_result **out);
size_t gdb_result_len(const gdb_result *r);
/* The i-th node (borrowed: valid until gdb_result_free; retain it to keep it longer). */
gdb_node *gdb_result_at(const gdb_result *r, size_t i);
void gdb_result_free(gdb_result *r);

/* How the query would run and what running it did, as JSON: the access path of each stage
 * (scan, or which index and bounds), the order method, counts of nodes examined and returned,
 * and the time taken. *out: NUL-terminated, caller frees with gdb_free(). */
int gdb_explain(gdb_t *db, const char *options, char **out);

/* ── live subscriptions ──
 * A subscription delivers events to its callback:
 *   GDB_EVENT_INITIAL  once per matching node, in result order, before anything else;
 *   GDB_EVENT_ADDED    a node starts matching (or enters the $limit window);
 *   GDB_EVENT_UPDATED  a matching node changed (value or edges) and still matches;
 *   GDB_EVENT_REMOVED  a node stopped matching, was removed, or left the $limit window.
 * Local writes and gdb_apply_remote() notify alike. node is borrowed for the call (retain it
 * to keep it): the node's new state, or for REMOVED of a removed node its last state.
 *
 * Threads: events are delivered in commit order, one at a time per database, never with the
 * database lock held (callbacks may read and write the database). By default they run on the
 * thread whose call made the change (gdb_put, gdb_apply_remote, ..., or gdb_map_watch for
 * INITIAL), before that call returns; if another thread is delivering at that moment, that
 * thread delivers them, so the call may return first. After gdb_watch_fd() they run only
 * inside gdb_watch_dispatch(), on the caller's thread. */
typedef struct gdb_watch gdb_watch;

typedef enum gdb_event {
  GDB_EVENT_INITIAL = 1,
  GDB_EVENT_ADDED = 2,
  GDB_EVENT_UPDATED = 3,
  GDB_EVENT_REMOVED = 4,
} gdb_event;

typedef void (*gdb_watch_fn)(gdb_watch *w, gdb_event ev, gdb_node *node, void *data);

/* "initial", "added", "updated", "removed". Static storage. */
const char *gdb_event_name(gdb_event ev);
/* Subscribes to the results of a query. With "realtime": false only INITIAL events come. Work
 * per write is proportional to the change: the changed node is evaluated against the
 * subscription's compiled filter, $limit windows move incrementally; $edge subscriptions
 * re-run the traversal when the change touches the region it visited. *out: cancel with
 * gdb_watch_cancel(). */
int gdb_map_watch(gdb_t *db, const char *options, gdb_watch_fn fn, void *data, gdb_watch **out);
/* Follows one node: INITIAL if it exists, then ADDED / UPDATED / REMOVED. */
int gdb_get_watch(gdb_t *db, const char *id, gdb_watch_fn fn, void *data, gdb_watch **out);
/* Stops a subscription and frees it. No callback of w starts after this returns; called from
 * another thread while w's callback runs, it waits for that callback to return (called from
 * inside the callback, it does not wait). gdb_close() cancels every subscription left. */
void gdb_watch_cancel(gdb_watch *w);
/* Switches the database to polled delivery and returns a file descriptor (owned by the
 * database) that is readable while events wait; deliver them with gdb_watch_dispatch(). */
int gdb_watch_fd(gdb_t *db);
/* Delivers the events waiting, on the calling thread. Returns how many were delivered. */
int gdb_watch_dispatch(gdb_t *db);

/* ── indexes ──
 * Declared on a field (dot path); kept current by every write, local or remote; declarations
 * persist in the database file; after a reopen each is rebuilt when a query first needs it (so
 * opening costs nothing per index). The planner picks them;
 * gdb_explain() shows which. */
typedef enum gdb_index_kind {
  GDB_INDEX_EQ = 1,     /* equality and $in */
  GDB_INDEX_RANGE = 2,  /* equality, $in, ranges, and sort + $limit on the field */
  GDB_INDEX_TEXT = 3,   /* $text */
  GDB_INDEX_PREFIX = 4, /* $startsWith */
  GDB_INDEX_GEO = 5,    /* $near and $bbox on {lat, lng} values */
} gdb_index_kind;

/* "eq", "range", "text", "prefix", "geo" (NULL for an unknown kind). */
const char *gdb_index_kind_name(gdb_index_kind kind);
/* Parses a kind name; GDB_EQUERY naming the kinds (with a "did you mean") otherwise. */
int gdb_index_kind_parse(const char *name, gdb_index_kind *kind);
/* Declares an index and builds it (GDB_OK when it already exists). */
int gdb_index_create(gdb_t *db, const char *field, gdb_index_kind kind);
/* Drops an index (GDB_ENOTFOUND if there is none). */
int gdb_index_drop(gdb_t *db, const char *field, gdb_index_kind kind);
/* The declared indexes as a JSON array of {"field","kind","entries"}. *out: caller frees. */
int gdb_index_list(gdb_t *db, char **out);

/* A 32-byte SHA-256 over every node, tombstone and edge (ids, timestamps, values): two peers
 * hold the same state exactly when their hashes are equal. hex: 65 bytes. */
int gdb_state_hash(gdb_t *db, char hex[65]);

/* ───────────────────────── remote operations ───────────────────────── */

typedef enum gdb_op_type {
  GDB_OP_UPSERT = 1,
  GDB_OP_REMOVE = 2,
  GDB_OP_LINK = 3,
} gdb_op_type;

/* One graph operation as it travels between peers. Pointers are borrowed. */
typedef struct gdb_op {
  gdb_op_type type;
  const char *id;       /* upsert/remove: the node; link: the source */
  const char *target;   /* link: the target; otherwise NULL */
  const uint8_t *value; /* upsert: MessagePack value; otherwise NULL */
  size_t value_len;
  gdb_hlc timestamp;
  const char *origin;   /* the peer or signer that made it; breaks timestamp ties */
  const uint8_t *extra; /* MessagePack map of further fields (signature, ...) or NULL */
  size_t extra_len;
} gdb_op;

/* A batch of remote operations on its way through the middleware chain. */
typedef struct gdb_batch gdb_batch;
size_t gdb_batch_len(const gdb_batch *b);
/* The i-th operation; middleware may change its fields in place. Memory they point to must
 * outlive the batch: use gdb_batch_alloc(). */
gdb_op *gdb_batch_op(gdb_batch *b, size_t i);
/* Drops the i-th operation from the batch. */
void gdb_batch_drop(gdb_batch *b, size_t i);
bool gdb_batch_dropped(const gdb_batch *b, size_t i);
/* Memory that lives as long as the batch (zeroed). NULL on exhaustion. */
void *gdb_batch_alloc(gdb_batch *b, size_t size);

/* Middleware sees every remote batch before it is merged, in registration order. It may drop
 * or rewrite operations; returning non-zero, or dropping every operation, drops the batch. */
typedef int (*gdb_middleware_fn)(gdb_t *db, gdb_batch *batch, void *data);
int gdb_use(gdb_t *db, gdb_middleware_fn fn, void *data);

typedef struct gdb_apply_result {
  size_t applied;  /* changed the state */
  size_t ignored;  /* older than what is held (or already held) */
  size_t rejected; /* malformed, from too far in the future, or dropped by middleware */
} gdb_apply_result;

/* Merges operations made elsewhere: middleware, then last-write-wins by timestamp with a
 * deterministic tie-break (origin, then removal over upsert, then value bytes). result may be
 * NULL. */
int gdb_apply_remote(gdb_t *db, const gdb_op *ops, size_t n, gdb_apply_result *result);
/* The same with a JSON array of operations as printed by gdb_op_to_json(). */
int gdb_apply_remote_json(gdb_t *db, const char *json, size_t len, gdb_apply_result *result);
/* {"type":"upsert","id":…,"value":…,"timestamp":{…},"origin":…,…extra}. Caller frees. */
char *gdb_op_to_json(const gdb_op *op);

/* Calls fn for each logged operation that was logged after `after`, a reading of this
 * database's clock (see gdb_last_seen; {0,0} for all), oldest first. The log position orders
 * operations by when they reached this database, so one that arrived late is still "after".
 * The op and its pointers are valid during the call only; fn may call into db. */
typedef int (*gdb_op_fn)(const gdb_op *op, void *data);
int gdb_oplog_since(gdb_t *db, gdb_hlc after, gdb_op_fn fn, void *data);
/* True when the log still holds every operation after `after`, so a peer that has seen
 * everything up to `after` can catch up from the log alone. */
bool gdb_oplog_covers(gdb_t *db, gdb_hlc after);
/* This database's clock: the newest timestamp it has issued or seen. A peer that remembers
 * it at the end of a sync asks for gdb_oplog_since(that) next time. */
gdb_hlc gdb_last_seen(gdb_t *db);

/* ══════════════════ identities and signing (sm) ══════════════════ */
/* (section owned by src/sm) */

/* ══════════════════ WebRTC data channels (rtc) ══════════════════ */
/* (section owned by src/net/rtc) */

/* ══════════════════ Nostr signaling (nostr) ══════════════════ */
/* (section owned by src/net/nostr; protocol in docs/protocol/signaling.md, guide in docs/nostr.md)
 *
 * Threads: every callback of this section runs on the network thread (src/net/loop.h), one at a
 * time; callbacks must not block and must not call the *_free / *_stop / *_leave function of the
 * object that called them. Every other function may be called from any thread. */

/* A signed Nostr event (NIP-01): immutable, reference counted, safe to share between threads. */
typedef struct gdb_nostr_event gdb_nostr_event;

/* 32 random bytes that are a valid secp256k1 secret key (OpenSSL's RNG). */
int gdb_nostr_key_generate(uint8_t seckey[32]);
/* The x-only public key (BIP-340) of seckey as 64 lower-case hex digits + NUL. */
int gdb_nostr_key_pubkey(const uint8_t seckey[32], char pubkey_hex[65]);

/* Builds and signs an event: tags_json is a JSON array of arrays of strings (NULL for []),
 * content any UTF-8 text, created_at seconds since the epoch (0 for now).
 * *out: release with gdb_nostr_event_release(). */
int gdb_nostr_event_sign(const uint8_t seckey[32], int64_t created_at, int kind,
                         const char *tags_json, const char *content, gdb_nostr_event **out);
/* Parses an event object from JSON text; checks shape and types only (see _verify).
 * *out: release with gdb_nostr_event_release(). */
int gdb_nostr_event_parse(const char *json, size_t len, gdb_nostr_event **out);
/* GDB_OK when the id is the SHA-256 of the NIP-01 serialization and sig a valid BIP-340
 * signature of it by pubkey; GDB_EDENIED (message says which) otherwise. */
int gdb_nostr_event_verify(const gdb_nostr_event *ev);
/* The NIP-01 serialization [0,pubkey,created_at,kind,tags,content] whose SHA-256 is the id.
 * *out: NUL-terminated, caller frees with gdb_free(). */
int gdb_nostr_event_commitment(const gdb_nostr_event *ev, char **out, size_t *out_len);
/* The event as compact JSON (NIP-01 field order). Valid while ev is. */
const char *gdb_nostr_event_json(const gdb_nostr_event *ev);
const char *gdb_nostr_event_id(const gdb_nostr_event *ev);     /* 64 hex */
const char *gdb_nostr_event_pubkey(const gdb_nostr_event *ev); /* 64 hex */
const char *gdb_nostr_event_content(const gdb_nostr_event *ev);
int64_t gdb_nostr_event_created_at(const gdb_nostr_event *ev);
int gdb_nostr_event_kind(const gdb_nostr_event *ev);
/* Tags: count, length of tag i, and element j of tag i (NULL when out of range). */
size_t gdb_nostr_event_tag_count(const gdb_nostr_event *ev);
size_t gdb_nostr_event_tag_len(const gdb_nostr_event *ev, size_t i);
const char *gdb_nostr_event_tag(const gdb_nostr_event *ev, size_t i, size_t j);
/* Leading zero bits of the id (NIP-13 proof-of-work difficulty). */
int gdb_nostr_event_pow(const gdb_nostr_event *ev);
void gdb_nostr_event_retain(gdb_nostr_event *ev);
void gdb_nostr_event_release(gdb_nostr_event *ev);

/* A NIP-01 subscription filter ({"ids","authors","kinds","#x","since","until","limit"}). */
typedef struct gdb_nostr_filter gdb_nostr_filter;
/* Parses one filter object. *out: release with gdb_nostr_filter_free(). */
int gdb_nostr_filter_parse(const char *json, size_t len, gdb_nostr_filter **out);
/* True when ev passes every condition of f (limit is not a condition). */
bool gdb_nostr_filter_match(const gdb_nostr_filter *f, const gdb_nostr_event *ev);
/* The filter's limit, or -1 when it has none. */
int64_t gdb_nostr_filter_limit(const gdb_nostr_filter *f);
void gdb_nostr_filter_free(gdb_nostr_filter *f);

/* ── embedded relay ── */
typedef struct gdb_nostr_relay gdb_nostr_relay;

typedef struct gdb_nostr_relay_options {
  const char *bind;        /* address to listen on; default "127.0.0.1" */
  uint16_t port;           /* default 7447; 0 picks a free port (see _port) */
  const char *name;        /* NIP-11 name and the "relay" field of GET /; default "genosdb" */
  uint32_t max_message;    /* bytes of one incoming message; default 131072 */
  uint32_t max_subs;       /* subscriptions per connection; default 32 */
  uint32_t max_filters;    /* filters per REQ; default 16 */
  uint32_t events_per_sec; /* EVENTs per connection per second (burst 2x); default 200 */
  uint32_t store_max;      /* regular events kept in memory; default 10000 */
  uint32_t max_out_bytes;  /* queued output per connection before it is closed; default 16 MiB */
  int min_pow;             /* NIP-13 difficulty demanded of events; default 0 (none) */
} gdb_nostr_relay_options;

typedef struct gdb_nostr_relay_stats {
  uint64_t connections;     /* open WebSocket connections */
  uint64_t events;          /* events accepted (verified) */
  uint64_t stored;          /* events held in the window */
  uint64_t dropped;         /* messages or events refused, for any reason below */
  uint64_t dropped_invalid; /* bad JSON, bad shape, bad id or signature */
  uint64_t dropped_limit;   /* over size, rate, subscription or filter limits */
  uint64_t dropped_pow;     /* under the required proof of work */
  uint64_t delivered;       /* EVENT messages sent to subscribers */
} gdb_nostr_relay_stats;

void gdb_nostr_relay_options_init(gdb_nostr_relay_options *opts);
/* Starts listening on the network thread. opts may be NULL. *out: stop with _stop(). */
int gdb_nostr_relay_start(const gdb_nostr_relay_options *opts, gdb_nostr_relay **out);
/* The port actually listened on. */
uint16_t gdb_nostr_relay_port(const gdb_nostr_relay *r);
int gdb_nostr_relay_get_stats(gdb_nostr_relay *r, gdb_nostr_relay_stats *out);
/* The JSON GET / answers with. Caller frees with gdb_free(). */
char *gdb_nostr_relay_status_json(gdb_nostr_relay *r);
/* Closes every connection and frees the relay. */
void gdb_nostr_relay_stop(gdb_nostr_relay *r);

/* ── client: a pool of relays ── */
typedef struct gdb_nostr_pool gdb_nostr_pool;

typedef struct gdb_nostr_pool_options {
  uint32_t connect_timeout_ms; /* a relay not open by then is retried later; default 5000 */
  uint32_t backoff_min_ms;     /* first reconnect delay; default 500 */
  uint32_t backoff_max_ms;     /* cap of the doubling delay (plus up to 50% jitter); 30000 */
  uint32_t max_failures;       /* consecutive failures before a relay is dropped; default 8 */
  const char *ca_file;         /* PEM bundle for wss:// (default: the system's trust store) */
} gdb_nostr_pool_options;

typedef enum gdb_nostr_relay_state {
  GDB_NOSTR_CONNECTING = 0,
  GDB_NOSTR_OPEN = 1,
  GDB_NOSTR_BACKOFF = 2, /* waiting to reconnect */
  GDB_NOSTR_DROPPED = 3, /* given up on for this session (see reason) */
} gdb_nostr_relay_state;

typedef struct gdb_nostr_relay_health {
  char url[256];
  gdb_nostr_relay_state state;
  uint32_t connects;    /* successful opens */
  uint32_t failures;    /* failed or lost connections in all */
  uint32_t consecutive; /* failures since the last successful open */
  double latency_ms;    /* last connect-to-open time, or last OK round trip */
  uint64_t events_in;   /* verified events received */
  uint64_t rejected_in; /* events received that failed verification */
  char reason[128];     /* why it is dropped or why it last failed */
} gdb_nostr_relay_health;

/* Called for each verified event matching a subscription (once per event id, whichever relay
 * delivered it first). */
typedef void (*gdb_nostr_event_fn)(const gdb_nostr_event *ev, const char *relay, void *data);
/* Called once per relay when it has sent every stored event of a subscription. */
typedef void (*gdb_nostr_eose_fn)(const char *relay, void *data);
/* Called with the relay's OK answer to a publish (ok false: message says why). */
typedef void (*gdb_nostr_ok_fn)(const char *event_id, bool ok, const char *message,
                                const char *relay, void *data);

void gdb_nostr_pool_options_init(gdb_nostr_pool_options *opts);
/* Connects to every url (ws:// or wss://) in parallel; each is used as soon as it opens.
 * opts may be NULL. *out: free with gdb_nostr_pool_free(). */
int gdb_nostr_pool_new(const char *const *urls, size_t n, const gdb_nostr_pool_options *opts,
                       gdb_nostr_pool **out);
/* Sends ev to every open relay now and to the others when they open. ok may be NULL. */
int gdb_nostr_pool_publish(gdb_nostr_pool *p, gdb_nostr_event *ev, gdb_nostr_ok_fn ok, void *data);
/* Subscribes with a JSON array of filters on every relay (re-sent after each reconnect).
 * eose may be NULL. *sub_id receives a handle for _unsubscribe. */
int gdb_nostr_pool_subscribe(gdb_nostr_pool *p, const char *filters_json, gdb_nostr_event_fn fn,
                             gdb_nostr_eose_fn eose, void *data, uint64_t *sub_id);
int gdb_nostr_pool_unsubscribe(gdb_nostr_pool *p, uint64_t sub_id);
size_t gdb_nostr_pool_relay_count(gdb_nostr_pool *p);
int gdb_nostr_pool_health(gdb_nostr_pool *p, size_t i, gdb_nostr_relay_health *out);
/* Number of relays currently open. */
size_t gdb_nostr_pool_open_count(gdb_nostr_pool *p);
void gdb_nostr_pool_free(gdb_nostr_pool *p);

/* ── room signaling (docs/protocol/signaling.md) ──
 * Peers of (app_id, room_id) announce themselves and exchange opaque signals (WebRTC offers,
 * answers, candidates) addressed to one peer, sealed with AES-256-GCM when a password is set.
 * A peer id is the 64-hex Nostr public key of the session's random signaling key. */
typedef struct gdb_signal_room gdb_signal_room;

/* Callbacks may start before gdb_signal_room_join() returns: they get the room handle. */
typedef struct gdb_signal_callbacks {
  void (*peer_seen)(gdb_signal_room *room, const char *peer, void *data);
  void (*peer_lost)(gdb_signal_room *room, const char *peer, void *data);
  /* type: "offer", "answer", "candidate" or any other short word the sender chose. */
  void (*signal)(gdb_signal_room *room, const char *peer, const char *type, const char *payload,
                 void *data);
  void *data;
} gdb_signal_callbacks;

typedef struct gdb_signal_options {
  const char *const *relays; /* ws:// or wss:// URLs */
  size_t n_relays;
  const char *app_id;
  const char *room_id;
  const char *password;               /* NULL or "": payloads travel in clear */
  uint32_t announce_ms;               /* presence period; default 30000 */
  uint32_t peer_timeout_ms;           /* silence before peer_lost; default 3 x announce_ms */
  const gdb_nostr_pool_options *pool; /* NULL for defaults */
} gdb_signal_options;

typedef struct gdb_signal_stats {
  uint64_t sent, received; /* signaling events */
  uint64_t unreadable;     /* events of the room that failed to unseal or parse */
  uint64_t peers;          /* peers currently seen */
} gdb_signal_stats;

/* Joins the room: subscribes on every relay and announces presence now and every announce_ms.
 * *out: leave with gdb_signal_room_leave(). */
int gdb_signal_room_join(const gdb_signal_options *opts, const gdb_signal_callbacks *cbs,
                         gdb_signal_room **out);
/* This peer's id (64 hex). Valid while the room is. */
const char *gdb_signal_room_self(const gdb_signal_room *room);
/* Sends one signal of the given type to peer. */
int gdb_signal_room_send(gdb_signal_room *room, const char *peer, const char *type,
                         const char *payload);
int gdb_signal_room_get_stats(gdb_signal_room *room, gdb_signal_stats *out);
/* Says goodbye (peer:lost to the others), closes the relays and frees the room. */
void gdb_signal_room_leave(gdb_signal_room *room);

/* AES-256-GCM sealing under SHA-256("secret:appId:roomId"), as the signaling protocol uses it:
 * "gs1:" + base64(iv12 || ciphertext || tag16). Exposed for tests and other implementations.
 * *out: NUL-terminated, caller frees with gdb_free(). */
int gdb_signal_seal(const char *secret, const char *app_id, const char *room_id, const char *plain,
                    size_t len, char **out);
/* GDB_ECRYPTO when the text was not sealed under the same secret, app and room. */
int gdb_signal_unseal(const char *secret, const char *app_id, const char *room_id,
                      const char *sealed, char **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* GENOSDB_H */
