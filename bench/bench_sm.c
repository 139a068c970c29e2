/*
 * bench_sm.c — `genosdb bench sm [--ops N]`: signing and verification of small operations
 * (structured gdb_op, the sync path, and JSON text, the CLI path), batch verification on every
 * core, canonical JSON printing and parsing, Keccak-256; and, as the floor under them, bare
 * libsecp256k1 signing and recovery on the same machine in the same run.
 *
 * Single-threaded unless named "batch". Prints one JSON object; figures go to
 * docs/performance.md ("Identities and signing").
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "core/value.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double rate(uint64_t n, uint64_t ns) { return ns ? (double)n * 1e9 / (double)ns : 0; }

/* A small operation like those of spec/SIGNING.md. */
static const char *VALUE = "{\"title\":\"Hola\",\"n\":2}";

/* The document corpus for canonical JSON: ~1 MB of varied values (ASCII and non-ASCII text,
 * integers, a few fractions, nesting), written with keys out of order. */
static char *corpus_json(size_t docs) {
  gdb_buf b = {0};
  gdb_buf_putc(&b, '[');
  for (size_t i = 0; i < docs; i++) {
    if (i) gdb_buf_putc(&b, ',');
    gdb_buf_printf(
        &b,
        "{\"title\":\"Document n°%zu — café\",\"body\":\"Lorem ipsum dolor sit amet, "
        "consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
        "dolore magna aliqua. Line\\nbreak and \\\"quotes\\\".\",\"tags\":[\"alpha\","
        "\"beta\",\"gamma\"],\"n\":%zu,\"price\":%zu.25,\"created\":%llu,\"nested\":"
        "{\"z\":1,\"a\":[1,2,3,{\"deep\":\"日本語テキスト😀\"}],\"ok\":true,\"none\":null},"
        "\"10\":\"index key\",\"owner\":\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"}",
        i, i, i % 1000, 1750000000000ull + i);
  }
  gdb_buf_putc(&b, ']');
  gdb_buf_finish(&b);
  return (char *)b.data;
}

/* Numbers only: the formatting path (shortest round-trip doubles). */
static char *numbers_json(size_t n) {
  gdb_buf b = {0};
  gdb_buf_putc(&b, '[');
  for (size_t i = 0; i < n; i++)
    gdb_buf_printf(&b, "%s%.17g,%zu", i ? "," : "", (double)i / 7.0 + 0.001, i * 37);
  gdb_buf_putc(&b, ']');
  gdb_buf_finish(&b);
  return (char *)b.data;
}

/* MB/s of canonical JSON printed from canonical MessagePack. */
static double bench_print(const uint8_t *mp, size_t len, uint64_t min_ns) {
  gdb_buf out = {0};
  uint64_t bytes = 0, t0 = bench_now_ns(), t = 0;
  do {
    out.len = 0;
    if (gdb_value_write_json(&out, mp, len)) break;
    bytes += out.len;
  } while ((t = bench_now_ns() - t0) < min_ns);
  gdb_buf_free(&out);
  return rate(bytes, t) / 1e6;
}

/* MB/s of JSON text turned into canonical JSON (jansson parse, canonical MessagePack, print). */
static double bench_parse(const char *json, uint64_t min_ns) {
  size_t len = strlen(json);
  uint64_t bytes = 0, t0 = bench_now_ns(), t = 0;
  do {
    char *out;
    size_t olen;
    if (gdb_canonical_json(json, len, &out, &olen)) break;
    free(out);
    bytes += len;
  } while ((t = bench_now_ns() - t0) < min_ns);
  return rate(bytes, t) / 1e6;
}

int bench_sm(int argc, char **argv) {
  long ops = 20000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--ops") && i + 1 < argc)
      ops = strtol(argv[++i], NULL, 10);
    else
      return cli_usage("bench sm: unknown argument \"%s\" (--ops N)", argv[i]);
  }
  if (ops < 100) return cli_usage("bench sm: --ops must be at least 100");
  size_t n = (size_t)ops;

  gdb_identity *id;
  uint8_t *value;
  size_t vlen;
  if (gdb_id_from_private_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
                              &id) ||
      gdb_json_to_value(VALUE, strlen(VALUE), &value, &vlen))
    return cli_fail(GDB_EINVAL, "bench sm");
  gdb_op *op = calloc(n, sizeof *op);
  uint8_t **extra = calloc(n, sizeof *extra);
  gdb_sm_verdict *verdicts = calloc(n, sizeof *verdicts);
  char **signed_json = calloc(n, sizeof *signed_json);
  if (!op || !extra || !verdicts || !signed_json) return cli_fail(GDB_ENOMEM, "bench sm");
  for (size_t i = 0; i < n; i++)
    op[i] = (gdb_op){.type = GDB_OP_UPSERT,
                     .id = "doc:1",
                     .value = value,
                     .value_len = vlen,
                     .timestamp = {1750000000000 + (int64_t)i, (int64_t)(i % 100)}};

  /* Structured operations: sign, verify, verify in a batch on every core. */
  uint64_t t0 = bench_now_ns();
  for (size_t i = 0; i < n; i++) {
    size_t elen;
    if (gdb_sm_sign_op(id, &op[i], &extra[i], &elen)) return cli_fail(GDB_ECRYPTO, "bench sm");
    op[i].extra = extra[i];
    op[i].extra_len = elen;
  }
  double sign_s = rate(n, bench_now_ns() - t0);
  t0 = bench_now_ns();
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    gdb_sm_verify_op(&op[i], &verdicts[i]);
    bad += !verdicts[i].ok;
  }
  double verify_s = rate(n, bench_now_ns() - t0);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  t0 = bench_now_ns();
  gdb_sm_verify_ops(op, n, verdicts, (int)cores);
  double batch_s = rate(n, bench_now_ns() - t0);
  for (size_t i = 0; i < n; i++) bad += !verdicts[i].ok;

  /* JSON operations (a tenth as many: the same per-op work plus parsing). */
  size_t nj = n / 10;
  char text[256];
  t0 = bench_now_ns();
  for (size_t i = 0; i < nj; i++) {
    int tl = snprintf(text, sizeof text,
                      "{\"type\":\"upsert\",\"id\":\"doc:1\",\"value\":%s,"
                      "\"timestamp\":{\"physical\":%zu,\"logical\":7}}",
                      VALUE, 1750000000000u + i);
    if (gdb_sm_sign_op_json(id, text, (size_t)tl, &signed_json[i], NULL))
      return cli_fail(GDB_ECRYPTO, "bench sm");
  }
  double sign_json_s = rate(nj, bench_now_ns() - t0);
  t0 = bench_now_ns();
  for (size_t i = 0; i < nj; i++) {
    gdb_sm_verdict v;
    gdb_sm_verify_op_json(signed_json[i], strlen(signed_json[i]), &v);
    bad += !v.ok;
  }
  double verify_json_s = rate(nj, bench_now_ns() - t0);

  /* The floor: libsecp256k1 alone on 32-byte hashes. */
  secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  secp256k1_ecdsa_recoverable_signature sig;
  secp256k1_pubkey pub;
  uint8_t key[32], hash[32] = {0};
  memset(key, 0x42, sizeof key);
  t0 = bench_now_ns();
  for (size_t i = 0; i < n; i++) {
    memcpy(hash, &i, sizeof i);
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, key, NULL, NULL)) bad++;
  }
  double raw_sign_s = rate(n, bench_now_ns() - t0);
  t0 = bench_now_ns();
  for (size_t i = 0; i < n; i++) bad += !secp256k1_ecdsa_recover(ctx, &pub, &sig, hash);
  double raw_recover_s = rate(n, bench_now_ns() - t0);
  secp256k1_context_destroy(ctx);

  /* Canonical JSON. */
  char *docs = corpus_json(2000), *nums = numbers_json(20000);
  uint8_t *mp, *nmp;
  size_t mplen, nmplen;
  if (gdb_json_to_value(docs, strlen(docs), &mp, &mplen) ||
      gdb_json_to_value(nums, strlen(nums), &nmp, &nmplen))
    return cli_fail(GDB_EINVAL, "bench sm");
  double canon_mb_s = bench_print(mp, mplen, 500000000);
  double canon_numbers_mb_s = bench_print(nmp, nmplen, 300000000);
  double canon_parse_mb_s = bench_parse(docs, 500000000);

  /* Keccak-256 over 1 MiB. */
  size_t kl = 1 << 20;
  uint8_t *kbuf = calloc(1, kl), d[32];
  t0 = bench_now_ns();
  for (int r = 0; r < 32; r++) gdb_keccak256(kbuf, kl, d);
  double keccak_mb_s = rate(32ull * kl, bench_now_ns() - t0) / 1e6;

  printf("{\"suite\":\"sm\",\"ops\":%zu,\"sign_ops_s\":%.0f,\"verify_ops_s\":%.0f,"
         "\"verify_batch_ops_s\":%.0f,\"batch_threads\":%ld,\"sign_json_ops_s\":%.0f,"
         "\"verify_json_ops_s\":%.0f,\"secp256k1_sign_ops_s\":%.0f,"
         "\"secp256k1_recover_ops_s\":%.0f,\"canon_mb_s\":%.1f,\"canon_numbers_mb_s\":%.1f,"
         "\"canon_parse_mb_s\":%.1f,\"keccak_mb_s\":%.1f,\"canon_corpus_bytes\":%zu,"
         "\"rejected\":%zu}\n",
         n, sign_s, verify_s, batch_s, cores, sign_json_s, verify_json_s, raw_sign_s, raw_recover_s,
         canon_mb_s, canon_numbers_mb_s, canon_parse_mb_s, keccak_mb_s, strlen(docs), bad);
  for (size_t i = 0; i < n; i++) free(extra[i]);
  for (size_t i = 0; i < nj; i++) free(signed_json[i]);
  free(extra);
  free(signed_json);
  free(verdicts);
  free(op);
  free(value);
  free(docs);
  free(nums);
  free(mp);
  free(nmp);
  free(kbuf);
  gdb_id_free(id);
  return bad ? CLI_FAIL : CLI_OK;
}
