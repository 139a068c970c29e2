/*
 * dcep.c — encoding and decoding of DCEP messages (RFC 8832). See dcep.h.
 *
 * DATA_CHANNEL_OPEN layout, network byte order:
 *   type(1)=0x03 channel_type(1) priority(2) reliability(4) label_len(2) protocol_len(2)
 *   label protocol
 */
#include "net/rtc/dcep.h"

#include "core/error.h"

int gdb_dcep_type(const uint8_t *msg, size_t len) { return len ? msg[0] : -1; }

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int gdb_dcep_decode_open(const uint8_t *msg, size_t len, gdb_dcep_open *out) {
  if (len < 12 || msg[0] != GDB_DCEP_OPEN)
    return gdb_fail(GDB_EPROTO,
                    "DCEP: DATA_CHANNEL_OPEN is %zu bytes, shorter than its 12-byte "
                    "header",
                    len);
  uint8_t type = msg[1];
  uint8_t base = type & (uint8_t)~GDB_DCEP_UNORDERED_FLAG;
  if (base != GDB_DCEP_RELIABLE && base != GDB_DCEP_PARTIAL_RELIABLE_REXMIT &&
      base != GDB_DCEP_PARTIAL_RELIABLE_TIMED)
    return gdb_fail(GDB_EPROTO, "DCEP: unknown channel type 0x%02x", type);
  size_t label_len = be16(msg + 8), proto_len = be16(msg + 10);
  if (12 + label_len + proto_len != len)
    return gdb_fail(GDB_EPROTO,
                    "DCEP: DATA_CHANNEL_OPEN is %zu bytes but announces %zu of label and "
                    "protocol after its header",
                    len, label_len + proto_len);
  out->channel_type = type;
  out->priority = be16(msg + 2);
  out->reliability = be32(msg + 4);
  out->label = msg + 12;
  out->label_len = label_len;
  out->protocol = msg + 12 + label_len;
  out->protocol_len = proto_len;
  return GDB_OK;
}

void gdb_dcep_encode_open(gdb_buf *b, const gdb_dcep_open *o) {
  uint8_t h[12] = {GDB_DCEP_OPEN,
                   o->channel_type,
                   (uint8_t)(o->priority >> 8),
                   (uint8_t)o->priority,
                   (uint8_t)(o->reliability >> 24),
                   (uint8_t)(o->reliability >> 16),
                   (uint8_t)(o->reliability >> 8),
                   (uint8_t)o->reliability,
                   (uint8_t)(o->label_len >> 8),
                   (uint8_t)o->label_len,
                   (uint8_t)(o->protocol_len >> 8),
                   (uint8_t)o->protocol_len};
  gdb_buf_put(b, h, sizeof h);
  gdb_buf_put(b, o->label, o->label_len);
  gdb_buf_put(b, o->protocol, o->protocol_len);
}
