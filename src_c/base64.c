/* Base64 with the standard alphabet and padding; the decoder accepts canonical text only. */
#include "base64.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet characters, 64 for anything else (including '=' and bytes >= 0x80) */
static const uint8_t VALUES[256] = {
#define X 64
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,  X,  63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  X,
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
#undef X
};

size_t at2_base64_encode(const uint8_t *data, size_t size, char *out)
{
    size_t i = 0;
    char *start = out;

    for (; i + 3 <= size; i += 3) {
        uint32_t triple = ((uint32_t)data[i] << 16) | ((uint32_t)data[i + 1] << 8) | data[i + 2];
        *out++ = ALPHABET[triple >> 18];
        *out++ = ALPHABET[(triple >> 12) & 63];
        *out++ = ALPHABET[(triple >> 6) & 63];
        *out++ = ALPHABET[triple & 63];
    }
    if (size - i == 1) {
        uint32_t triple = (uint32_t)data[i] << 16;
        *out++ = ALPHABET[triple >> 18];
        *out++ = ALPHABET[(triple >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (size - i == 2) {
        uint32_t triple = ((uint32_t)data[i] << 16) | ((uint32_t)data[i + 1] << 8);
        *out++ = ALPHABET[triple >> 18];
        *out++ = ALPHABET[(triple >> 12) & 63];
        *out++ = ALPHABET[(triple >> 6) & 63];
        *out++ = '=';
    }
    return (size_t)(out - start);
}

int at2_base64_check(const char *text, size_t size)
{
    const uint8_t *in = (const uint8_t *)text;
    size_t full, i, padding = 0;
    uint8_t bad = 0;

    if (size % 4)
        return -1;
    if (size && in[size - 1] == '=')
        padding = in[size - 2] == '=' ? 2 : 1;
    full = size - (padding ? 4 : 0);
    for (i = 0; i < full; i++)
        bad |= VALUES[in[i]];
    if (bad & 64)
        return -1;
    if (padding) {
        uint8_t last[3];
        size_t last_size;
        return at2_base64_decode(text + full, 4, last, &last_size);
    }
    return 0;
}

int at2_base64_decode(const char *text, size_t size, uint8_t *out, size_t *out_size)
{
    const uint8_t *in = (const uint8_t *)text;
    size_t full, i, padding = 0;
    uint8_t *start = out;
    uint32_t bad = 0;

    if (size % 4)
        return -1;
    if (size) {
        if (in[size - 1] == '=')
            padding = in[size - 2] == '=' ? 2 : 1;
    }
    full = size - (padding ? 4 : 0);
    /* a bad character is found after the loop, not in it: what was written for it is never reported */
    for (i = 0; i < full; i += 4) {
        uint32_t a = VALUES[in[i]], b = VALUES[in[i + 1]], c = VALUES[in[i + 2]], d = VALUES[in[i + 3]];
        bad |= a | b | c | d;
        *out++ = (uint8_t)((a << 2) | (b >> 4));
        *out++ = (uint8_t)((b << 4) | (c >> 2));
        *out++ = (uint8_t)((c << 6) | d);
    }
    if (bad & 64)
        return -1;
    if (padding) {
        uint32_t a = VALUES[in[full]], b = VALUES[in[full + 1]];
        if ((a | b) & 64)
            return -1;
        *out++ = (uint8_t)((a << 2) | (b >> 4));
        if (padding == 2) {
            if (b & 15)
                return -1;
        } else {
            uint32_t c = VALUES[in[full + 2]];
            if ((c & 64) || (c & 3))
                return -1;
            *out++ = (uint8_t)((b << 4) | (c >> 2));
        }
    }
    *out_size = (size_t)(out - start);
    return 0;
}
