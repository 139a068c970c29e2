/*
 * sm.h — shared internals of the identity and signing layer (src/sm): the secp256k1 context,
 * the identity structure, the EIP-191 hash, signature parsing and the BIP-39 word list.
 * The public API is the "identities and signing" section of genosdb.h.
 */
#ifndef GDB_SM_SM_H
#define GDB_SM_SM_H

#include "core/buf.h"
#include "genosdb.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

struct gdb_identity {
  uint8_t key[32]; /* secp256k1 scalar, wiped by gdb_id_free() */
  uint8_t addr[20];
  char address[GDB_ADDRESS_BUFSZ];
};

/* The process-wide secp256k1 context, created and randomized once. The library's calls take
 * it const, so any number of threads may sign and verify with it at once. */
const secp256k1_context *gdb_sm_ctx(void);

/* An identity for a 32-byte key already known to be valid or GDB_EINVAL. *out: gdb_id_free(). */
int gdb_id_from_key_bytes(const uint8_t key[32], gdb_identity **out);
/* The address of a public key: last 20 bytes of Keccak-256 of X || Y. */
void gdb_pubkey_address(const secp256k1_pubkey *pub, uint8_t addr[20]);

/* Keccak-256("\x19Ethereum Signed Message:\n" + decimal len + msg). */
void gdb_personal_hash(const void *msg, size_t len, uint8_t out[32]);
/* Signs a 32-byte hash: RFC 6979 nonce, low s, v = 27 + recovery id. */
int gdb_sig_sign_hash(const gdb_identity *id, const uint8_t hash[32],
                      char sig[GDB_SIGNATURE_BUFSZ]);
/* Parses "0x" + r + s + v, refusing every malleable or malformed form with its reason. */
gdb_sm_reason gdb_sig_parse(const char *s, size_t len, secp256k1_ecdsa_recoverable_signature *out);
/* Parses sig and recovers the address that signed hash. GDB_SM_OK or the reason. */
gdb_sm_reason gdb_sig_recover(const uint8_t hash[32], const char *sig, size_t len,
                              uint8_t addr[20]);
/* Address checks of a claimed field: GDB_SM_OK, GDB_SM_ADDRESS_FORMAT or _CHECKSUM. */
gdb_sm_reason gdb_address_check(const char *s, size_t len, uint8_t raw[20]);
/* True when s (already accepted by gdb_address_check) is in mixed case, hence EIP-55 exactly. */
bool gdb_address_is_checksummed(const char *s, size_t len);

/* Fills a verdict: ok with signer addr, or refused with reason. */
void gdb_verdict_set(gdb_sm_verdict *v, gdb_sm_reason reason, const uint8_t *addr);

/* BIP-32: the private key at path ("m/44'/60'/0'/0/0"; ' or h marks a hardened index) of
 * the master key of seed. */
int gdb_hd_derive(const uint8_t *seed, size_t seed_len, const char *path, uint8_t key[32]);

/* The BIP-39 English list, generated at build time from data/bip39-english.txt. */
extern const char *const gdb_bip39_words[2048];
/* Index of a lower-case word in the list, or -1. */
int gdb_bip39_index(const char *word, size_t len);

/* AES-256-GCM with a 12-byte nonce and a 16-byte tag (aead.c). ct and pt have len bytes.
 * gdb_aead_open() returns false when the tag does not authenticate (wrong key or modified
 * data), leaving pt wiped. */
int gdb_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_len,
                  const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16]);
bool gdb_aead_open(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_len,
                   const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt);

#endif
