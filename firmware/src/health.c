#include "health.h"

void health_init(health_t *h, uint8_t reset_cause, uint16_t wdt_resets, uint32_t now_ms)
{
    h->uptime_s = 0;
    h->second_mark_ms = now_ms;
    h->wdt_resets = wdt_resets;
    h->reset_cause = reset_cause;
}

void health_update(health_t *h, uint32_t now_ms)
{
    while ((uint32_t)(now_ms - h->second_mark_ms) >= 1000uL) {
        h->second_mark_ms += 1000uL;
        h->uptime_s++;
    }
}
