/* CRC-32 as zlib, binascii and the 006 format compute it (reflected polynomial 0xEDB88320, starting and
 * ending with all bits flipped). */
#ifndef ACCESSTOKEN2_CRC32_H
#define ACCESSTOKEN2_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over data[0..size): crc32(a + b) == at2_crc32_update(crc32(a), b). */
uint32_t at2_crc32_update(uint32_t crc, const uint8_t *data, size_t size);

#endif
