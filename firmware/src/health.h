/*
 * Node health: uptime, why the MCU last reset, and how many watchdog resets
 * it has had in its life. The Modbus error counters live in mb_counters_t.
 */
#ifndef SHAOBING_HEALTH_H
#define SHAOBING_HEALTH_H

#include <stdint.h>

/* Reset cause bits, the same as the ATmega328P's MCUSR (PORF, EXTRF, BORF, WDRF). */
#define RESET_POWER_ON 0x01u
#define RESET_EXTERNAL 0x02u
#define RESET_BROWN_OUT 0x04u
#define RESET_WATCHDOG 0x08u

typedef struct {
    uint32_t uptime_s;
    uint32_t second_mark_ms; /* millisecond time at which uptime_s last ticked */
    uint16_t wdt_resets;     /* lifetime count, kept in EEPROM by the platform */
    uint8_t reset_cause;     /* RESET_* bits */
} health_t;

void health_init(health_t *h, uint8_t reset_cause, uint16_t wdt_resets, uint32_t now_ms);

/* Advance uptime; catches up whole seconds if the loop was late. */
void health_update(health_t *h, uint32_t now_ms);

#endif
