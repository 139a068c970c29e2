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
/* Writes a consistent copy of the database file to dest (which must not exist): every write
 * acknowledged before the call, with its timestamps, edges, operation log, indexes and peer
 * id — a faithful backup, unlike export (whose import makes new writes). Other threads may
 * keep writing meanwhile. Restore by opening the copy in place of the original; two live
 * peers must not share one copy's peer id. */
int gdb_backup(gdb_t *db, const char *dest);
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
/* What gdb_put(db, id, value, len, …) checks — the value (canonical form, a map, within this
 * database's max_value_size) and the id when not NULL — without storing anything: GDB_OK or
 * the error gdb_put would return, with the same message. For all-or-nothing loaders. */
int gdb_put_check(gdb_t *db, const char *id, const uint8_t *value, size_t len);
/* Whether id is a valid node id (1 to GDB_ID_MAX bytes of UTF-8): GDB_OK, or GDB_EINVAL /
 * GDB_ETOOBIG with a message. */
int gdb_id_check(const char *id);
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
/* (section owned by src/sm) Ethereum-style identities and the signed-operation format of
 * spec/SIGNING.md: any Ethereum wallet key is an identity, signatures verify across
 * implementations. docs/signing.md explains the API, docs/identity.md the identity file. */

/* Keccak-256 with the original Keccak padding (Ethereum's hash; not SHA3-256). */
void gdb_keccak256(const void *data, size_t len, uint8_t out[32]);

/* Text forms, NUL included. */
#define GDB_ADDRESS_BUFSZ 43    /* "0x" + 40 hex digits, EIP-55 mixed case */
#define GDB_SIGNATURE_BUFSZ 133 /* "0x" + r (64) + s (64) + v (2) hex digits */
#define GDB_PRIVKEY_BUFSZ 67    /* "0x" + 64 hex digits */

/* ── addresses ── */

/* Parses an address: "0x" + 40 hex digits, all lower case, all upper case, or mixed case with
 * a correct EIP-55 checksum. GDB_EINVAL otherwise, the message saying which rule failed.
 * raw may be NULL (validation only). */
int gdb_address_parse(const char *s, size_t len, uint8_t raw[20]);
/* The EIP-55 spelling of a 20-byte address. */
void gdb_address_format(const uint8_t raw[20], char out[GDB_ADDRESS_BUFSZ]);
/* The EIP-55 spelling of any accepted spelling (gdb_address_parse's rules). */
int gdb_address_normalize(const char *s, char out[GDB_ADDRESS_BUFSZ]);

/* ── recovery phrases (BIP-39, English list built into the library) ── */

/* A new phrase of 12 or 24 words from OpenSSL's CSPRNG. *out: release with gdb_secret_free(). */
int gdb_mnemonic_generate(int words, char **out);
/* Checks a phrase: 12, 15, 18, 21 or 24 words separated by white space, each in the list (case
 * does not matter), and the checksum. GDB_EINVAL names the first problem ("word 5 \"zooo\" is
 * not in the BIP-39 English list", "checksum does not match: a word is wrong or misplaced"). */
int gdb_mnemonic_check(const char *mnemonic);
/* The BIP-39 seed: PBKDF2-HMAC-SHA512(normalized phrase, "mnemonic" + passphrase, 2048 rounds).
 * passphrase may be NULL (""); it is NFKD-normalized. Checks the phrase first. */
int gdb_mnemonic_seed(const char *mnemonic, const char *passphrase, uint8_t seed[64]);
/* Wipes a NUL-terminated secret the library returned (phrases) and frees it. NULL is a no-op. */
void gdb_secret_free(char *secret);

/* ── identities ── */

/* A secp256k1 private key and its address. The key is wiped from memory by gdb_id_free().
 * Identities are immutable: one may sign from several threads at once. */
typedef struct gdb_identity gdb_identity;

/* The derivation path of the first Ethereum account (MetaMask, Ledger, ethers' default). */
#define GDB_HD_PATH_DEFAULT "m/44'/60'/0'/0/0"

/* A new identity with a key from OpenSSL's CSPRNG. *out: release with gdb_id_free(). */
int gdb_id_generate(gdb_identity **out);
/* The identity of a private key: "0x" + 64 hex digits (the "0x" may be omitted), a scalar in
 * [1, n-1]. *out: release with gdb_id_free(). */
int gdb_id_from_private_key(const char *hex, gdb_identity **out);
/* The identity a recovery phrase derives: BIP-39 seed (passphrase may be NULL), then BIP-32 at
 * path (NULL: GDB_HD_PATH_DEFAULT; "m/44'/60'/0'/0/7" for the eighth account).
 * *out: release with gdb_id_free(). */
int gdb_id_from_mnemonic(const char *mnemonic, const char *passphrase, const char *path,
                         gdb_identity **out);
/* Either of the above: text with white space is a phrase (default path, no passphrase),
 * anything else a private key. *out: release with gdb_id_free(). */
int gdb_id_from_secret(const char *key_or_mnemonic, gdb_identity **out);
/* The identity's EIP-55 address. Valid while id lives. */
const char *gdb_id_address(const gdb_identity *id);
/* Exports the private key as "0x" + 64 hex digits (wipe out after use). */
void gdb_id_private_key(const gdb_identity *id, char out[GDB_PRIVKEY_BUFSZ]);
/* Wipes the key and frees the identity. NULL is a no-op. */
void gdb_id_free(gdb_identity *id);

/* ── identity files (docs/identity.md): the key under a passphrase ── */

/* scrypt cost: N = 2^log2_n, block size r, parallelism p; memory is 128 * r * N bytes. */
typedef struct gdb_id_kdf {
  uint8_t log2_n;
  uint32_t r, p;
} gdb_id_kdf;
/* The default: N = 2^17, r = 8, p = 1 (128 MiB, about half a second here; docs/identity.md). */
#define GDB_ID_KDF_DEFAULT ((gdb_id_kdf){17, 8, 1})

/* Writes id to a new file at path (mode 0600), its key encrypted with AES-256-GCM under a key
 * scrypt derives from passphrase (kdf NULL: GDB_ID_KDF_DEFAULT). Never replaces a file:
 * GDB_EINVAL if path exists. */
int gdb_id_save(const gdb_identity *id, const char *path, const char *passphrase,
                const gdb_id_kdf *kdf);
/* Unlocks an identity file. Errors, each with its own message: GDB_ENOTFOUND (no file),
 * GDB_ECRYPTO (wrong passphrase), GDB_ECORRUPT (truncated, or modified since it was written),
 * GDB_EVERSION (a newer format), GDB_EINVAL (not an identity file). *out: gdb_id_free(). */
int gdb_id_load(const char *path, const char *passphrase, gdb_identity **out);

/* ── signatures (EIP-191 personal_sign) and verdicts ── */

/* Why a signature was refused. gdb_sm_reason_name() gives the reason of spec/SIGNING.md
 * ("missing-fields", "address-mismatch", "invalid-signature", and "stale" for envelopes);
 * gdb_sm_reason_detail() the specific cause ("signature-high-s", "address-checksum", ...). */
typedef enum gdb_sm_reason {
  GDB_SM_OK = 0,
  GDB_SM_MISSING_FIELDS,    /* missing-fields: signature, originUser or originEthAddress absent */
  GDB_SM_FIELD_TYPE,        /* missing-fields: one of them is not a string (at: not a number) */
  GDB_SM_ADDRESS_MISMATCH,  /* address-mismatch: originUser differs from originEthAddress */
  GDB_SM_ADDRESS_FORMAT,    /* address-mismatch: a claimed address is not 0x + 40 hex digits */
  GDB_SM_ADDRESS_CHECKSUM,  /* address-mismatch: mixed-case address with a wrong EIP-55 checksum */
  GDB_SM_SIGNER_MISMATCH,   /* invalid-signature: recovers an address other than the claimed */
  GDB_SM_SIG_LENGTH,        /* invalid-signature: not 0x + 130 hex digits long */
  GDB_SM_SIG_NOT_HEX,       /* invalid-signature: no 0x prefix, or a non-hex digit */
  GDB_SM_SIG_V,             /* invalid-signature: v is not 27 or 28 */
  GDB_SM_SIG_HIGH_S,        /* invalid-signature: s above n/2 (malleated; signers emit low s) */
  GDB_SM_SIG_RANGE,         /* invalid-signature: r or s is zero or not below the curve order */
  GDB_SM_SIG_UNRECOVERABLE, /* invalid-signature: no public key recovers from (r, s, v) */
  GDB_SM_STALE,             /* stale: an envelope's "at" is outside the freshness window */
} gdb_sm_reason;
const char *gdb_sm_reason_name(gdb_sm_reason r);
const char *gdb_sm_reason_detail(gdb_sm_reason r);

/* The outcome of a verification. signer is the recovered address (EIP-55) when ok, "" if not:
 * the verified signer is always the recovered key, never a claimed field. */
typedef struct gdb_sm_verdict {
  bool ok;
  gdb_sm_reason reason;
  char signer[GDB_ADDRESS_BUFSZ];
} gdb_sm_verdict;

/* personal_sign: secp256k1 ECDSA (RFC 6979, low s) over
 * Keccak-256("\x19Ethereum Signed Message:\n" + decimal length + msg), as 0x + r + s + v. */
int gdb_sm_sign_message(const gdb_identity *id, const void *msg, size_t len,
                        char sig[GDB_SIGNATURE_BUFSZ]);
/* Recovers the signer of sig (sig_len bytes of text) over msg into v. Returns GDB_OK whether
 * or not a signer was recovered (v says which and why). */
int gdb_sm_recover_message(const void *msg, size_t len, const char *sig, size_t sig_len,
                           gdb_sm_verdict *v);

/* ── signed operations (spec/SIGNING.md) ── */

/* Signs an operation given as a JSON object: sets originUser and originEthAddress to the
 * identity's address, signs the canonical JSON of everything but originEthAddress and
 * signature, adds signature. *out: canonical JSON of the signed operation; caller frees. */
int gdb_sm_sign_op_json(const gdb_identity *id, const char *json, size_t len, char **out,
                        size_t *out_len);
/* Verifies a signed operation given as JSON. GDB_OK when a verdict was reached (v->ok says
 * which); GDB_EINVAL only when the text is not a JSON object. */
int gdb_sm_verify_op_json(const char *json, size_t len, gdb_sm_verdict *v);
/* The exact bytes a JSON operation's signature covers, with originUser set to origin_user
 * (NULL: as written in the operation). *out: caller frees. */
int gdb_sm_op_message_json(const char *json, size_t len, const char *origin_user, char **out,
                           size_t *out_len);

/* The same for a structured operation, whose signed form is that of its JSON form as
 * gdb_op_to_json() prints it: "type" ("upsert", "remove", "link"), "id" (upsert, remove) or
 * "sourceId" and "targetId" (link), "value" when op->value is set, "timestamp":
 * {"logical", "physical"}, "origin" when op->origin is set and not empty, and every entry of
 * op->extra (an entry that would repeat one of those fields is an error). So the message of
 * op equals gdb_sm_op_message_json() of gdb_op_to_json(op), and the signature covers origin:
 * a layer that signs local operations sets origin to the signer's address (or leaves it empty)
 * before signing, and no peer can change it in transit. */
int gdb_sm_op_message(const gdb_op *op, const char *origin_user, char **out, size_t *out_len);
/* Signs op: *extra receives op->extra (any originUser, originEthAddress, signature replaced)
 * plus originUser, originEthAddress and signature, as a canonical MessagePack map to use as
 * the signed op's extra. Caller frees *extra. */
int gdb_sm_sign_op(const gdb_identity *id, const gdb_op *op, uint8_t **extra, size_t *extra_len);
/* Verifies op from the originUser, originEthAddress and signature in op->extra. GDB_OK when a
 * verdict was reached; GDB_EINVAL if op->extra or op->value is not MessagePack. */
int gdb_sm_verify_op(const gdb_op *op, gdb_sm_verdict *v);
/* Verifies n operations into verdicts[n] on up to `threads` threads (<= 1: the caller's only),
 * for the sync path. Returns the first error of gdb_sm_verify_op (its verdict is not ok). */
int gdb_sm_verify_ops(const gdb_op *ops, size_t n, gdb_sm_verdict *verdicts, int threads);

/* ── signed envelopes (application messages) ── */

/* The default freshness window of a receiver: |now - at| <= 60 s. */
#define GDB_SM_ENVELOPE_MAX_AGE_MS 60000
/* {"at":at_ms,"from":ADDRESS,"kind":kind,"signature":S,"value":VALUE} in canonical JSON, S
 * signing the canonical JSON of {at, from, kind, value}. value_json: any JSON value.
 * *out: caller frees. */
int gdb_sm_envelope_sign(const gdb_identity *id, const char *kind, int64_t at_ms,
                         const char *value_json, size_t len, char **out, size_t *out_len);
/* Accepts an envelope when its signature recovers "from" and |now_ms - at| <= max_age_ms.
 * GDB_OK when a verdict was reached; GDB_EINVAL when the text is not a JSON object. */
int gdb_sm_envelope_verify(const char *json, size_t len, int64_t now_ms, int64_t max_age_ms,
                           gdb_sm_verdict *v);

/* ── sealed values: readable only by their owner ── */

typedef enum gdb_seal_state {
  GDB_SEAL_OPENED = 0, /* a value sealed by this identity: *out is the value inside */
  GDB_SEAL_PLAIN,      /* not a sealed wrapper: *out is a copy of the input */
  GDB_SEAL_FOREIGN,    /* sealed for another owner: *out is a copy of the wrapper, unopened */
  GDB_SEAL_UNREADABLE, /* owned by this address but it does not open (modified, or another
                        * key or format version): *out is a copy of the wrapper */
} gdb_seal_state;

/* Seals a value (canonical or not MessagePack) for this identity:
 * {"_sealed":1,"owner":ADDRESS,"payload":BASE64} as canonical MessagePack, the payload being
 * AES-256-GCM (random nonce) of the value's canonical JSON under a key HKDF-SHA256 derives from
 * the private key. *out: caller frees. */
int gdb_sm_seal(const gdb_identity *id, const uint8_t *value, size_t len, uint8_t **out,
                size_t *out_len);
/* Opens a value if this identity sealed it; any other value comes back unchanged, *state
 * saying why (never an error that tells anything about someone else's value). *out: caller
 * frees. */
int gdb_sm_open(const gdb_identity *id, const uint8_t *value, size_t len, uint8_t **out,
                size_t *out_len, gdb_seal_state *state);
/* The same with JSON text in and canonical JSON out. */
int gdb_sm_seal_json(const gdb_identity *id, const char *json, size_t len, char **out,
                     size_t *out_len);
int gdb_sm_open_json(const gdb_identity *id, const char *json, size_t len, char **out,
                     size_t *out_len, gdb_seal_state *state);

/* ══════════════════ WebRTC data channels (rtc) ══════════════════ */
/* (section owned by src/net/rtc) */
/*
 * Peer connections carrying data channels, interoperable with browsers (ICE by libnice, DTLS 1.2
 * by OpenSSL, SCTP by usrsctp, channel setup by DCEP, RFC 8832). The layer knows nothing of
 * the database. docs/rtc.md describes it in full.
 *
 * Threads: all network work runs on the process-wide network thread. Every function below may
 * be called from any thread; each callback arrives on the network thread, one at a time, and
 * must not block. gdb_rtc_peer_free() is the one call a callback must not make.
 */
typedef struct gdb_rtc_peer gdb_rtc_peer;
typedef struct gdb_rtc_channel gdb_rtc_channel;

typedef enum gdb_rtc_state {
  GDB_RTC_NEW = 0,          /* created, no remote description yet */
  GDB_RTC_CONNECTING = 1,   /* ICE checks, DTLS handshake, SCTP association under way */
  GDB_RTC_CONNECTED = 2,    /* SCTP association up: channels can carry messages */
  GDB_RTC_DISCONNECTED = 3, /* nothing heard from the peer for half the consent timeout */
  GDB_RTC_FAILED = 4,       /* ICE failed, DTLS failed (fingerprint), consent lost: final */
  GDB_RTC_CLOSED = 5,       /* closed by either side: final */
} gdb_rtc_state;
/* "new", "connecting", ... Static storage. */
const char *gdb_rtc_state_name(gdb_rtc_state s);

/* One STUN or TURN server, as RTCIceServer in the browser API: urls holds one or more URLs
 * separated by spaces ("stun:HOST[:PORT]", "turn:HOST[:PORT][?transport=udp|tcp]",
 * "turns:HOST[:PORT]"); username and credential are for TURN. */
typedef struct gdb_rtc_ice_server {
  const char *urls;
  const char *username;
  const char *credential;
} gdb_rtc_ice_server;

typedef struct gdb_rtc_peer_callbacks {
  /* A local ICE candidate ("candidate:…" as in RTCIceCandidate.candidate) to trickle to the
   * remote side with its mid; candidate NULL once gathering is complete. */
  void (*on_candidate)(gdb_rtc_peer *p, const char *candidate, const char *mid, void *data);
  /* The connection state changed. */
  void (*on_state)(gdb_rtc_peer *p, gdb_rtc_state state, void *data);
  /* The remote side opened a channel. Set its callbacks (gdb_rtc_channel_set_callbacks) inside
   * this callback so no message is missed. The channel belongs to the peer. */
  void (*on_channel)(gdb_rtc_peer *p, gdb_rtc_channel *ch, void *data);
  void *data;
} gdb_rtc_peer_callbacks;

typedef struct gdb_rtc_config {
  const gdb_rtc_ice_server *ice_servers; /* STUN/TURN servers; none by default */
  size_t ice_server_count;
  bool relay_only;                       /* iceTransportPolicy "relay": TURN candidates only */
  const char *const *bind_addresses;     /* gather host candidates on these addresses only */
  size_t bind_address_count;             /* (0: every interface) */
  uint16_t port_min, port_max;           /* local UDP port range; 0,0: any */
  uint32_t max_message_size;  /* largest message accepted, advertised in the SDP; 262144 */
  uint32_t consent_timeout_ms; /* silence from the peer this long fails the connection (half of
                                  it reports DISCONNECTED); default 10000, minimum 1000 */
  uint16_t mtu;               /* bytes of SCTP packet per DTLS record; default 1200 */
  uint32_t close_linger_ms;   /* gdb_rtc_peer_free waits this long for queued data; 2000 */
  gdb_rtc_peer_callbacks cb;
} gdb_rtc_config;

/* Fills *c with the defaults above. */
void gdb_rtc_config_init(gdb_rtc_config *c);

/* Creates a peer connection (its certificate and ICE agent) and starts the network thread if
 * needed. The config is copied. *out: release with gdb_rtc_peer_free(). */
int gdb_rtc_peer_new(const gdb_rtc_config *c, gdb_rtc_peer **out);
/* Makes this side the offerer and returns the offer. Candidates gathered so far are included;
 * the rest arrive through on_candidate (or wait for gathering and use
 * gdb_rtc_peer_local_description). *sdp: caller frees with gdb_free(). */
int gdb_rtc_peer_create_offer(gdb_rtc_peer *p, char **sdp);
/* Returns the answer to the remote offer set before. *sdp: caller frees. */
int gdb_rtc_peer_create_answer(gdb_rtc_peer *p, char **sdp);
/* Sets the remote "offer" or "answer". Its candidates are added; a=end-of-candidates ends
 * them. Malformed SDP, or SDP without a data channel section, fails with GDB_EINVAL. */
int gdb_rtc_peer_set_remote_description(gdb_rtc_peer *p, const char *type, const char *sdp);
/* Adds one trickled remote candidate ("candidate:…" or "a=candidate:…"); NULL or "" says the
 * remote side has no more. mid may be NULL. */
int gdb_rtc_peer_add_remote_candidate(gdb_rtc_peer *p, const char *candidate, const char *mid);
/* The current local description (offer or answer) with every candidate gathered so far, and
 * a=end-of-candidates once gathering is complete (non-trickle signaling). *sdp: caller frees. */
int gdb_rtc_peer_local_description(gdb_rtc_peer *p, char **sdp);
/* True once local candidate gathering is complete. */
bool gdb_rtc_peer_gathering_done(gdb_rtc_peer *p);
gdb_rtc_state gdb_rtc_peer_state(gdb_rtc_peer *p);

typedef struct gdb_rtc_peer_info {
  gdb_rtc_state state;
  char local_candidate_type[8];  /* "host", "srflx", "prflx", "relay" or "" before selection */
  char remote_candidate_type[8];
  char local_address[64];        /* "IP:PORT" of the selected pair */
  char remote_address[64];
  bool dtls_client;              /* this side's DTLS role */
  uint32_t remote_max_message_size;
  uint64_t bytes_sent, bytes_received; /* UDP payload bytes through the selected pair */
  char reason[200]; /* why the connection failed or was closed by the peer; "" otherwise */
} gdb_rtc_peer_info;
int gdb_rtc_peer_get_info(gdb_rtc_peer *p, gdb_rtc_peer_info *out);

/* Closes the connection: every channel reports on_close, the state becomes CLOSED, and no
 * callback of this peer runs after the call returns (unless made from a callback, where the
 * remaining callbacks of the current event are dropped). Data already accepted by send keeps
 * flowing for up to close_linger_ms before the SCTP association shuts down. */
void gdb_rtc_peer_close(gdb_rtc_peer *p);
/* Closes (if needed) and frees the peer and its channels, waiting up to close_linger_ms for
 * queued data. Not from a callback (network thread). NULL is a no-op. */
void gdb_rtc_peer_free(gdb_rtc_peer *p);

typedef struct gdb_rtc_channel_options {
  bool unordered;             /* default false: ordered */
  int32_t max_retransmits;    /* partial reliability by retransmissions; -1: reliable */
  int32_t max_packet_life_ms; /* partial reliability by lifetime; -1: reliable */
  bool negotiated;            /* pre-agreed by both sides on stream `id`: no DCEP */
  uint16_t id;
  const char *protocol;       /* subprotocol name; default "" */
  uint16_t priority;          /* DCEP priority; default 256 */
} gdb_rtc_channel_options;
void gdb_rtc_channel_options_init(gdb_rtc_channel_options *o);

typedef struct gdb_rtc_channel_callbacks {
  void (*on_open)(gdb_rtc_channel *ch, void *data);
  /* One whole message; msg is valid during the call only. binary: sent as binary (PPID 53/57)
   * rather than text (51/56). */
  void (*on_message)(gdb_rtc_channel *ch, const uint8_t *msg, size_t len, bool binary,
                     void *data);
  /* The buffered amount fell to (or below) the low-water threshold. */
  void (*on_buffered_low)(gdb_rtc_channel *ch, void *data);
  void (*on_close)(gdb_rtc_channel *ch, void *data);
  void *data;
} gdb_rtc_channel_callbacks;

/* Creates a channel. Before the connection is up it waits and opens once it is (stream id by
 * DTLS role, even for the DTLS client); negotiated channels use opts->id on both sides. opts
 * and cb may be NULL. *out belongs to the peer (valid until gdb_rtc_peer_free). */
int gdb_rtc_channel_open(gdb_rtc_peer *p, const char *label, const gdb_rtc_channel_options *opts,
                         const gdb_rtc_channel_callbacks *cb, gdb_rtc_channel **out);
void gdb_rtc_channel_set_callbacks(gdb_rtc_channel *ch, const gdb_rtc_channel_callbacks *cb);
/* Queues one message (copied). Fails with GDB_ESTATE when the channel is not open,
 * GDB_ETOOBIG above the remote max-message-size. Messages queue without limit: watch
 * gdb_rtc_channel_buffered_amount and the low-water callback. */
int gdb_rtc_channel_send(gdb_rtc_channel *ch, const void *msg, size_t len, bool binary);
/* Bytes accepted by send and not yet handed to SCTP. */
size_t gdb_rtc_channel_buffered_amount(gdb_rtc_channel *ch);
/* on_buffered_low fires when the buffered amount falls to this many bytes; default 0. */
void gdb_rtc_channel_set_buffered_low_threshold(gdb_rtc_channel *ch, size_t bytes);
/* Starts closing (stream reset); on_close follows on both sides. */
void gdb_rtc_channel_close(gdb_rtc_channel *ch);
bool gdb_rtc_channel_is_open(gdb_rtc_channel *ch);
/* Stream id, or -1 while not yet assigned. */
int gdb_rtc_channel_id(gdb_rtc_channel *ch);
const char *gdb_rtc_channel_label(gdb_rtc_channel *ch);
const char *gdb_rtc_channel_protocol(gdb_rtc_channel *ch);
gdb_rtc_peer *gdb_rtc_channel_peer(gdb_rtc_channel *ch);

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
  uint32_t verify_threads; /* threads parsing and verifying EVENTs; default one per core (at
                              most 8); 0 verifies on the network thread */
  uint32_t seen_max;       /* verified events remembered, so a repeat skips the signature
                              check; default 32768 (128 bytes each); 0: none */
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
  uint64_t verify_skipped;  /* events whose signature was known valid (seen before) */
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
