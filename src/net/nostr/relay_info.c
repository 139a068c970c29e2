/*
 * relay_info.c — the embedded relay's HTTP answers (see relay_info.h): a status JSON for
 * people and monitoring, and NIP-11 for Nostr clients, both with Access-Control-Allow-Origin
 * so browser pages can read them. Kept apart from relay.c, which is about WebSocket traffic.
 */
#include "net/nostr/relay_info.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *gdb_nostr_relay_info_status(const char *name, const gdb_nostr_relay_stats *st) {
  json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "relay", name, "connections",
                        (json_int_t)st->connections, "events", (json_int_t)st->events, "dropped",
                        (json_int_t)st->dropped, "stored", (json_int_t)st->stored, "delivered",
                        (json_int_t)st->delivered);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

char *gdb_nostr_relay_info_nip11(const char *name, const gdb_nostr_relay_options *opt) {
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:[i,i,i], s:{s:i, s:i, s:i, s:i, s:b, s:b}}", "name", name,
      "description", "genosdb embedded relay (signaling: ephemeral events are never stored)",
      "software", "genosdb", "version", GDB_VERSION_STRING, "supported_nips", 1, 11, 13,
      "limitation", "max_message_length", (int)opt->max_message, "max_subscriptions",
      (int)opt->max_subs, "max_filters", (int)opt->max_filters, "min_pow_difficulty", opt->min_pow,
      "auth_required", 0, "payment_required", 0);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

int gdb_nostr_relay_info_request(struct lws *wsi, const char *name, const gdb_nostr_relay_stats *st,
                                 const gdb_nostr_relay_options *o, char **body) {
  char accept[256] = "";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_ACCEPT) > 0)
    lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT);
  bool nip11 = strstr(accept, "application/nostr+json") != NULL;
  free(*body);
  *body = nip11 ? gdb_nostr_relay_info_nip11(name, o) : gdb_nostr_relay_info_status(name, st);
  if (!*body) return -1;
  uint8_t buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK,
                                  nip11 ? "application/nostr+json" : "application/json",
                                  strlen(*body), &p, end) ||
      lws_add_http_header_by_name(
          wsi, (const uint8_t *)"access-control-allow-origin:", (const uint8_t *)"*", 1, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

int gdb_nostr_relay_info_writable(struct lws *wsi, char **body) {
  if (!*body) return -1;
  size_t len = strlen(*body);
  uint8_t *buf = malloc(LWS_PRE + len);
  if (!buf) return -1;
  memcpy(buf + LWS_PRE, *body, len);
  int n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
  free(buf);
  free(*body);
  *body = NULL;
  if (n < (int)len) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}
