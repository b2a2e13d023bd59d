#include "crc16.h"

uint16_t crc16_update(uint16_t crc, uint8_t byte)
{
    uint8_t i;

    crc ^= byte;
    for (i = 0; i < 8; i++)
        crc = (crc & 1u) ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
    return crc;
}

uint16_t crc16(const uint8_t *buf, uint16_t len)
{
    uint16_t crc = CRC16_INIT;

    while (len--)
        crc = crc16_update(crc, *buf++);
    return crc;
}
