/*
 * sdp.c — parsing and writing the data channel subset of SDP. See sdp.h.
 *
 * The parser walks the text line by line without copying it. Session-level ICE credentials,
 * fingerprint and setup (as Firefox writes them) are defaults that the media section may
 * override. Only the first data channel section counts; other sections are remembered by
 * media type and mid so an answer can reject them.
 */
#include "net/rtc/sdp.h"

#include "core/buf.h"
#include "core/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096

typedef struct span {
  const char *p;
  size_t n;
} span;

static bool span_eq(span s, const char *lit) {
  size_t n = strlen(lit);
  return s.n == n && !memcmp(s.p, lit, n);
}

/* Copies s into dst (cap bytes with NUL); false when it does not fit. */
static bool span_copy(span s, char *dst, size_t cap) {
  if (s.n >= cap) return false;
  memcpy(dst, s.p, s.n);
  dst[s.n] = 0;
  return true;
}

/* Next space-separated token of *s. */
static span span_token(span *s) {
  while (s->n && s->p[0] == ' ') s->p++, s->n--;
  span t = {s->p, 0};
  while (t.n < s->n && s->p[t.n] != ' ') t.n++;
  s->p += t.n;
  s->n -= t.n;
  return t;
}

static bool span_u32(span s, uint32_t *out) {
  if (s.n == 0 || s.n > 10) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < s.n; i++) {
    if (!isdigit((unsigned char)s.p[i])) return false;
    v = v * 10 + (uint64_t)(s.p[i] - '0');
  }
  if (v > UINT32_MAX) return false;
  *out = (uint32_t)v;
  return true;
}

/* ICE ufrag and pwd characters (RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/"). */
static bool ice_chars_ok(span s) {
  if (s.n == 0 || s.n > 256) return false;
  for (size_t i = 0; i < s.n; i++) {
    unsigned char c = (unsigned char)s.p[i];
    if (!isalnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "sha-256 AB:CD:…" */
static bool parse_fingerprint(span v, char *alg, size_t alg_cap, uint8_t *fp, size_t *fp_len) {
  span a = span_token(&v), h = span_token(&v);
  if (!a.n || !h.n || a.n >= alg_cap) return false;
  for (size_t i = 0; i < a.n; i++) alg[i] = (char)tolower((unsigned char)a.p[i]);
  alg[a.n] = 0;
  if (h.n % 3 != 2) return false;
  size_t n = (h.n + 1) / 3;
  if (n < 16 || n > 64) return false;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(h.p[3 * i]), lo = hexval(h.p[3 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    if (i + 1 < n && h.p[3 * i + 2] != ':') return false;
    fp[i] = (uint8_t)(hi << 4 | lo);
  }
  *fp_len = n;
  return true;
}

typedef struct dtls_attrs {
  char ufrag[257], pwd[257];
  char fp_alg[16];
  uint8_t fp[64];
  size_t fp_len;
  gdb_sdp_setup setup;
} dtls_attrs;

/* Reads one of the attributes that may sit at session or media level. Returns 1 when the
 * attribute was one of them, 0 when not, a negative error when it was malformed. */
static int parse_shared_attr(span name, span val, dtls_attrs *d, int lineno) {
  if (span_eq(name, "ice-ufrag")) {
    if (!ice_chars_ok(val) || !span_copy(val, d->ufrag, sizeof d->ufrag))
      return gdb_fail(GDB_EINVAL, "SDP line %d: a=ice-ufrag must be 1 to 256 ICE characters",
                      lineno);
    return 1;
  }
  if (span_eq(name, "ice-pwd")) {
    if (!ice_chars_ok(val) || !span_copy(val, d->pwd, sizeof d->pwd))
      return gdb_fail(GDB_EINVAL, "SDP line %d: a=ice-pwd must be 1 to 256 ICE characters", lineno);
    return 1;
  }
  if (span_eq(name, "fingerprint")) {
    if (!parse_fingerprint(val, d->fp_alg, sizeof d->fp_alg, d->fp, &d->fp_len))
      return gdb_fail(GDB_EINVAL,
                      "SDP line %d: a=fingerprint must be \"ALG XX:XX:…\" with 16 to 64 hex bytes",
                      lineno);
    return 1;
  }
  if (span_eq(name, "setup")) {
    if (span_eq(val, "actpass"))
      d->setup = GDB_SDP_SETUP_ACTPASS;
    else if (span_eq(val, "active"))
      d->setup = GDB_SDP_SETUP_ACTIVE;
    else if (span_eq(val, "passive"))
      d->setup = GDB_SDP_SETUP_PASSIVE;
    else
      return gdb_fail(GDB_EINVAL, "SDP line %d: a=setup must be actpass, active or passive",
                      lineno);
    return 1;
  }
  return 0;
}

void gdb_sdp_clear(gdb_sdp *s) {
  for (size_t i = 0; i < s->n_candidates; i++) free(s->candidates[i]);
  memset(s, 0, sizeof *s);
}

enum { SEC_SESSION, SEC_OURS, SEC_OTHER, SEC_IGNORED };

int gdb_sdp_parse(const char *text, size_t len, gdb_sdp *out) {
  memset(out, 0, sizeof *out);
  if (!text || len == 0) return gdb_fail(GDB_EINVAL, "SDP is empty");
  if (len > GDB_SDP_MAX_LEN)
    return gdb_fail(GDB_EINVAL, "SDP is %zu bytes, over the %u-byte limit", len, GDB_SDP_MAX_LEN);
  if (memchr(text, 0, len)) return gdb_fail(GDB_EINVAL, "SDP contains a NUL byte");

  dtls_attrs session = {0}, media = {0};
  int section = SEC_SESSION, lineno = 0, rc = GDB_OK;
  bool found = false, first = true;
  int mlines = 0;
  uint32_t sctp_port = 0, max_msg = 65536;
  bool have_max = false;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    span line = {p, (size_t)((nl ? nl : end) - p)};
    p = nl ? nl + 1 : end;
    lineno++;
    if (line.n && line.p[line.n - 1] == '\r') line.n--;
    if (line.n == 0) continue;
    if (line.n > LINE_MAX_LEN) {
      rc = gdb_fail(GDB_EINVAL, "SDP line %d is over %d bytes", lineno, LINE_MAX_LEN);
      goto fail;
    }
    if (line.n < 2 || line.p[1] != '=' || !islower((unsigned char)line.p[0])) {
      rc = gdb_fail(GDB_EINVAL, "SDP line %d is not \"x=value\": \"%.*s\"", lineno,
                    (int)(line.n > 40 ? 40 : line.n), line.p);
      goto fail;
    }
    char type = line.p[0];
    span val = {line.p + 2, line.n - 2};
    if (first) {
      if (type != 'v' || !span_eq(val, "0")) {
        rc = gdb_fail(GDB_EINVAL, "SDP must start with \"v=0\" (line %d)", lineno);
        goto fail;
      }
      first = false;
      continue;
    }
    if (type == 'm') {
      span rest = val;
      span m = span_token(&rest), port = span_token(&rest), proto = span_token(&rest),
           fmt = span_token(&rest);
      (void)port;
      if (!m.n || !proto.n) {
        rc = gdb_fail(GDB_EINVAL, "SDP line %d: m= needs media, port and protocol", lineno);
        goto fail;
      }
      bool datachannel = span_eq(m, "application") &&
                         (span_eq(proto, "UDP/DTLS/SCTP") || span_eq(proto, "TCP/DTLS/SCTP") ||
                          span_eq(proto, "DTLS/SCTP"));
      if (datachannel && !found) {
        found = true;
        section = SEC_OURS;
        out->mline_before = mlines;
        media = session;
        if (span_eq(proto, "DTLS/SCTP") && !span_u32(fmt, &sctp_port)) sctp_port = 0;
      } else if (out->n_other < GDB_SDP_MAX_OTHER) {
        section = SEC_OTHER;
        gdb_sdp_other *o = &out->other[out->n_other++];
        if (!span_copy(m, o->media, sizeof o->media) ||
            !span_copy(proto, o->proto, sizeof o->proto) ||
            !span_copy(fmt.n ? fmt : (span){"0", 1}, o->fmt, sizeof o->fmt)) {
          rc = gdb_fail(GDB_EINVAL, "SDP line %d: m= field too long", lineno);
          goto fail;
        }
      } else {
        section = SEC_IGNORED;
      }
      mlines++;
      continue;
    }
    if (type != 'a') continue; /* o=, s=, t=, c=, b=, ...: nothing we need */
    const char *colon = memchr(val.p, ':', val.n);
    span name = {val.p, colon ? (size_t)(colon - val.p) : val.n};
    span aval = colon ? (span){colon + 1, val.n - name.n - 1} : (span){val.p + val.n, 0};
    if (section == SEC_SESSION) {
      int r = parse_shared_attr(name, aval, &session, lineno);
      if (r < 0) {
        rc = r;
        goto fail;
      }
      continue;
    }
    if (section == SEC_OTHER) {
      if (span_eq(name, "mid") &&
          !span_copy(aval, out->other[out->n_other - 1].mid, sizeof out->other[0].mid)) {
        rc = gdb_fail(GDB_EINVAL, "SDP line %d: a=mid is over 63 bytes", lineno);
        goto fail;
      }
      continue;
    }
    if (section != SEC_OURS) continue;
    int r = parse_shared_attr(name, aval, &media, lineno);
    if (r < 0) {
      rc = r;
      goto fail;
    }
    if (r > 0) continue;
    if (span_eq(name, "mid")) {
      if (!span_copy(aval, out->mid, sizeof out->mid)) {
        rc = gdb_fail(GDB_EINVAL, "SDP line %d: a=mid is over 63 bytes", lineno);
        goto fail;
      }
    } else if (span_eq(name, "sctp-port")) {
      if (!span_u32(aval, &sctp_port) || sctp_port == 0 || sctp_port > 65535) {
        rc = gdb_fail(GDB_EINVAL, "SDP line %d: a=sctp-port must be 1 to 65535", lineno);
        goto fail;
      }
    } else if (span_eq(name, "sctpmap")) {
      span t = aval;
      uint32_t port;
      if (span_u32(span_token(&t), &port) && port && port <= 65535) sctp_port = port;
    } else if (span_eq(name, "max-message-size")) {
      if (!span_u32(aval, &max_msg)) {
        rc = gdb_fail(GDB_EINVAL, "SDP line %d: a=max-message-size must be a number", lineno);
        goto fail;
      }
      if (max_msg == 0) max_msg = UINT32_MAX; /* 0: no limit */
      have_max = true;
    } else if (span_eq(name, "x-gdb-max-packet")) {
      uint32_t v;
      if (span_u32(aval, &v)) out->max_packet = v; /* our own extension: ignored if odd */
    } else if (span_eq(name, "candidate")) {
      if (out->n_candidates >= GDB_SDP_MAX_CANDIDATES || val.n > 1024) continue;
      char *c = malloc(val.n + 1);
      if (!c) {
        rc = gdb_fail(GDB_ENOMEM, "SDP: out of memory");
        goto fail;
      }
      memcpy(c, val.p, val.n);
      c[val.n] = 0;
      out->candidates[out->n_candidates++] = c;
    } else if (span_eq(name, "end-of-candidates")) {
      out->end_of_candidates = true;
    }
  }
  if (first) {
    rc = gdb_fail(GDB_EINVAL, "SDP is empty");
    goto fail;
  }
  if (!found) {
    rc = gdb_fail(GDB_EINVAL, "SDP has no data channel section "
                              "(m=application … UDP/DTLS/SCTP webrtc-datachannel)");
    goto fail;
  }
  if (!media.ufrag[0] || !media.pwd[0]) {
    rc = gdb_fail(GDB_EINVAL, "SDP data channel section lacks a=ice-ufrag or a=ice-pwd");
    goto fail;
  }
  if (!media.fp_len) {
    rc = gdb_fail(GDB_EINVAL, "SDP data channel section lacks a=fingerprint");
    goto fail;
  }
  memcpy(out->ufrag, media.ufrag, sizeof out->ufrag);
  memcpy(out->pwd, media.pwd, sizeof out->pwd);
  memcpy(out->fp_alg, media.fp_alg, sizeof out->fp_alg);
  memcpy(out->fp, media.fp, sizeof out->fp);
  out->fp_len = media.fp_len;
  out->setup = media.setup;
  out->sctp_port = (uint16_t)(sctp_port ? sctp_port : 5000);
  out->max_message_size = have_max ? max_msg : 65536;
  return GDB_OK;
fail:
  gdb_sdp_clear(out);
  return rc;
}

void gdb_sdp_fingerprint_hex(const uint8_t *fp, size_t n, char *out) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    out[3 * i] = hex[fp[i] >> 4];
    out[3 * i + 1] = hex[fp[i] & 15];
    out[3 * i + 2] = i + 1 < n ? ':' : 0;
  }
  if (!n) out[0] = 0;
}

static const char *setup_name(gdb_sdp_setup s) {
  switch (s) {
  case GDB_SDP_SETUP_ACTIVE: return "active";
  case GDB_SDP_SETUP_PASSIVE: return "passive";
  default: return "actpass";
  }
}

char *gdb_sdp_format(const gdb_sdp_local *l) {
  gdb_buf b = {0};
  char fp[64 * 3 + 1];
  gdb_sdp_fingerprint_hex(l->fp, l->fp_len, fp);
  gdb_buf_printf(&b,
                 "v=0\r\n"
                 "o=- %" PRIu64 " 2 IN IP4 127.0.0.1\r\n"
                 "s=-\r\n"
                 "t=0 0\r\n"
                 "a=group:BUNDLE %s\r\n"
                 "a=msid-semantic: WMS\r\n",
                 l->session_id, l->mid);
  /* An answer has one section per offered section, in order; the ones we do not carry are
   * rejected with port 0. */
  const gdb_sdp *o = l->offer;
  size_t other = 0;
  if (o) {
    for (; other < o->n_other && (int)other < o->mline_before; other++) {
      const gdb_sdp_other *x = &o->other[other];
      gdb_buf_printf(&b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", x->media, x->proto, x->fmt);
      if (x->mid[0]) gdb_buf_printf(&b, "a=mid:%s\r\n", x->mid);
    }
  }
  gdb_buf_printf(&b,
                 "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                 "c=IN IP4 0.0.0.0\r\n"
                 "a=ice-ufrag:%s\r\n"
                 "a=ice-pwd:%s\r\n"
                 "a=ice-options:trickle\r\n"
                 "a=fingerprint:%s %s\r\n"
                 "a=setup:%s\r\n"
                 "a=mid:%s\r\n"
                 "a=sctp-port:%u\r\n"
                 "a=max-message-size:%" PRIu32 "\r\n",
                 l->ufrag, l->pwd, l->fp_alg, fp, setup_name(l->setup), l->mid,
                 (unsigned)l->sctp_port, l->max_message_size);
  if (l->max_packet) gdb_buf_printf(&b, "a=x-gdb-max-packet:%" PRIu32 "\r\n", l->max_packet);
  for (size_t i = 0; i < l->n_candidates; i++) gdb_buf_printf(&b, "a=%s\r\n", l->candidates[i]);
  if (l->end_of_candidates) gdb_buf_puts(&b, "a=end-of-candidates\r\n");
  if (o) {
    for (; other < o->n_other; other++) {
      const gdb_sdp_other *x = &o->other[other];
      gdb_buf_printf(&b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", x->media, x->proto, x->fmt);
      if (x->mid[0]) gdb_buf_printf(&b, "a=mid:%s\r\n", x->mid);
    }
  }
  if (gdb_buf_finish(&b) != GDB_OK) {
    gdb_buf_free(&b);
    return NULL;
  }
  return (char *)b.data;
}
