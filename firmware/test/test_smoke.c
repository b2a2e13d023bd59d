/* Smoke contacts: debounce, status bits, alarm count. */
#include "config.h"
#include "rig.h"
#include "smoke.h"
#include "test.h"

static void debounced_status_bits(void)
{
    smoke_t s;
    uint32_t t = 0;

    smoke_init(&s);
    for (; t < 50; t++)
        smoke_sample(&s, true, false, t);
    CHECK_EQ(smoke_status(&s), 0); /* not yet held long enough */
    for (; t < 50 + SMOKE_DEBOUNCE_MS + 1; t++)
        smoke_sample(&s, true, false, t);
    CHECK_EQ(smoke_status(&s), SMOKE_STATUS_ALARM);
    CHECK_EQ(s.alarm_count, 1);
    for (; t < 1000; t++)
        smoke_sample(&s, false, true, t);
    CHECK_EQ(smoke_status(&s), SMOKE_STATUS_FAULT);
    for (; t < 1100; t++) /* a 100 ms blip is ignored */
        smoke_sample(&s, true, true, t);
    CHECK_EQ(smoke_status(&s), SMOKE_STATUS_FAULT);
    CHECK_EQ(s.alarm_count, 1);
}

static void smoke_registers(void)
{
    rig_t g;

    rig_init(&g);
    g.in.smoke_alarm = true;
    rig_advance(&g, SMOKE_DEBOUNCE_MS + 5);
    CHECK_EQ(rig_read_ir(&g, 48), SMOKE_STATUS_ALARM);
    CHECK_EQ(rig_read_ir(&g, 49), 1);
    g.in.smoke_alarm = false;
    rig_advance(&g, SMOKE_DEBOUNCE_MS + 5);
    g.in.smoke_alarm = true;
    rig_advance(&g, SMOKE_DEBOUNCE_MS + 5);
    CHECK_EQ(rig_read_ir(&g, 49), 2);
}

void suite_smoke(void)
{
    RUN(debounced_status_bits);
    RUN(smoke_registers);
}
