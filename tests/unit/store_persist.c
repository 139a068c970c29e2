/* store_persist.c — real SQLite files: round trips, the writer lock, damaged files. */
#include "test.h"

#include "genosdb.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *db_path(const char *name) {
  static char buf[600];
  snprintf(buf, sizeof buf, "%s/%s", gdb_test_tmpdir(), name);
  return buf;
}

static int open_db(const char *path, gdb_durability d, gdb_t **db) {
  gdb_options o;
  gdb_options_init(&o);
  o.durability = d;
  o.save_delay_ms = 20;
  return gdb_open(path, &o, db);
}

/* Fills a database with nodes, edges, removals and remote ops; returns its state hash. */
static void fill(gdb_t *db) {
  for (int i = 0; i < 300; i++) {
    char id[16], v[64];
    snprintf(id, sizeof id, "n%d", i);
    snprintf(v, sizeof v, "{\"i\":%d,\"tags\":[\"t%d\",%d.5],\"nested\":{\"k\":null}}", i, i % 7, i);
    gdb_put_json(db, id, v, strlen(v), NULL);
    if (i > 0) gdb_link(db, id, "n0");
    if (i % 3 == 0) gdb_link(db, "n0", id);
  }
  for (int i = 0; i < 300; i += 10) {
    char id[16];
    snprintf(id, sizeof id, "n%d", i + 5);
    gdb_remove(db, id);
  }
  gdb_link(db, "n1", "future-node");
  const char *ops = "[{\"type\":\"link\",\"sourceId\":\"stub\",\"targetId\":\"n1\",\"timestamp\":{\"physical\":10,\"logical\":1}},"
                    "{\"type\":\"remove\",\"id\":\"never-seen\",\"timestamp\":{\"physical\":11,\"logical\":1},\"origin\":\"zz\"}]";
  gdb_apply_remote_json(db, ops, strlen(ops), NULL);
}

TEST(reopen_restores_identical_state) {
  const char *path = db_path("a.db");
  gdb_t *db;
  CHECK_OK(open_db(path, GDB_DURABILITY_ASYNC, &db));
  fill(db);
  char before[65], after[65], peer[65];
  CHECK_OK(gdb_state_hash(db, before));
  snprintf(peer, sizeof peer, "%s", gdb_peer_id(db));
  gdb_stats s1, s2;
  gdb_get_stats(db, &s1);
  gdb_hlc clock = gdb_last_seen(db);
  CHECK_OK(gdb_close(db));
  CHECK_OK(open_db(path, GDB_DURABILITY_ASYNC, &db));
  CHECK_OK(gdb_state_hash(db, after));
  CHECK_STR(after, before);
  CHECK_STR(gdb_peer_id(db), peer);
  gdb_get_stats(db, &s2);
  CHECK_INT(s2.nodes, s1.nodes);
  CHECK_INT(s2.tombstones, s1.tombstones);
  CHECK_INT(s2.edges, s1.edges);
  CHECK_INT(s2.oplog_len, s1.oplog_len);
  CHECK(gdb_hlc_compare(gdb_last_seen(db), clock) >= 0);
  /* insertion order survives */
  gdb_result *r;
  CHECK_OK(gdb_map(db, "{\"$limit\":3}", &r));
  CHECK_STR(gdb_node_id(gdb_result_at(r, 0)), "n0");
  CHECK_STR(gdb_node_id(gdb_result_at(r, 2)), "n2");
  gdb_result_free(r);
  /* the tombstone still wins over an old upsert after the restart */
  const char *old = "{\"type\":\"upsert\",\"id\":\"never-seen\",\"value\":{},\"timestamp\":{\"physical\":10,\"logical\":9}}";
  gdb_apply_result res;
  CHECK_OK(gdb_apply_remote_json(db, old, strlen(old), &res));
  CHECK_INT(res.ignored, 1);
  CHECK_OK(gdb_close(db));
}

TEST(oplog_persists_with_its_cap) {
  const char *path = db_path("log.db");
  gdb_t *db;
  gdb_options o;
  gdb_options_init(&o);
  o.oplog_size = 10;
  CHECK_OK(gdb_open(path, &o, &db));
  gdb_hlc mark = {0, 0};
  for (int i = 0; i < 25; i++) {
    char id[8];
    snprintf(id, sizeof id, "k%d", i);
    CHECK_OK(gdb_put_json(db, id, "{}", 2, NULL));
    if (i == 17) mark = gdb_last_seen(db);
  }
  CHECK_OK(gdb_close(db));
  CHECK_OK(gdb_open(path, &o, &db));
  gdb_stats s;
  gdb_get_stats(db, &s);
  CHECK_INT(s.oplog_len, 10);
  CHECK(!gdb_oplog_covers(db, (gdb_hlc){0, 0}));
  CHECK(gdb_oplog_covers(db, mark));
  CHECK_OK(gdb_close(db));
  /* the file holds no more than the cap */
  sqlite3 *q;
  CHECK(sqlite3_open(path, &q) == SQLITE_OK);
  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(q, "SELECT count(*) FROM oplog", -1, &st, NULL) == SQLITE_OK);
  CHECK(sqlite3_step(st) == SQLITE_ROW);
  CHECK_INT(sqlite3_column_int(st, 0), 10);
  sqlite3_finalize(st);
  sqlite3_close(q);
}

TEST(async_writes_reach_disk_within_save_delay) {
  const char *path = db_path("async.db");
  gdb_t *db;
  CHECK_OK(open_db(path, GDB_DURABILITY_ASYNC, &db));
  CHECK_OK(gdb_put_json(db, "x", "{\"v\":1}", 7, NULL));
  /* another connection sees the row once the batch committed (save_delay 20 ms) */
  sqlite3 *q;
  CHECK(sqlite3_open_v2(path, &q, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  int seen = 0;
  for (int i = 0; i < 200 && !seen; i++) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q, "SELECT count(*) FROM nodes WHERE id='x'", -1, &st, NULL) == SQLITE_OK) {
      if (sqlite3_step(st) == SQLITE_ROW) seen = sqlite3_column_int(st, 0);
      sqlite3_finalize(st);
    }
    if (!seen) usleep(10000);
  }
  sqlite3_close(q);
  CHECK_INT(seen, 1);
  CHECK_OK(gdb_close(db));
}

typedef struct writer_arg {
  gdb_t *db;
  int base;
  int fails;
} writer_arg;

static void *writer(void *p) {
  writer_arg *a = p;
  for (int i = 0; i < 50; i++) {
    char id[32];
    snprintf(id, sizeof id, "w%d-%d", a->base, i);
    if (gdb_put_json(a->db, id, "{}", 2, NULL)) a->fails++;
  }
  return NULL;
}

TEST(sync_writes_from_many_threads_share_commits) {
  const char *path = db_path("sync.db");
  gdb_t *db;
  CHECK_OK(open_db(path, GDB_DURABILITY_SYNC, &db));
  pthread_t t[8];
  writer_arg args[8];
  for (int i = 0; i < 8; i++) {
    args[i] = (writer_arg){db, i, 0};
    pthread_create(&t[i], NULL, writer, &args[i]);
  }
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 8; i++) CHECK_INT(args[i].fails, 0);
  gdb_stats s;
  gdb_get_stats(db, &s);
  CHECK_INT(s.nodes, 400);
  CHECK(s.store_commits <= 400); /* acknowledged only after commit, and commits were shared */
  CHECK_OK(gdb_close(db));
}

TEST(second_opener_is_told_who_holds_the_database) {
  const char *path = db_path("locked.db");
  gdb_t *db;
  CHECK_OK(open_db(path, GDB_DURABILITY_ASYNC, &db));
  /* another process */
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    gdb_t *other;
    int rc = open_db(path, GDB_DURABILITY_ASYNC, &other);
    dprintf(fds[1], "%d %s", rc, gdb_errmsg());
    _exit(0);
  }
  close(fds[1]);
  char msg[600] = {0};
  ssize_t n = read(fds[0], msg, sizeof msg - 1);
  close(fds[0]);
  waitpid(pid, NULL, 0);
  CHECK(n > 0);
  CHECK_MSG(atoi(msg) == GDB_EBUSY, "child got: %s", msg);
  char pidstr[32];
  snprintf(pidstr, sizeof pidstr, "pid %d", (int)getpid());
  CHECK_MSG(strstr(msg, pidstr) && strstr(msg, "in use"), "message does not name the holder: %s", msg);
  /* the same process, a second handle */
  gdb_t *again;
  CHECK(open_db(path, GDB_DURABILITY_ASYNC, &again) == GDB_EBUSY);
  CHECK_OK(gdb_close(db));
  CHECK_OK(open_db(path, GDB_DURABILITY_ASYNC, &again));
  CHECK_OK(gdb_close(again));
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  fwrite(data, 1, len, f);
  fclose(f);
}

TEST(damaged_files_give_clear_errors) {
  gdb_t *db;
  /* not a database at all */
  const char *junk = db_path("junk.db");
  write_file(junk, "this is not a database, just text that is long enough to be a header....", 72);
  int rc = open_db(junk, GDB_DURABILITY_ASYNC, &db);
  CHECK_MSG(rc == GDB_ECORRUPT, "junk: %d %s", rc, gdb_errmsg());
  CHECK(strstr(gdb_errmsg(), junk));

  /* another application's SQLite database */
  const char *other = db_path("other.db");
  sqlite3 *q;
  CHECK(sqlite3_open(other, &q) == SQLITE_OK);
  sqlite3_exec(q, "CREATE TABLE t(x)", NULL, NULL, NULL);
  sqlite3_close(q);
  rc = open_db(other, GDB_DURABILITY_ASYNC, &db);
  CHECK_MSG(rc == GDB_EINVAL && strstr(gdb_errmsg(), "not a genosdb"), "other: %d %s", rc, gdb_errmsg());

  /* a newer schema */
  const char *newer = db_path("newer.db");
  CHECK_OK(open_db(newer, GDB_DURABILITY_ASYNC, &db));
  CHECK_OK(gdb_close(db));
  CHECK(sqlite3_open(newer, &q) == SQLITE_OK);
  sqlite3_exec(q, "PRAGMA user_version=99", NULL, NULL, NULL);
  sqlite3_close(q);
  rc = open_db(newer, GDB_DURABILITY_ASYNC, &db);
  CHECK_MSG(rc == GDB_EVERSION && strstr(gdb_errmsg(), "99"), "newer: %d %s", rc, gdb_errmsg());

  /* a value that is not MessagePack */
  const char *bad = db_path("badvalue.db");
  CHECK_OK(open_db(bad, GDB_DURABILITY_ASYNC, &db));
  CHECK_OK(gdb_put_json(db, "v", "{\"a\":1}", 7, NULL));
  CHECK_OK(gdb_close(db));
  CHECK(sqlite3_open(bad, &q) == SQLITE_OK);
  sqlite3_exec(q, "UPDATE nodes SET value = x'92c1' WHERE id='v'", NULL, NULL, NULL);
  sqlite3_close(q);
  rc = open_db(bad, GDB_DURABILITY_ASYNC, &db);
  CHECK_MSG(rc == GDB_ECORRUPT && strstr(gdb_errmsg(), "\"v\""), "bad value: %d %s", rc, gdb_errmsg());
}

TEST(truncated_files_never_crash) {
  /* A database of some size, cut at many lengths: every open either works or fails with a
   * clear error. */
  const char *full = db_path("full.db");
  gdb_t *db;
  CHECK_OK(open_db(full, GDB_DURABILITY_ASYNC, &db));
  for (int i = 0; i < 2000; i++) {
    char id[16], v[96];
    snprintf(id, sizeof id, "node%d", i);
    snprintf(v, sizeof v, "{\"i\":%d,\"text\":\"some text to fill pages %d\"}", i, i * 7);
    CHECK_OK(gdb_put_json(db, id, v, strlen(v), NULL));
  }
  CHECK_OK(gdb_close(db));
  FILE *f = fopen(full, "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  rewind(f);
  char *bytes = malloc((size_t)size);
  CHECK(fread(bytes, 1, (size_t)size, f) == (size_t)size);
  fclose(f);
  int opened = 0, refused = 0;
  for (long cut = 0; cut < size; cut += size / 23 + 1) {
    char name[64];
    snprintf(name, sizeof name, "cut%ld.db", cut);
    const char *p = db_path(name);
    write_file(p, bytes, (size_t)cut);
    int rc = open_db(p, GDB_DURABILITY_ASYNC, &db);
    if (rc == GDB_OK) {
      opened++;
      gdb_close(db);
    } else {
      refused++;
      CHECK_MSG(rc == GDB_ECORRUPT || rc == GDB_EIO, "cut at %ld: %d %s", cut, rc, gdb_errmsg());
      CHECK(strlen(gdb_errmsg()) > 10);
    }
  }
  free(bytes);
  CHECK(refused > 0);
  CHECK(opened > 0); /* length 0 is a fresh database */
}

TEST(missing_directory_is_a_clear_error) {
  gdb_t *db;
  int rc = open_db("/nonexistent-dir-for-genosdb/x.db", GDB_DURABILITY_ASYNC, &db);
  CHECK(rc != GDB_OK);
  CHECK(strstr(gdb_errmsg(), "/nonexistent-dir-for-genosdb/x.db"));
}

typedef struct busy_writer {
  gdb_t *db;
  atomic_bool stop;
  int written;
} busy_writer;

static void *keep_writing(void *p) {
  busy_writer *w = p;
  while (!atomic_load(&w->stop) && w->written < 200000) {
    char id[24], v[64];
    snprintf(id, sizeof id, "w%d", w->written);
    snprintf(v, sizeof v, "{\"w\":%d}", w->written);
    if (gdb_put_json(w->db, id, v, strlen(v), NULL)) break;
    w->written++;
  }
  return NULL;
}

/* A backup holds every write acknowledged before it, timestamps, edges, log and peer id
 * included (the same state hash as the original at that point), is a consistent snapshot
 * while another thread keeps writing, and never overwrites. */
TEST(backup_is_a_faithful_consistent_copy) {
  const char *p = db_path("bk-src.db");
  char src[600], dst[600], dst2[600];
  snprintf(src, sizeof src, "%s", p);
  snprintf(dst, sizeof dst, "%s", db_path("bk-copy.db"));
  snprintf(dst2, sizeof dst2, "%s", db_path("bk-copy2.db"));
  gdb_t *db;
  CHECK_OK(open_db(src, GDB_DURABILITY_ASYNC, &db));
  fill(db);
  char want[65], got[65];
  CHECK_OK(gdb_state_hash(db, want));
  gdb_stats s0;
  gdb_get_stats(db, &s0);
  char peer[128];
  snprintf(peer, sizeof peer, "%s", gdb_peer_id(db));
  CHECK_OK(gdb_backup(db, dst)); /* nothing flushed yet by the caller: the backup flushes */
  CHECK(gdb_backup(db, dst) == GDB_EINVAL && strstr(gdb_errmsg(), "exists"));

  /* while a thread writes */
  busy_writer w = {.db = db};
  pthread_t t;
  pthread_create(&t, NULL, keep_writing, &w);
  while (w.written < 2000) usleep(1000);
  int before = w.written;
  CHECK_OK(gdb_backup(db, dst2));
  atomic_store(&w.stop, true);
  pthread_join(t, NULL);
  CHECK_OK(gdb_close(db));

  gdb_t *copy;
  CHECK_OK(open_db(dst, GDB_DURABILITY_ASYNC, &copy));
  CHECK_OK(gdb_state_hash(copy, got));
  CHECK_STR(got, want);
  gdb_stats s1;
  gdb_get_stats(copy, &s1);
  CHECK_STR(gdb_peer_id(copy), peer);
  CHECK_INT(s1.oplog_len, s0.oplog_len);
  gdb_node *n;
  CHECK_OK(gdb_get(copy, "n1", &n));
  gdb_node_release(n);
  CHECK_OK(gdb_close(copy));

  CHECK_OK(open_db(dst2, GDB_DURABILITY_ASYNC, &copy));
  gdb_get_stats(copy, &s1);
  CHECK(s1.nodes >= s0.nodes + (uint64_t)before); /* every write acknowledged before it */
  /* a snapshot: the w<i> present are exactly w0..w<k-1> for some k */
  uint64_t k = s1.nodes - s0.nodes;
  char id[24];
  snprintf(id, sizeof id, "w%llu", (unsigned long long)(k - 1));
  CHECK_OK(gdb_get(copy, id, &n));
  gdb_node_release(n);
  snprintf(id, sizeof id, "w%llu", (unsigned long long)k);
  CHECK(gdb_get(copy, id, &n) == GDB_ENOTFOUND);
  CHECK_OK(gdb_close(copy));

  gdb_t *mem;
  CHECK_OK(gdb_open(NULL, NULL, &mem));
  CHECK(gdb_backup(mem, db_path("bk-mem.db")) == GDB_EINVAL);
  gdb_close(mem);
}
