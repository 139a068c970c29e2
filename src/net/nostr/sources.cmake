# Nostr signaling: events, filters, wire messages, the embedded relay, the relay pool and the
# room signaling protocol (docs/nostr.md, docs/protocol/signaling.md).
target_sources(gdb_net PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/event.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/filter.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/message.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/lws_glue.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/relay.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/relay_info.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/seen.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/subgroup.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/verifier.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/wsout.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/pool.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/seal.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nostr/room.c)
