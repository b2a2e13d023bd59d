#include "level.h"

#include "config.h"

uint16_t level_adc_to_ua(uint16_t adc)
{
    /* I = adc * Vref / 1024 / R. Keeping 1000/1024 as 125/128 keeps the
     * product under 2^32: 1023 * 5000 * 125 = 639 M. */
    uint32_t ua = ((uint32_t)adc * LEVEL_ADC_REF_MV * 125uL + 64uL * LEVEL_SHUNT_OHM) /
                  (128uL * LEVEL_SHUNT_OHM);
    return ua > 0xFFFFuL ? 0xFFFFu : (uint16_t)ua;
}

void level_update(level_t *l, uint16_t adc, uint16_t span_mm, uint16_t offset_mm)
{
    uint16_t ua = level_adc_to_ua(adc);
    uint16_t clamped = ua < 4000u ? 4000u : ua > 20000u ? 20000u : ua;
    uint32_t mm = offset_mm + ((uint32_t)(clamped - 4000u) * span_mm + 8000u) / 16000u;

    l->adc_raw = adc;
    l->current_ua = ua;
    l->level_mm = mm > 0xFFFFuL ? 0xFFFFu : (uint16_t)mm;
    l->status = 0;
    if (ua < LEVEL_OPEN_LOOP_UA)
        l->status |= LEVEL_STATUS_OPEN_LOOP;
    if (ua > LEVEL_OVER_RANGE_UA)
        l->status |= LEVEL_STATUS_OVER_RANGE;
}
