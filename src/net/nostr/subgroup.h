/*
 * subgroup.h — subscriptions with equal filters, grouped so that the relay matches each
 * event once per distinct filter set instead of once per subscription. In a signaling room
 * every peer subscribes with the same filter, so a fan-out to N peers costs one match. See
 * subgroup.c.
 */
#ifndef GDB_NOSTR_SUBGROUP_H
#define GDB_NOSTR_SUBGROUP_H

#include "net/nostr/event.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gdb_nostr_subgroups gdb_nostr_subgroups;
typedef struct gdb_nostr_subgroup gdb_nostr_subgroup;

/* The relay's table of groups (network thread only). NULL when memory is short. */
gdb_nostr_subgroups *gdb_nostr_subgroups_new(void);
void gdb_nostr_subgroups_free(gdb_nostr_subgroups *t);
/* The group of the filter list f[0..n) (OR of the filters), created if needed, with a
 * reference taken for the caller; NULL when memory is short (the caller then matches alone). */
gdb_nostr_subgroup *gdb_nostr_subgroup_join(gdb_nostr_subgroups *t, gdb_nostr_filter *const *f,
                                            size_t n);
/* Drops the caller's reference (g may be NULL). */
void gdb_nostr_subgroup_leave(gdb_nostr_subgroups *t, gdb_nostr_subgroup *g);
/* Whether ev matches the group's filters, which the caller passes (its own: every member's
 * are equal). Computed once per gen: the caller bumps gen for each event it fans out. */
bool gdb_nostr_subgroup_match(gdb_nostr_subgroup *g, uint64_t gen, gdb_nostr_filter *const *f,
                              size_t n, const gdb_nostr_event *ev);

#endif
