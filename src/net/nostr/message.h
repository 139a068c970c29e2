/*
 * message.h — the NIP-01 wire messages, both directions: client to relay
 * ["EVENT",ev] ["REQ",sub,filter...] ["CLOSE",sub], relay to client ["EVENT",sub,ev]
 * ["OK",id,bool,msg] ["EOSE",sub] ["NOTICE",msg] ["CLOSED",sub,msg]. One parser for every
 * message a relay or a client receives (the fuzzed entry point), and the encoders.
 */
#ifndef GDB_NOSTR_MESSAGE_H
#define GDB_NOSTR_MESSAGE_H

#include "core/buf.h"
#include "genosdb.h"

typedef enum gdb_nostr_msg_type {
  GDB_NMSG_EVENT = 1,
  GDB_NMSG_REQ,
  GDB_NMSG_CLOSE,
  GDB_NMSG_OK,
  GDB_NMSG_EOSE,
  GDB_NMSG_NOTICE,
  GDB_NMSG_CLOSED,
} gdb_nostr_msg_type;

typedef enum gdb_nostr_msg_dir {
  GDB_NMSG_TO_RELAY = 0,  /* what a relay receives */
  GDB_NMSG_TO_CLIENT = 1, /* what a client receives */
} gdb_nostr_msg_dir;

#define GDB_NOSTR_SUBID_MAX 64

typedef struct gdb_nostr_msg {
  gdb_nostr_msg_type type;
  char sub_id[GDB_NOSTR_SUBID_MAX + 1]; /* REQ, CLOSE, EVENT (to client), EOSE, CLOSED */
  gdb_nostr_event *event;               /* EVENT (owned) */
  gdb_nostr_filter **filters;           /* REQ (owned) */
  size_t n_filters;
  char event_id[65]; /* OK */
  bool ok;           /* OK */
  char *message;     /* OK, NOTICE, CLOSED (owned) */
} gdb_nostr_msg;

/* Parses one message. On failure the message says what was wrong, and out->type and
 * out->sub_id are set when they could be read (so a relay can answer CLOSED to the right
 * subscription). max_filters bounds REQ (GDB_ETOOBIG past it). Always call _clear after. */
int gdb_nostr_msg_parse(const char *s, size_t n, gdb_nostr_msg_dir dir, size_t max_filters,
                        gdb_nostr_msg *out);
void gdb_nostr_msg_clear(gdb_nostr_msg *m);

/* Encoders (append to b). */
void gdb_nostr_msg_notice(gdb_buf *b, const char *msg);
void gdb_nostr_msg_ok(gdb_buf *b, const char *event_id, bool ok, const char *msg);
void gdb_nostr_msg_closed(gdb_buf *b, const char *sub_id, const char *msg);
void gdb_nostr_msg_eose(gdb_buf *b, const char *sub_id);
/* ["EVENT",sub_id,<event json>] (to client) or ["EVENT",<event json>] when sub_id is NULL. */
void gdb_nostr_msg_event(gdb_buf *b, const char *sub_id, const gdb_nostr_event *ev);

#endif
