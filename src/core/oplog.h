/*
 * oplog.h — operation records and the capped operation log.
 *
 * Every operation that changed the state (local, or remote and accepted) is logged with its
 * position: the reading of this database's clock when it was logged. Clock readings strictly
 * increase, so positions order the log and a peer that remembers our clock at its last sync
 * can ask for "everything logged after T", which includes old operations that reached us late
 * (a test on operation timestamps would miss those).
 *
 * The log keeps the newest `cap` records. `evicted` is the newest position ever dropped: the
 * log covers T exactly when evicted <= T.
 */
#ifndef GDB_CORE_OPLOG_H
#define GDB_CORE_OPLOG_H

#include "core/buf.h"
#include "core/node.h"

typedef struct gdb_oprec {
  atomic_uint refs;
  uint8_t type; /* gdb_op_type */
  uint16_t id_len, target_len, origin_len;
  uint32_t extra_len;
  uint64_t seq;  /* log sequence number (store key) */
  gdb_hlc ts;    /* the operation's timestamp */
  gdb_hlc pos;   /* the clock reading when it was logged */
  gdb_node *node; /* upserts: the snapshot holding id, value, origin and extra */
  char data[];    /* other types: id \0 target \0 origin \0 extra */
} gdb_oprec;

/* A record of op. For upserts pass the node snapshot the op produced (referenced, not copied);
 * for other types node is NULL and the fields are copied. */
gdb_oprec *gdb_oprec_new(const gdb_op *op, gdb_node *node, gdb_hlc pos, uint64_t seq);
void gdb_oprec_unref(gdb_oprec *r);
static inline gdb_oprec *gdb_oprec_ref(gdb_oprec *r) {
  atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
  return r;
}
/* A view of the record (pointers into it). */
void gdb_oprec_view(const gdb_oprec *r, gdb_op *out);

/* MessagePack [type, id, target, value, ts_p, ts_l, origin, extra, pos_p, pos_l] for the store. */
int gdb_oprec_encode(const gdb_oprec *r, gdb_buf *out);
/* Decodes a stored record (validating it); NULL with GDB_ECORRUPT set on bad bytes. */
gdb_oprec *gdb_oprec_decode(const uint8_t *p, size_t len, uint64_t seq);

typedef struct gdb_oplog {
  gdb_oprec **ring;
  uint32_t cap, head, len; /* head: index of the oldest record */
  gdb_hlc evicted;         /* newest position dropped from the log */
} gdb_oplog;

int gdb_oplog_init(gdb_oplog *l, uint32_t cap);
void gdb_oplog_free(gdb_oplog *l);
/* Appends r (the log takes the caller's reference). Returns the record pushed out, if any
 * (the caller releases it). */
gdb_oprec *gdb_oplog_append(gdb_oplog *l, gdb_oprec *r);
/* The i-th record from the oldest. */
static inline gdb_oprec *gdb_oplog_at(const gdb_oplog *l, uint32_t i) {
  return l->ring[(l->head + i) % l->cap];
}
/* Index of the first record logged after `after` (len when none). */
uint32_t gdb_oplog_first_after(const gdb_oplog *l, gdb_hlc after);

/* JSON for operations: {"type":"upsert","id":…,"value":…,"timestamp":{…},"origin":…, extra…}
 * (links: "sourceId"/"targetId"). */
int gdb_op_write_json(gdb_buf *out, const gdb_op *op);
/* Parses one JSON operation into op; strings and buffers are allocated with alloc(ctx, n). */
int gdb_op_from_json(const char *json, size_t len, gdb_op *op,
                     void *(*alloc)(void *ctx, size_t n), void *ctx);
/* The same from a parsed jansson object. */
struct json_t;
int gdb_op_from_jansson(const struct json_t *j, gdb_op *op, void *(*alloc)(void *ctx, size_t n),
                        void *ctx);

#endif
