/*
 * lock.c — the writer lock of a database file: PATH.lock, held with flock() by the process
 * that has the database open and holding that process's pid, program and start time, so a
 * second opener can say who holds it. The kernel drops the lock when the holder dies (even by
 * SIGKILL), so a stale file never blocks anyone.
 */
#include "store/store.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static void lock_path(const char *db_path, char *out, size_t cap) {
  snprintf(out, cap, "%s.lock", db_path);
}

/* The holder's description from the lock file ("pid 123 (genosdb serve) since …"). */
static void describe_holder(int fd, char *out, size_t cap) {
  char buf[512];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) {
    snprintf(out, cap, "another process");
    return;
  }
  buf[n] = 0;
  long pid = 0;
  char prog[256] = "?", since[64] = "?";
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    if (!strncmp(line, "pid=", 4)) pid = strtol(line + 4, NULL, 10);
    else if (!strncmp(line, "program=", 8)) snprintf(prog, sizeof prog, "%s", line + 8);
    else if (!strncmp(line, "since=", 6)) snprintf(since, sizeof since, "%s", line + 6);
  }
  snprintf(out, cap, "%s %ld (%s) since %s", pid == (long)getpid() ? "this process, pid" : "pid",
           pid, prog, since);
}

/* The command line of this process, arguments joined by spaces (for the lock file). */
static void own_program(char *out, size_t cap) {
  out[0] = 0;
  FILE *f = fopen("/proc/self/cmdline", "rb");
  if (!f) return;
  size_t n = fread(out, 1, cap - 1, f);
  fclose(f);
  out[n] = 0;
  for (size_t i = 0; i + 1 < n; i++)
    if (!out[i]) out[i] = ' ';
  /* keep the program's base name and its first arguments */
  char *slash = NULL;
  for (char *p = out; *p && *p != ' '; p++)
    if (*p == '/') slash = p;
  if (slash) memmove(out, slash + 1, strlen(slash + 1) + 1);
  if (strlen(out) > 120) strcpy(out + 117, "...");
}

int gdb_lockfile_acquire(const char *db_path, int *fd_out) {
  char path[4096];
  lock_path(db_path, path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return gdb_fail(GDB_EIO, "cannot create the lock file %s: %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char who[400];
    describe_holder(fd, who, sizeof who);
    close(fd);
    if (err == EWOULDBLOCK)
      return gdb_fail(GDB_EBUSY, "database %s is in use by %s; close it there first", db_path, who);
    return gdb_fail(GDB_EIO, "cannot lock %s: %s", path, strerror(err));
  }
  char prog[160], since[64], text[400];
  own_program(prog, sizeof prog);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
  int n = snprintf(text, sizeof text, "pid=%ld\nprogram=%s\nsince=%s\n", (long)getpid(), prog, since);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
    /* The lock itself is held; a missing description only makes errors less helpful. */
  }
  *fd_out = fd;
  return GDB_OK;
}

void gdb_lockfile_release(int fd, const char *db_path) {
  (void)db_path;
  if (fd < 0) return;
  /* The file stays: removing it would race with a process that just opened it. */
  if (ftruncate(fd, 0) != 0) {
  }
  flock(fd, LOCK_UN);
  close(fd);
}
