/*
 * Water level from a 4-20 mA transmitter read as a voltage across a shunt on
 * the ADC (hardware/docs/field-node-wiring.md explains the 150 ohm choice).
 */
#ifndef SHAOBING_LEVEL_H
#define SHAOBING_LEVEL_H

#include <stdint.h>

#define LEVEL_STATUS_OPEN_LOOP 0x01u  /* < 3.8 mA: wire broken or transmitter dead */
#define LEVEL_STATUS_OVER_RANGE 0x02u /* > 20.5 mA: above span or transmitter fault */

typedef struct {
    uint16_t adc_raw;    /* 10-bit average */
    uint16_t current_ua; /* loop current, microamps */
    uint16_t level_mm;   /* clamped to offset..offset+span; invalid when status != 0 */
    uint8_t status;      /* LEVEL_STATUS_* */
} level_t;

/* 10-bit ADC reading -> loop current in microamps (LEVEL_ADC_REF_MV, LEVEL_SHUNT_OHM). */
uint16_t level_adc_to_ua(uint16_t adc);

/* Recompute everything from one averaged ADC reading. span_mm is the level
 * change from 4 to 20 mA, offset_mm the level at 4 mA. */
void level_update(level_t *l, uint16_t adc, uint16_t span_mm, uint16_t offset_mm);

#endif
