/* 4-20 mA scaling and loop diagnostics. */
#include "config.h"
#include "level.h"
#include "rig.h"
#include "test.h"

/* ADC count for a loop current, as the hardware would produce it. */
static uint16_t adc_for_ua(uint32_t ua)
{
    return (uint16_t)((ua * LEVEL_SHUNT_OHM * 1024uL + LEVEL_ADC_REF_MV * 500uL) / (LEVEL_ADC_REF_MV * 1000uL));
}

static void adc_to_current(void)
{
    CHECK_EQ(level_adc_to_ua(0), 0);
    /* 150 ohm, 5 V ref: one count is 32.55 uA */
    CHECK_EQ(level_adc_to_ua(1), 33);
    CHECK_EQ(level_adc_to_ua(123), 4004);  /* 4 mA ~ 0.6 V */
    CHECK_EQ(level_adc_to_ua(614), 19987); /* 20 mA ~ 3.0 V */
    CHECK_EQ(level_adc_to_ua(1023), 33301);
}

static void scaling_across_the_span(void)
{
    level_t l;

    level_update(&l, adc_for_ua(4000), 5000, 0);
    CHECK(l.level_mm <= 10);
    CHECK_EQ(l.status, 0);
    level_update(&l, adc_for_ua(12000), 5000, 0);
    CHECK(l.level_mm >= 2480 && l.level_mm <= 2520);
    level_update(&l, adc_for_ua(20000), 5000, 0);
    CHECK(l.level_mm >= 4980 && l.level_mm <= 5000);
    CHECK_EQ(l.status, 0);
    /* offset: a gauge whose 4 mA point is 1.2 m above datum */
    level_update(&l, adc_for_ua(12000), 2000, 1200);
    CHECK(l.level_mm >= 2190 && l.level_mm <= 2210);
    /* full 16-bit span does not overflow */
    level_update(&l, adc_for_ua(20000), 65535, 0);
    CHECK(l.level_mm > 65000);
}

static void open_loop_and_over_range(void)
{
    level_t l;

    level_update(&l, 0, 5000, 100);
    CHECK_EQ(l.status, LEVEL_STATUS_OPEN_LOOP);
    CHECK_EQ(l.level_mm, 100); /* clamped to the 4 mA point */
    level_update(&l, adc_for_ua(3700), 5000, 0);
    CHECK_EQ(l.status, LEVEL_STATUS_OPEN_LOOP);
    level_update(&l, adc_for_ua(3900), 5000, 0);
    CHECK_EQ(l.status, 0); /* between 3.8 and 4 mA: under-scale but alive */
    level_update(&l, adc_for_ua(20400), 5000, 0);
    CHECK_EQ(l.status, 0);
    level_update(&l, adc_for_ua(21000), 5000, 0);
    CHECK_EQ(l.status, LEVEL_STATUS_OVER_RANGE);
    CHECK_EQ(l.level_mm, 5000); /* clamped to the 20 mA point */
    level_update(&l, 1023, 5000, 0);
    CHECK_EQ(l.status, LEVEL_STATUS_OVER_RANGE);
}

static void level_registers(void)
{
    rig_t g;

    rig_init(&g);
    g.in.adc = adc_for_ua(12000);
    rig_advance(&g, 2);
    CHECK(rig_read_ir(&g, 32) >= 2480 && rig_read_ir(&g, 32) <= 2520);
    CHECK(rig_read_ir(&g, 33) >= 11950 && rig_read_ir(&g, 33) <= 12050);
    CHECK_EQ(rig_read_ir(&g, 34), 0);
    CHECK_EQ(rig_read_ir(&g, 35), adc_for_ua(12000));
    g.in.adc = 0;
    rig_advance(&g, 2);
    CHECK_EQ(rig_read_ir(&g, 34), LEVEL_STATUS_OPEN_LOOP);
}

void suite_level(void)
{
    RUN(adc_to_current);
    RUN(scaling_across_the_span);
    RUN(open_loop_and_over_range);
    RUN(level_registers);
}
