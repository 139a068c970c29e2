/* core_hash.c — SipHash against the reference vectors; the insertion-ordered table. */
#include "test.h"

#include "core/hash.h"

#include <stdlib.h>

TEST(siphash_2_4_reference_vectors) {
  /* From the SipHash paper's reference implementation (vectors.h): key 00..0f, message
   * 00..(n-1), output as a little-endian 64-bit value. */
  static const uint64_t want[] = {0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
                                  0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
                                  0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL};
  uint8_t key[16], msg[16];
  for (int i = 0; i < 16; i++) key[i] = (uint8_t)i, msg[i] = (uint8_t)i;
  for (size_t n = 0; n < sizeof want / sizeof want[0]; n++)
    CHECK_MSG(gdb_siphash(key, msg, n, 2, 4) == want[n], "length %zu", n);
}

typedef struct item {
  char key[16];
} item;

static const char *item_key(const void *p, size_t *len) {
  const item *it = p;
  *len = strlen(it->key);
  return it->key;
}

TEST(dict_keeps_insertion_order_through_deletes_and_growth) {
  gdb_dict d;
  gdb_dict_init(&d, item_key);
  enum { N = 5000 };
  item *items = calloc(N, sizeof *items);
  for (int i = 0; i < N; i++) {
    snprintf(items[i].key, sizeof items[i].key, "k%d", i);
    CHECK(gdb_dict_insert(&d, gdb_hash(items[i].key, strlen(items[i].key)), &items[i]));
  }
  for (int i = 0; i < N; i += 2) {
    gdb_dict_entry *e = gdb_dict_find(&d, items[i].key, strlen(items[i].key), gdb_hash(items[i].key, strlen(items[i].key)));
    CHECK(e && e->item == &items[i]);
    gdb_dict_delete(&d, e);
  }
  CHECK_INT(d.count, N / 2);
  int expect = 1;
  for (uint32_t i = 0; i < d.nentries; i++) {
    if (!d.entries[i].item) continue;
    CHECK(d.entries[i].item == &items[expect]);
    expect += 2;
  }
  CHECK_INT(expect, N + 1);
  for (int i = 0; i < N; i++) {
    gdb_dict_entry *e = gdb_dict_find(&d, items[i].key, strlen(items[i].key), gdb_hash(items[i].key, strlen(items[i].key)));
    CHECK((i % 2 == 0) == (e == NULL));
  }
  gdb_dict_free(&d);
  free(items);
}
