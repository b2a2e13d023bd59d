/*
 * Smoke detector (or fire panel) contacts: an alarm contact that closes to
 * ground, and a normally-closed fault loop that opens on fault, so a cut
 * cable reads as a fault rather than as "all quiet".
 */
#ifndef SHAOBING_SMOKE_H
#define SHAOBING_SMOKE_H

#include <stdbool.h>
#include <stdint.h>

#include "debounce.h"

#define SMOKE_STATUS_ALARM 0x01u
#define SMOKE_STATUS_FAULT 0x02u

typedef struct {
    debounce_t alarm;
    debounce_t fault;
    uint16_t alarm_count; /* debounced alarm onsets since boot, wrapping */
    uint8_t primed;
} smoke_t;

void smoke_init(smoke_t *s);

/* alarm: alarm contact closed; fault: fault loop open. */
void smoke_sample(smoke_t *s, bool alarm, bool fault, uint32_t now_ms);

uint8_t smoke_status(const smoke_t *s);

#endif
