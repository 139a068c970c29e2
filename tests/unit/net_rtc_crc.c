/* net_rtc_crc.c — the SCTP checksum computed for usrsctp's checksum offload matches usrsctp's
 * own CRC32c for every length and alignment, and the RFC 3720 test vector. */
#include "test.h"

#include "net/rtc/rtc.h"

#include <usrsctp.h>

TEST(rtc_crc32c_matches_usrsctp) {
  uint8_t buf[2100];
  uint32_t x = 1;
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
  for (size_t off = 0; off < 8; off++)
    for (size_t len = 0; len + off <= sizeof buf; len += len < 64 ? 1 : 97)
      CHECK_MSG(gdb_rtc_crc32c(buf + off, len) == usrsctp_crc32c(buf + off, len),
                "offset %zu length %zu", off, len);
  /* RFC 3720 B.4: 32 bytes of zeros → CRC32c 0x8a9136aa (on the wire: aa 36 91 8a). */
  uint8_t zeros[32] = {0};
  uint32_t c = gdb_rtc_crc32c(zeros, sizeof zeros);
  CHECK_INT(c, 0x8a9136aau);
}
