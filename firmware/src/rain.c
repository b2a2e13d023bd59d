#include "rain.h"

#include "config.h"

void rain_init(rain_t *r, uint32_t restored_tips)
{
    r->tips = restored_tips;
    r->primed = 0;
    debounce_init(&r->contact, false, 0);
}

void rain_sample(rain_t *r, bool closed, uint32_t now_ms)
{
    if (!r->primed) {
        /* A bucket resting on the magnet at boot is not a tip. */
        debounce_init(&r->contact, closed, now_ms);
        r->primed = 1;
        return;
    }
    if (debounce_update(&r->contact, closed, now_ms, RAIN_DEBOUNCE_MS) && r->contact.stable &&
        r->tips != 0xFFFFFFFFuL)
        r->tips++;
}

uint32_t rain_total_um(const rain_t *r, uint16_t tip_um)
{
    if (tip_um != 0u && r->tips > 0xFFFFFFFFuL / tip_um)
        return 0xFFFFFFFFuL;
    return r->tips * tip_um;
}
