/*
 * dtls.c — DTLS 1.2 sessions on OpenSSL memory BIOs and per-connection certificates.
 * See dtls.h.
 *
 * Incoming datagrams go through a memory BIO one at a time, so OpenSSL sees datagram
 * boundaries. Outgoing records must keep theirs too, which a memory BIO would merge, so the
 * write side is a small BIO of our own that hands each write to the send function as one
 * datagram.
 */
#include "net/rtc/dtls.h"

#include "core/error.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gdb_rtc_cert {
  EVP_PKEY *key;
  X509 *x509;
  uint8_t fp[32];
};

struct gdb_rtc_dtls {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio;
  gdb_rtc_dtls_io io;
  gdb_rtc_dtls_state state;
  bool client;
  char fp_alg[16];
  uint8_t fp[64];
  size_t fp_len;
  bool fp_mismatch;
  char error[160];
  uint8_t rec[16384 + 256];
};

int gdb_rtc_cert_new(gdb_rtc_cert **out) {
  gdb_rtc_cert *c = calloc(1, sizeof *c);
  X509_NAME *name = NULL;
  if (!c) return gdb_fail(GDB_ENOMEM, "rtc: out of memory");
  c->key = EVP_EC_gen("P-256");
  c->x509 = X509_new();
  if (!c->key || !c->x509) goto fail;
  uint8_t serial[8];
  if (RAND_bytes(serial, sizeof serial) != 1) goto fail;
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  if (!bn) goto fail;
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c->x509));
  BN_free(bn);
  X509_set_version(c->x509, 2);
  X509_gmtime_adj(X509_getm_notBefore(c->x509), -86400L);
  X509_gmtime_adj(X509_getm_notAfter(c->x509), 30L * 86400L);
  name = X509_NAME_new();
  if (!name || !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                           (const unsigned char *)"genosdb", -1, -1, 0))
    goto fail;
  X509_set_subject_name(c->x509, name);
  X509_set_issuer_name(c->x509, name);
  if (!X509_set_pubkey(c->x509, c->key) || !X509_sign(c->x509, c->key, EVP_sha256())) goto fail;
  unsigned int n = 0;
  if (!X509_digest(c->x509, EVP_sha256(), c->fp, &n) || n != 32) goto fail;
  X509_NAME_free(name);
  *out = c;
  return GDB_OK;
fail:
  X509_NAME_free(name);
  gdb_rtc_cert_free(c);
  return gdb_fail(GDB_ECRYPTO, "rtc: could not create a DTLS certificate (OpenSSL: %s)",
                  ERR_reason_error_string(ERR_get_error()));
}

void gdb_rtc_cert_free(gdb_rtc_cert *c) {
  if (!c) return;
  EVP_PKEY_free(c->key);
  X509_free(c->x509);
  free(c);
}

const uint8_t *gdb_rtc_cert_fingerprint(const gdb_rtc_cert *c) { return c->fp; }

/* ── the datagram-preserving write BIO ── */

static BIO_METHOD *out_method;
static pthread_once_t out_method_once = PTHREAD_ONCE_INIT;

static int out_write(BIO *b, const char *buf, int len) {
  gdb_rtc_dtls *d = BIO_get_data(b);
  if (len > 0) d->io.send(d->io.data, (const uint8_t *)buf, (size_t)len);
  return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b, (void)num, (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH: return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU: return 0;
  case BIO_CTRL_WPENDING:
  case BIO_CTRL_PENDING: return 0;
  default: return 0;
  }
}

static int out_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static void out_method_init(void) {
  out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gdb-dtls-out");
  BIO_meth_set_write(out_method, out_write);
  BIO_meth_set_ctrl(out_method, out_ctrl);
  BIO_meth_set_create(out_method, out_create);
}

/* ── verification against the SDP fingerprint ── */

static int verify_cb(int preverify, X509_STORE_CTX *xs) {
  (void)preverify; /* self-signed by design: the fingerprint is the trust anchor */
  if (X509_STORE_CTX_get_error_depth(xs) != 0) return 1;
  SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
  gdb_rtc_dtls *d = SSL_get_app_data(ssl);
  X509 *cert = X509_STORE_CTX_get_current_cert(xs);
  const EVP_MD *md = EVP_get_digestbyname(d->fp_alg);
  uint8_t got[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!cert || !md || !X509_digest(cert, md, got, &n) || n != d->fp_len ||
      CRYPTO_memcmp(got, d->fp, n) != 0) {
    d->fp_mismatch = true;
    return 0;
  }
  return 1;
}

/* A shorter first retransmission than OpenSSL's one second: lost handshake packets on a
 * fresh ICE pair are common and a second is most of a connection's setup budget. */
static unsigned int timer_cb(SSL *ssl, unsigned int prev_us) {
  (void)ssl;
  if (prev_us == 0) return 250000;
  return prev_us >= 8000000 ? 16000000 : prev_us * 2;
}

int gdb_rtc_dtls_new(gdb_rtc_cert *cert, bool client, const char *fp_alg, const uint8_t *fp,
                     size_t fp_len, uint16_t mtu, const gdb_rtc_dtls_io *io, gdb_rtc_dtls **out) {
  pthread_once(&out_method_once, out_method_init);
  gdb_rtc_dtls *d = calloc(1, sizeof *d);
  if (!d) return gdb_fail(GDB_ENOMEM, "rtc: out of memory");
  if (fp_len > sizeof d->fp || strlen(fp_alg) >= sizeof d->fp_alg ||
      !EVP_get_digestbyname(fp_alg)) {
    free(d);
    return gdb_fail(GDB_EINVAL, "rtc: unsupported fingerprint algorithm \"%s\" (use sha-256)",
                    fp_alg);
  }
  d->io = *io;
  d->client = client;
  d->state = GDB_DTLS_HANDSHAKING;
  snprintf(d->fp_alg, sizeof d->fp_alg, "%s", fp_alg);
  memcpy(d->fp, fp, fp_len);
  d->fp_len = fp_len;

  d->ctx = SSL_CTX_new(DTLS_method());
  if (!d->ctx) goto fail;
  SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(d->ctx, DTLS1_2_VERSION);
  if (!SSL_CTX_use_certificate(d->ctx, cert->x509) || !SSL_CTX_use_PrivateKey(d->ctx, cert->key))
    goto fail;
  SSL_CTX_set_cipher_list(d->ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                  "ECDHE-ECDSA-CHACHA20-POLY1305");
  SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
  SSL_CTX_set_read_ahead(d->ctx, 1);
  SSL_CTX_set_options(d->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
  d->ssl = SSL_new(d->ctx);
  if (!d->ssl) goto fail;
  SSL_set_app_data(d->ssl, d);
  d->rbio = BIO_new(BIO_s_mem());
  BIO *wbio = BIO_new(out_method);
  if (!d->rbio || !wbio) {
    BIO_free(wbio);
    goto fail;
  }
  BIO_set_mem_eof_return(d->rbio, -1);
  BIO_set_data(wbio, d);
  BIO_up_ref(d->rbio);
  SSL_set_bio(d->ssl, d->rbio, wbio); /* the SSL owns one reference of each */
  DTLS_set_link_mtu(d->ssl, (long)mtu + 100);
  DTLS_set_timer_cb(d->ssl, timer_cb);
  if (client)
    SSL_set_connect_state(d->ssl);
  else
    SSL_set_accept_state(d->ssl);
  *out = d;
  return GDB_OK;
fail:
  gdb_rtc_dtls_free(d);
  return gdb_fail(GDB_ECRYPTO, "rtc: could not set up DTLS (OpenSSL: %s)",
                  ERR_reason_error_string(ERR_get_error()));
}

void gdb_rtc_dtls_free(gdb_rtc_dtls *d) {
  if (!d) return;
  if (d->ssl) SSL_free(d->ssl);
  if (d->rbio) BIO_free(d->rbio);
  SSL_CTX_free(d->ctx);
  free(d);
}

static void set_failed(gdb_rtc_dtls *d, const char *what) {
  d->state = GDB_DTLS_FAILED;
  if (d->fp_mismatch) {
    snprintf(d->error, sizeof d->error,
             "the peer's DTLS certificate does not match the fingerprint in its SDP");
  } else {
    unsigned long e = ERR_peek_last_error();
    snprintf(d->error, sizeof d->error, "DTLS %s failed (OpenSSL: %s)", what,
             e ? ERR_reason_error_string(e) : "no detail");
  }
  ERR_clear_error();
}

static void handshake(gdb_rtc_dtls *d) {
  int r = SSL_do_handshake(d->ssl);
  if (r == 1) {
    d->state = GDB_DTLS_CONNECTED;
    return;
  }
  int e = SSL_get_error(d->ssl, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) set_failed(d, "handshake");
}

void gdb_rtc_dtls_start(gdb_rtc_dtls *d) {
  if (d->client && d->state == GDB_DTLS_HANDSHAKING) handshake(d);
}

gdb_rtc_dtls_state gdb_rtc_dtls_feed(gdb_rtc_dtls *d, const uint8_t *pkt, size_t len) {
  if (d->state == GDB_DTLS_FAILED || d->state == GDB_DTLS_CLOSED) return d->state;
  BIO_write(d->rbio, pkt, (int)len);
  if (d->state == GDB_DTLS_HANDSHAKING) {
    handshake(d);
    if (d->state != GDB_DTLS_CONNECTED) {
      (void)BIO_reset(d->rbio);
      return d->state;
    }
  }
  for (;;) {
    int n = SSL_read(d->ssl, d->rec, (int)sizeof d->rec);
    if (n > 0) {
      d->io.recv(d->io.data, d->rec, (size_t)n);
      if (d->state != GDB_DTLS_CONNECTED) break;
      continue;
    }
    int e = SSL_get_error(d->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      d->state = GDB_DTLS_CLOSED;
      snprintf(d->error, sizeof d->error, "the peer closed DTLS");
    } else {
      set_failed(d, "read");
    }
    break;
  }
  (void)BIO_reset(d->rbio);
  return d->state;
}

gdb_rtc_dtls_state gdb_rtc_dtls_state_of(const gdb_rtc_dtls *d) { return d->state; }
const char *gdb_rtc_dtls_error(const gdb_rtc_dtls *d) { return d->error; }

bool gdb_rtc_dtls_write(gdb_rtc_dtls *d, const void *msg, size_t len) {
  if (d->state != GDB_DTLS_CONNECTED) return false;
  int n = SSL_write(d->ssl, msg, (int)len);
  if (n <= 0) {
    ERR_clear_error();
    return false;
  }
  return true;
}

int gdb_rtc_dtls_timeout_ms(gdb_rtc_dtls *d) {
  if (d->state != GDB_DTLS_HANDSHAKING) return -1;
  struct timeval tv;
  if (DTLSv1_get_timeout(d->ssl, &tv) != 1) return -1;
  return (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

gdb_rtc_dtls_state gdb_rtc_dtls_handle_timeout(gdb_rtc_dtls *d) {
  if (d->state == GDB_DTLS_HANDSHAKING && DTLSv1_handle_timeout(d->ssl) < 0)
    set_failed(d, "handshake retransmission");
  return d->state;
}

void gdb_rtc_dtls_set_mtu(gdb_rtc_dtls *d, uint16_t mtu) {
  DTLS_set_link_mtu(d->ssl, (long)mtu + 100);
}

void gdb_rtc_dtls_close(gdb_rtc_dtls *d) {
  if (d->state != GDB_DTLS_CONNECTED) return;
  SSL_shutdown(d->ssl);
  ERR_clear_error();
  d->state = GDB_DTLS_CLOSED;
}
