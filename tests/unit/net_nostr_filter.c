/* net_nostr_filter.c — NIP-01 filter matching: each condition alone and together. */
#include "test.h"

#include "genosdb.h"

static gdb_nostr_event *make(int kind, int64_t at, const char *tags) {
  uint8_t sk[32] = {0};
  sk[31] = 9;
  gdb_nostr_event *ev = NULL;
  gdb_nostr_event_sign(sk, at, kind, tags, "x", &ev);
  return ev;
}

static bool match(const char *filter, const gdb_nostr_event *ev) {
  gdb_nostr_filter *f;
  if (gdb_nostr_filter_parse(filter, strlen(filter), &f)) return false;
  bool m = gdb_nostr_filter_match(f, ev);
  gdb_nostr_filter_free(f);
  return m;
}

TEST(nostr_filter_matching) {
  gdb_nostr_event *ev = make(1, 1000, "[[\"x\",\"topic\"],[\"p\",\"abc\",\"relay\"],[\"t\"]]");
  CHECK(ev);
  char f[400];
  CHECK(match("{}", ev));
  snprintf(f, sizeof f, "{\"ids\":[\"%s\"]}", gdb_nostr_event_id(ev));
  CHECK(match(f, ev));
  CHECK(!match("{\"ids\":[\"0000000000000000000000000000000000000000000000000000000000000000\"]}",
               ev));
  snprintf(f, sizeof f, "{\"authors\":[\"%s\",\"%064d\"]}", gdb_nostr_event_pubkey(ev), 0);
  CHECK(match(f, ev));
  CHECK(match("{\"kinds\":[0,1,2]}", ev));
  CHECK(!match("{\"kinds\":[2]}", ev));
  CHECK(!match("{\"kinds\":[]}", ev));
  CHECK(match("{\"#x\":[\"other\",\"topic\"]}", ev));
  CHECK(!match("{\"#x\":[\"other\"]}", ev));
  CHECK(match("{\"#p\":[\"abc\"]}", ev));
  CHECK(!match("{\"#e\":[\"abc\"]}", ev));
  CHECK(!match("{\"#t\":[\"\"]}", ev)); /* a tag without a value matches nothing */
  CHECK(match("{\"since\":1000,\"until\":1000}", ev));
  CHECK(!match("{\"since\":1001}", ev));
  CHECK(!match("{\"until\":999}", ev));
  CHECK(match("{\"kinds\":[1],\"#x\":[\"topic\"],\"since\":10,\"limit\":0}", ev));
  CHECK(!match("{\"kinds\":[1],\"#x\":[\"topic\"],\"since\":2000}", ev));
  CHECK(match("{\"search\":\"ignored\"}", ev));
  gdb_nostr_event_release(ev);
}

TEST(nostr_filter_limit_and_errors) {
  gdb_nostr_filter *f;
  CHECK_OK(gdb_nostr_filter_parse("{\"limit\":5}", 11, &f));
  CHECK_INT(gdb_nostr_filter_limit(f), 5);
  gdb_nostr_filter_free(f);
  static const char *BAD[] = {"[]",
                              "{\"ids\":[\"ab\"]}",
                              "{\"kinds\":[\"1\"]}",
                              "{\"since\":-1}",
                              "{\"#xy\":[\"a\"]}",
                              "{\"#x\":[1]}",
                              "{\"limit\":1.5}",
                              "{\"authors\":\"x\"}",
                              "{"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    f = NULL;
    CHECK_MSG(gdb_nostr_filter_parse(BAD[i], strlen(BAD[i]), &f) != GDB_OK, "accepted %s", BAD[i]);
    CHECK(!f);
  }
}

/* The canonical key of a filter (net/nostr/filter.h): what lets the relay match an event once
 * for all subscriptions with equal filters. */
#include "core/buf.h"
#include "net/nostr/filter.h"

static bool same_key(const char *a, const char *b) {
  gdb_nostr_filter *fa = NULL, *fb = NULL;
  gdb_buf ka = {0}, kb = {0};
  bool same = false;
  if (!gdb_nostr_filter_parse(a, strlen(a), &fa) && !gdb_nostr_filter_parse(b, strlen(b), &fb)) {
    gdb_nostr_filter_key(fa, &ka);
    gdb_nostr_filter_key(fb, &kb);
    same = ka.len == kb.len && !memcmp(ka.data, kb.data, ka.len);
  }
  gdb_buf_free(&ka);
  gdb_buf_free(&kb);
  gdb_nostr_filter_free(fa);
  gdb_nostr_filter_free(fb);
  return same;
}

TEST(nostr_filter_key_is_canonical) {
  CHECK(same_key("{\"kinds\":[2,1]}", "{\"kinds\":[1,2]}"));
  CHECK(same_key("{\"#x\":[\"b\",\"a\"],\"limit\":5}", "{\"#x\":[\"a\",\"b\"]}")); /* limit aside */
  CHECK(same_key("{\"kinds\":[1],\"search\":\"q\"}", "{\"kinds\":[1]}")); /* ignored keys */
  CHECK(!same_key("{\"ids\":[]}", "{}")); /* matches nothing vs everything */
  CHECK(!same_key("{\"kinds\":[]}", "{}"));
  CHECK(!same_key("{\"#x\":[\"ab\"]}", "{\"#x\":[\"a\",\"b\"]}"));
  CHECK(!same_key("{\"#x\":[\"a\"]}", "{\"#y\":[\"a\"]}"));
  CHECK(!same_key("{\"since\":5}", "{\"until\":5}"));
  CHECK(!same_key("{\"kinds\":[1]}", "{\"kinds\":[1],\"since\":0}"));
}
