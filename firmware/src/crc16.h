/*
 * CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial value 0xFFFF,
 * transmitted low byte first (Modbus over serial line V1.02 §2.5.1.2).
 *
 * Bitwise rather than table-driven: 512 bytes of table cost more flash than the
 * ~100 cycles per byte cost time, even at 115200 baud (1390 cycles per byte).
 */
#ifndef SHAOBING_CRC16_H
#define SHAOBING_CRC16_H

#include <stdint.h>

#define CRC16_INIT 0xFFFFu

/* Fold one byte into a running CRC. Running the CRC over a whole frame
 * *including* its two CRC bytes leaves 0 when the frame is intact. */
uint16_t crc16_update(uint16_t crc, uint8_t byte);

/* CRC of len bytes. */
uint16_t crc16(const uint8_t *buf, uint16_t len);

#endif
