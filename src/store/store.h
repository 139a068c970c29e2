/*
 * store.h — persistence in SQLite (WAL), written by one background thread.
 *
 * The database queues every change (node records, edges, logged operations) here while it
 * holds its own lock; the store thread takes the whole queue at once and writes it in one
 * transaction, save_delay after the first change arrived, or at once when someone waits for
 * durability (gdb_store_wait: group commit) or the queue is long. A failed transaction keeps
 * its batch and is retried; while it fails, gdb_store_error() reports why.
 *
 * The file format is docs/storage.md (schema version GDB_STORE_SCHEMA).
 */
#ifndef GDB_STORE_STORE_H
#define GDB_STORE_STORE_H

#include "core/node.h"
#include "core/oplog.h"
#include "genosdb.h"

#define GDB_STORE_SCHEMA 1
#define GDB_STORE_APP_ID 0x47444231 /* "GDB1" in the SQLite header's application_id */

typedef struct gdb_store gdb_store;

/* What the store keeps besides records: written with every batch. */
typedef struct gdb_store_meta {
  char peer_id[65];
  gdb_hlc clock;   /* newest clock reading */
  gdb_hlc evicted; /* newest oplog position dropped */
  uint64_t op_seq; /* last oplog sequence number */
} gdb_store_meta;

/* Receives the stored state at open. Each callback returns GDB_OK or an error that aborts. */
typedef struct gdb_store_loader {
  void *ctx;
  int (*expect)(void *ctx, uint64_t records); /* an upper bound on the records coming */
  int (*node)(void *ctx, gdb_node *n); /* adopts n; records arrive in creation order */
  int (*edge)(void *ctx, const char *src, size_t slen, const char *dst, size_t dlen, gdb_hlc ts);
  int (*op)(void *ctx, gdb_oprec *r); /* adopts r; the newest `oplog_cap`, oldest first */
} gdb_store_loader;

/* Opens (creating) the file at path, takes its writer lock, checks the schema. Fills *meta
 * (peer_id empty for a new file). */
int gdb_store_open(const char *path, const gdb_options *opts, gdb_store **out,
                   gdb_store_meta *meta);
/* Streams the stored state into the loader; then starts the writer thread. */
int gdb_store_load(gdb_store *s, uint32_t oplog_cap, const gdb_store_loader *loader);
/* Flushes, stops the thread, closes the file and releases the lock. Returns the first error
 * that kept acknowledged changes from disk, if any. */
int gdb_store_close(gdb_store *s);

/* Queue changes (thread-safe; the store takes its own references). Each returns the change's
 * sequence number for gdb_store_wait(); 0 on allocation failure (GDB_ENOMEM set). */
uint64_t gdb_store_node(gdb_store *s, gdb_node *n);
uint64_t gdb_store_edge_set(gdb_store *s, gdb_node *src, gdb_rstr *dst, gdb_hlc ts);
uint64_t gdb_store_edge_del(gdb_store *s, gdb_node *src, gdb_rstr *dst);
uint64_t gdb_store_op(gdb_store *s, gdb_oprec *r);
/* Records that an index on field of kind (its name, "range", ...) is declared or dropped. */
uint64_t gdb_store_index(gdb_store *s, const char *field, const char *kind, bool declared);
/* The index declarations read at load: n (field, kind) pairs as pairs[2i], pairs[2i+1]. Valid
 * until gdb_store_close(). */
size_t gdb_store_indexes(const gdb_store *s, const char *const **pairs);
/* Sets the metadata the next batch writes. */
void gdb_store_set_meta(gdb_store *s, const gdb_store_meta *meta);

/* Copies the committed state into a new file at dest (which must not exist) through SQLite's
 * online backup on a second, read-only connection: a consistent snapshot while the writer
 * thread goes on. Written to dest.tmp, synced, then renamed into place. */
int gdb_store_backup(gdb_store *s, const char *dest);
/* Blocks until the change numbered seq (and all before it) is committed. */
int gdb_store_wait(gdb_store *s, uint64_t seq);
/* The sequence number of the newest queued change. */
uint64_t gdb_store_last_seq(gdb_store *s);
/* GDB_OK, or the error the last transaction failed with (message in *msg, static until the
 * next batch). */
int gdb_store_error(gdb_store *s, const char **msg);
/* Changes queued and transactions committed (for statistics). */
void gdb_store_counters(gdb_store *s, uint64_t *pending, uint64_t *commits);

/* The writer lock: a file beside the database holding the holder's pid and program. */
int gdb_lockfile_acquire(const char *db_path, int *fd_out);
void gdb_lockfile_release(int fd, const char *db_path);

#endif
