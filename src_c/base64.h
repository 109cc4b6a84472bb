/* Standard base64 (RFC 4648 section 4) with padding, and a strict canonical decoder. */
#ifndef ACCESSTOKEN2_BASE64_H
#define ACCESSTOKEN2_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode `size` bytes (no terminator). */
#define AT2_BASE64_ENCODED_SIZE(size) ((((size) + 2) / 3) * 4)

/* Writes AT2_BASE64_ENCODED_SIZE(size) characters to out; returns that count. */
size_t at2_base64_encode(const uint8_t *data, size_t size, char *out);

/* Decodes text that is exactly what at2_base64_encode writes for some bytes: only A-Z a-z 0-9 + /,
 * a length that is a multiple of 4, '=' only as the last one or two characters, unused bits zero.
 * out needs (size / 4) * 3 bytes.  Returns 0 and the decoded size, or -1 for anything else (out may then
 * hold anything). */
int at2_base64_decode(const char *text, size_t size, uint8_t *out, size_t *out_size);

/* 0 when at2_base64_decode would accept the text, else -1 (nothing is written). */
int at2_base64_check(const char *text, size_t size);

#endif
