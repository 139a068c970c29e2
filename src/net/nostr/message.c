/*
 * message.c — parsing and encoding of the NIP-01 messages (see message.h). jansson parses the
 * JSON (duplicate keys refused, UTF-8 checked); this file checks the message shapes.
 */
#include "net/nostr/message.h"

#include "core/error.h"
#include "net/nostr/event.h"
#include "net/nostr/filter.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void gdb_nostr_msg_clear(gdb_nostr_msg *m) {
  gdb_nostr_event_release(m->event);
  for (size_t i = 0; i < m->n_filters; i++) gdb_nostr_filter_free(m->filters[i]);
  free(m->filters);
  free(m->message);
  memset(m, 0, sizeof *m);
}

static int sub_id(json_t *v, gdb_nostr_msg *m) {
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (!s || n == 0 || n > GDB_NOSTR_SUBID_MAX)
    return gdb_fail(GDB_EINVAL, "subscription id must be a string of 1 to %d characters",
                    GDB_NOSTR_SUBID_MAX);
  memcpy(m->sub_id, s, n + 1);
  return GDB_OK;
}

static int text(json_t *v, char **out) {
  if (!json_is_string(v)) return gdb_fail(GDB_EINVAL, "message text must be a string");
  *out = strdup(json_string_value(v));
  return *out ? GDB_OK : gdb_fail(GDB_ENOMEM, "out of memory");
}

static const struct {
  const char *name;
  gdb_nostr_msg_type type;
  gdb_nostr_msg_dir dir;
} TYPES[] = {
    {"EVENT", GDB_NMSG_EVENT, GDB_NMSG_TO_RELAY},
    {"REQ", GDB_NMSG_REQ, GDB_NMSG_TO_RELAY},
    {"CLOSE", GDB_NMSG_CLOSE, GDB_NMSG_TO_RELAY},
    {"EVENT", GDB_NMSG_EVENT, GDB_NMSG_TO_CLIENT},
    {"OK", GDB_NMSG_OK, GDB_NMSG_TO_CLIENT},
    {"EOSE", GDB_NMSG_EOSE, GDB_NMSG_TO_CLIENT},
    {"NOTICE", GDB_NMSG_NOTICE, GDB_NMSG_TO_CLIENT},
    {"CLOSED", GDB_NMSG_CLOSED, GDB_NMSG_TO_CLIENT},
};

static int parse_array(json_t *a, gdb_nostr_msg_dir dir, size_t max_filters, gdb_nostr_msg *m) {
  if (!json_is_array(a) || json_array_size(a) < 1)
    return gdb_fail(GDB_EINVAL, "a message must be a JSON array starting with its type");
  const char *name = json_string_value(json_array_get(a, 0));
  if (!name) return gdb_fail(GDB_EINVAL, "a message must start with its type as a string");
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
    if (TYPES[i].dir == dir && !strcmp(TYPES[i].name, name)) m->type = TYPES[i].type;
  if (!m->type) return gdb_fail(GDB_EINVAL, "unknown message type \"%.16s\"", name);
  size_t n = json_array_size(a);
  int rc;
  switch (m->type) {
  case GDB_NMSG_EVENT:
    if (dir == GDB_NMSG_TO_RELAY) {
      if (n != 2) return gdb_fail(GDB_EINVAL, "EVENT takes exactly one event");
      return gdb_nostr_event_from_json(json_array_get(a, 1), &m->event);
    }
    if (n != 3) return gdb_fail(GDB_EINVAL, "EVENT takes a subscription id and one event");
    if ((rc = sub_id(json_array_get(a, 1), m))) return rc;
    return gdb_nostr_event_from_json(json_array_get(a, 2), &m->event);
  case GDB_NMSG_REQ:
    if (n < 2) return gdb_fail(GDB_EINVAL, "REQ takes a subscription id and filters");
    if ((rc = sub_id(json_array_get(a, 1), m))) return rc;
    if (n < 3) return gdb_fail(GDB_EINVAL, "REQ takes at least one filter");
    if (n - 2 > max_filters)
      return gdb_fail(GDB_ETOOBIG, "REQ has %zu filters, over the limit of %zu", n - 2,
                      max_filters);
    m->filters = calloc(n - 2, sizeof *m->filters);
    if (!m->filters) return gdb_fail(GDB_ENOMEM, "out of memory");
    for (size_t i = 2; i < n; i++) {
      if ((rc = gdb_nostr_filter_from_json(json_array_get(a, i), &m->filters[i - 2]))) return rc;
      m->n_filters++;
    }
    return GDB_OK;
  case GDB_NMSG_CLOSE:
    if (n != 2) return gdb_fail(GDB_EINVAL, "CLOSE takes exactly a subscription id");
    return sub_id(json_array_get(a, 1), m);
  case GDB_NMSG_OK: {
    if (n != 4) return gdb_fail(GDB_EINVAL, "OK takes an event id, a boolean and a message");
    const char *id = json_string_value(json_array_get(a, 1));
    if (!id || strlen(id) != 64) return gdb_fail(GDB_EINVAL, "OK: event id must be 64 hex");
    memcpy(m->event_id, id, 65);
    if (!json_is_boolean(json_array_get(a, 2)))
      return gdb_fail(GDB_EINVAL, "OK: second element must be true or false");
    m->ok = json_is_true(json_array_get(a, 2));
    return text(json_array_get(a, 3), &m->message);
  }
  case GDB_NMSG_EOSE:
    if (n != 2) return gdb_fail(GDB_EINVAL, "EOSE takes exactly a subscription id");
    return sub_id(json_array_get(a, 1), m);
  case GDB_NMSG_NOTICE:
    if (n != 2) return gdb_fail(GDB_EINVAL, "NOTICE takes exactly a message");
    return text(json_array_get(a, 1), &m->message);
  case GDB_NMSG_CLOSED:
    if (n != 3) return gdb_fail(GDB_EINVAL, "CLOSED takes a subscription id and a message");
    if ((rc = sub_id(json_array_get(a, 1), m))) return rc;
    return text(json_array_get(a, 2), &m->message);
  }
  return gdb_fail(GDB_EINVAL, "unknown message type");
}

int gdb_nostr_msg_parse(const char *s, size_t n, gdb_nostr_msg_dir dir, size_t max_filters,
                        gdb_nostr_msg *out) {
  memset(out, 0, sizeof *out);
  json_error_t err;
  json_t *a = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
  if (!a) return gdb_fail(GDB_EINVAL, "malformed JSON: %s (at byte %d)", err.text, err.position);
  int rc = parse_array(a, dir, max_filters, out);
  json_decref(a);
  return rc;
}

static void put_str(gdb_buf *b, const char *s) { gdb_nostr_put_string(b, s, strlen(s), true); }

void gdb_nostr_msg_notice(gdb_buf *b, const char *msg) {
  gdb_buf_puts(b, "[\"NOTICE\",");
  put_str(b, msg);
  gdb_buf_putc(b, ']');
}

void gdb_nostr_msg_ok(gdb_buf *b, const char *event_id, bool ok, const char *msg) {
  gdb_buf_puts(b, "[\"OK\",");
  put_str(b, event_id);
  gdb_buf_puts(b, ok ? ",true," : ",false,");
  put_str(b, msg);
  gdb_buf_putc(b, ']');
}

void gdb_nostr_msg_closed(gdb_buf *b, const char *sub, const char *msg) {
  gdb_buf_puts(b, "[\"CLOSED\",");
  put_str(b, sub);
  gdb_buf_putc(b, ',');
  put_str(b, msg);
  gdb_buf_putc(b, ']');
}

void gdb_nostr_msg_eose(gdb_buf *b, const char *sub) {
  gdb_buf_puts(b, "[\"EOSE\",");
  put_str(b, sub);
  gdb_buf_putc(b, ']');
}

void gdb_nostr_msg_event(gdb_buf *b, const char *sub, const gdb_nostr_event *ev) {
  gdb_buf_puts(b, "[\"EVENT\",");
  if (sub) {
    put_str(b, sub);
    gdb_buf_putc(b, ',');
  }
  gdb_buf_put(b, ev->json, ev->json_len);
  gdb_buf_putc(b, ']');
}
