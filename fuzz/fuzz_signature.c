/*
 * fuzz_signature.c — everything that reads signatures and signed data from peers: the
 * signature text itself (recovery over a fixed message), a JSON operation, a JSON envelope,
 * a structured operation whose extra fields are the input read as MessagePack, a sealed
 * wrapper, an address, a recovery phrase. Whatever the bytes, the result is a verdict or an
 * error, never a crash or leak; a verdict that says ok names a well-formed signer.
 */
#include "core/value.h"
#include "genosdb.h"

#include <stdlib.h>
#include <string.h>

static void check_verdict(const gdb_sm_verdict *v) {
  if (v->ok != (v->reason == GDB_SM_OK)) abort();
  if (v->ok && (strlen(v->signer) != 42 || gdb_address_parse(v->signer, 42, NULL))) abort();
  if (!v->ok && v->signer[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static gdb_identity *id;
  if (!id && gdb_id_from_private_key(
                 "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", &id))
    abort();
  const char *text = (const char *)data;
  gdb_sm_verdict v;

  gdb_sm_recover_message("{\"a\":1}", 7, text, size, &v);
  check_verdict(&v);
  if (!gdb_sm_verify_op_json(text, size, &v)) check_verdict(&v);
  if (!gdb_sm_envelope_verify(text, size, 1750000000000, 60000, &v)) check_verdict(&v);

  gdb_op op = {
      .type = GDB_OP_UPSERT, .id = "doc:1", .timestamp = {1, 2}, .extra = data, .extra_len = size};
  if (!gdb_sm_verify_op(&op, &v)) check_verdict(&v);
  char *msg = NULL;
  if (!gdb_sm_op_message(&op, NULL, &msg, NULL)) free(msg);
  op.value = data;
  op.value_len = size;
  op.extra = NULL;
  op.extra_len = 0;
  if (!gdb_sm_op_message(&op, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", &msg, NULL)) free(msg);

  uint8_t *out = NULL;
  size_t olen;
  gdb_seal_state st;
  if (!gdb_sm_open(id, data, size, &out, &olen, &st)) {
    if (st != GDB_SEAL_OPENED && (olen != size || memcmp(out, data, size))) abort();
    free(out);
  }

  char *z = malloc(size + 1); /* the string APIs take NUL-terminated text */
  if (!z) return 0;
  memcpy(z, data, size);
  z[size] = 0;
  char norm[GDB_ADDRESS_BUFSZ];
  gdb_address_normalize(z, norm);
  gdb_mnemonic_check(z);
  free(z);
  return 0;
}
