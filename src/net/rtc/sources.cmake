# WebRTC data channels (issue 5): SDP, DTLS, SCTP over DTLS, DCEP, peer connections.
target_sources(gdb_net PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/rtc/sdp.c
  ${CMAKE_CURRENT_SOURCE_DIR}/rtc/dcep.c
  ${CMAKE_CURRENT_SOURCE_DIR}/rtc/dtls.c
  ${CMAKE_CURRENT_SOURCE_DIR}/rtc/sctp.c
  ${CMAKE_CURRENT_SOURCE_DIR}/rtc/ice.c
  ${CMAKE_CURRENT_SOURCE_DIR}/rtc/peer.c
  ${CMAKE_CURRENT_SOURCE_DIR}/rtc/channel.c)
