/*
 * The one portability shim the portable code needs: on AVR, const tables must
 * be placed in flash explicitly (PROGMEM) or they are copied into the 2 KB RAM.
 */
#ifndef SHAOBING_PLATFORM_H
#define SHAOBING_PLATFORM_H

#include <stdint.h>

#ifdef __AVR__
#include <avr/pgmspace.h>
#define FLASH_TABLE PROGMEM
#define flash_u16(p) pgm_read_word(p)
#else
#define FLASH_TABLE
#define flash_u16(p) (*(const uint16_t *)(p))
#endif

#endif
