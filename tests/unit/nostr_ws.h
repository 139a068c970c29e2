/*
 * nostr_ws.h — a minimal blocking WebSocket client for the relay tests: it sends exactly the
 * bytes a test wants (malformed JSON, oversize frames, floods) and reads text frames back with
 * a deadline. Loopback only. Not a general client: no fragmentation on send, no TLS.
 */
#ifndef GDB_TEST_NOSTR_WS_H
#define GDB_TEST_NOSTR_WS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline int64_t tws_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline bool tws_write_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    b += w;
    n -= (size_t)w;
  }
  return true;
}

/* Reads exactly n bytes before deadline_ms (monotonic). */
static inline bool tws_read_full(int fd, void *p, size_t n, int64_t deadline) {
  uint8_t *b = p;
  while (n) {
    int64_t left = deadline - tws_now_ms();
    if (left <= 0) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, (int)left) <= 0) return false;
    ssize_t r = recv(fd, b, n, 0);
    if (r <= 0) return false;
    b += r;
    n -= (size_t)r;
  }
  return true;
}

/* Connects and upgrades with a receive buffer of rcvbuf bytes (0: the system's, autotuned);
 * -1 on failure. A small one, set before connecting, makes a slow reader. */
static inline int tws_connect_rcvbuf(uint16_t port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
    if (fd >= 0) close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char req[300];
  int n = snprintf(req, sizeof req,
                   "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   port);
  if (!tws_write_all(fd, req, (size_t)n)) goto fail;
  /* read the 101 response up to the blank line, byte by byte (it is short) */
  char resp[1024];
  size_t len = 0;
  int64_t deadline = tws_now_ms() + 5000;
  while (len < sizeof resp - 1) {
    if (!tws_read_full(fd, resp + len, 1, deadline)) goto fail;
    len++;
    if (len >= 4 && !memcmp(resp + len - 4, "\r\n\r\n", 4)) break;
  }
  resp[len] = 0;
  if (!strstr(resp, " 101 ")) goto fail;
  return fd;
fail:
  close(fd);
  return -1;
}

/* Connects and upgrades; -1 on failure. */
static inline int tws_connect(uint16_t port) { return tws_connect_rcvbuf(port, 0); }

/* Sends one masked frame with the given opcode (0x1 text) and FIN. */
static inline bool tws_send_frame(int fd, int opcode, const void *p, size_t n) {
  size_t hl = 2 + (n < 126 ? 0 : n <= 0xffff ? 2 : 8) + 4;
  uint8_t *f = malloc(hl + n);
  if (!f) return false;
  f[0] = (uint8_t)(0x80 | opcode);
  size_t o = 2;
  if (n < 126) {
    f[1] = (uint8_t)(0x80 | n);
  } else if (n <= 0xffff) {
    f[1] = 0x80 | 126;
    f[2] = (uint8_t)(n >> 8);
    f[3] = (uint8_t)n;
    o = 4;
  } else {
    f[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) f[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    o = 10;
  }
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  memcpy(f + o, mask, 4);
  o += 4;
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) f[o + i] = b[i] ^ mask[i & 3];
  bool ok = tws_write_all(fd, f, o + n);
  free(f);
  return ok;
}

static inline bool tws_send(int fd, const char *text) {
  return tws_send_frame(fd, 0x1, text, strlen(text));
}

/* Reads the next text frame (skipping control frames) into a malloc'd NUL-terminated string;
 * NULL on timeout, close or error. */
static inline char *tws_recv(int fd, int timeout_ms) {
  int64_t deadline = tws_now_ms() + timeout_ms;
  for (;;) {
    uint8_t h[2];
    if (!tws_read_full(fd, h, 2, deadline)) return NULL;
    uint64_t n = h[1] & 0x7f;
    if (n == 126) {
      uint8_t e[2];
      if (!tws_read_full(fd, e, 2, deadline)) return NULL;
      n = (uint64_t)e[0] << 8 | e[1];
    } else if (n == 127) {
      uint8_t e[8];
      if (!tws_read_full(fd, e, 8, deadline)) return NULL;
      n = 0;
      for (int i = 0; i < 8; i++) n = n << 8 | e[i];
    }
    if (n > (64u << 20)) return NULL;
    char *s = malloc(n + 1);
    if (!s || !tws_read_full(fd, s, n, deadline)) {
      free(s);
      return NULL;
    }
    s[n] = 0;
    int op = h[0] & 0x0f;
    if (op == 0x1) return s;
    free(s);
    if (op == 0x8) return NULL; /* close */
  }
}

/* Receives frames until one contains needle (returned) or the deadline passes (NULL). */
static inline char *tws_expect(int fd, const char *needle, int timeout_ms) {
  int64_t deadline = tws_now_ms() + timeout_ms;
  for (;;) {
    int64_t left = deadline - tws_now_ms();
    if (left <= 0) return NULL;
    char *s = tws_recv(fd, (int)left);
    if (!s) return NULL;
    if (strstr(s, needle)) return s;
    free(s);
  }
}

#endif
