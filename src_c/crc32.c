/* CRC-32, four bytes a step (slicing by 4).  Input words are assembled from bytes with shifts, so the result
 * does not depend on the machine's byte order. */
#include "crc32.h"

#include "threads.h"

#define POLYNOMIAL 0xEDB88320u

/* slices[k][n]: the CRC of byte n followed by k zero bytes, without the final flip */
static uint32_t slices[4][256];
static at2_once slices_once = AT2_ONCE_INIT;
static volatile int slices_ready;

static void fill_slices(void)
{
    uint32_t n, value;
    int bit, k;

    for (n = 0; n < 256; n++) {
        value = n;
        for (bit = 0; bit < 8; bit++)
            value = (value >> 1) ^ (POLYNOMIAL & (0u - (value & 1)));
        slices[0][n] = value;
    }
    for (n = 0; n < 256; n++)
        for (k = 1; k < 4; k++)
            slices[k][n] = (slices[k - 1][n] >> 8) ^ slices[0][slices[k - 1][n] & 0xFF];
    slices_ready = 1;
}

/* one bit at a time: used only if the tables could not be built */
static uint32_t crc_bitwise(uint32_t crc, const uint8_t *data, size_t size)
{
    int bit;

    while (size--) {
        crc ^= *data++;
        for (bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (POLYNOMIAL & (0u - (crc & 1)));
    }
    return crc;
}

uint32_t at2_crc32_update(uint32_t crc, const uint8_t *data, size_t size)
{
    crc = ~crc;
    if (at2_once_run(&slices_once, fill_slices) != 0 || !slices_ready)
        return ~crc_bitwise(crc, data, size);
    while (size >= 4) {
        crc ^= (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
        crc = slices[3][crc & 0xFF] ^ slices[2][(crc >> 8) & 0xFF] ^ slices[1][(crc >> 16) & 0xFF] ^
              slices[0][crc >> 24];
        data += 4;
        size -= 4;
    }
    while (size--)
        crc = slices[0][(crc ^ *data++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
