/*
 * dcep.h — the Data Channel Establishment Protocol (RFC 8832): the DATA_CHANNEL_OPEN message
 * that announces a channel's label, protocol and reliability, and the one-byte
 * DATA_CHANNEL_ACK. Messages travel with SCTP PPID 50 on the channel's stream.
 */
#ifndef GDB_RTC_DCEP_H
#define GDB_RTC_DCEP_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  GDB_DCEP_ACK = 0x02,
  GDB_DCEP_OPEN = 0x03,
};

/* Channel types (RFC 8832 §5.1). */
enum {
  GDB_DCEP_RELIABLE = 0x00,
  GDB_DCEP_PARTIAL_RELIABLE_REXMIT = 0x01,
  GDB_DCEP_PARTIAL_RELIABLE_TIMED = 0x02,
  GDB_DCEP_UNORDERED_FLAG = 0x80,
};

/* SCTP payload protocol identifiers (RFC 8831 §8). */
enum {
  GDB_PPID_DCEP = 50,
  GDB_PPID_STRING = 51,
  GDB_PPID_BINARY = 53,
  GDB_PPID_STRING_EMPTY = 56,
  GDB_PPID_BINARY_EMPTY = 57,
};

typedef struct gdb_dcep_open {
  uint8_t channel_type;
  uint16_t priority;
  uint32_t reliability;
  const uint8_t *label; /* borrowed from the decoded message */
  size_t label_len;
  const uint8_t *protocol;
  size_t protocol_len;
} gdb_dcep_open;

/* The message type of a DCEP message (first byte), or -1 when empty. */
int gdb_dcep_type(const uint8_t *msg, size_t len);
/* Decodes a DATA_CHANNEL_OPEN; GDB_EPROTO with a message when malformed. */
int gdb_dcep_decode_open(const uint8_t *msg, size_t len, gdb_dcep_open *out);
/* Appends a DATA_CHANNEL_OPEN to b. */
void gdb_dcep_encode_open(gdb_buf *b, const gdb_dcep_open *o);

#endif
