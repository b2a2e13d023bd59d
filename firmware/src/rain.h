/*
 * Tipping-bucket rain gauge: each tip closes a reed switch once. The tip
 * counter only ever counts up: no Modbus write reaches it, it saturates
 * instead of wrapping, and across a watchdog reset the platform restores it
 * (hal/avr keeps it in .noinit RAM). A power cycle starts it again at 0, which
 * the gateway sees together with uptime and reset_cause.
 */
#ifndef SHAOBING_RAIN_H
#define SHAOBING_RAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "debounce.h"

typedef struct {
    uint32_t tips;
    debounce_t contact; /* stable = 1 while the reed switch is closed */
    uint8_t primed;     /* first sample seen */
} rain_t;

void rain_init(rain_t *r, uint32_t restored_tips);

/* Sample the reed switch (closed = true); counts a tip on each debounced closing. */
void rain_sample(rain_t *r, bool closed, uint32_t now_ms);

/* Total rainfall in micrometres for a tip size; saturates like the counter. */
uint32_t rain_total_um(const rain_t *r, uint16_t tip_um);

#endif
