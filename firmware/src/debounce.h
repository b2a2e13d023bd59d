/*
 * Time-based debouncer for a contact sampled by the main loop: the reported
 * level changes only after the raw level has held for hold_ms.
 */
#ifndef SHAOBING_DEBOUNCE_H
#define SHAOBING_DEBOUNCE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t since_ms; /* when raw last changed */
    uint8_t raw;       /* last sample */
    uint8_t stable;    /* debounced level */
} debounce_t;

/* Start at a known level (the first sample is taken as stable, not as an edge). */
void debounce_init(debounce_t *d, bool level, uint32_t now_ms);

/* Feed a sample; returns true when the debounced level has just changed. */
bool debounce_update(debounce_t *d, bool level, uint32_t now_ms, uint16_t hold_ms);

#endif
