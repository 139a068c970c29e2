/*
 * relay_info.h — the embedded relay's HTTP answers (issue 6): GET / with its status JSON, or
 * with "Accept: application/nostr+json" its NIP-11 information document. See relay_info.c.
 */
#ifndef GDB_NOSTR_RELAY_INFO_H
#define GDB_NOSTR_RELAY_INFO_H

#include "genosdb.h"

#include <libwebsockets.h>

/* {"relay":name,"connections":N,"events":N,"dropped":N,"stored":N,"delivered":N}; caller
 * frees with free(); NULL when memory is short. */
char *gdb_nostr_relay_info_status(const char *name, const gdb_nostr_relay_stats *st);
/* The NIP-11 document for a relay with these options; caller frees; NULL when memory is short. */
char *gdb_nostr_relay_info_nip11(const char *name, const gdb_nostr_relay_options *o);
/* From LWS_CALLBACK_HTTP: chooses the answer by the Accept header, writes the headers and
 * asks for a writable callback; *body (caller frees) keeps the answer for _writable. -1 to
 * close. */
int gdb_nostr_relay_info_request(struct lws *wsi, const char *name, const gdb_nostr_relay_stats *st,
                                 const gdb_nostr_relay_options *o, char **body);
/* From LWS_CALLBACK_HTTP_WRITEABLE: writes *body and frees it. -1 to close. */
int gdb_nostr_relay_info_writable(struct lws *wsi, char **body);

#endif
