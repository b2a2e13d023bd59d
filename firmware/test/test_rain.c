/* Tipping-bucket counter: debounce, only counts up, Modbus view. */
#include "rain.h"
#include "config.h"
#include "rig.h"
#include "test.h"

/* Hold the contact at level for ms, sampling every millisecond. */
static uint32_t hold(rain_t *r, bool level, uint32_t now, uint32_t ms)
{
    while (ms--)
        rain_sample(r, level, now++);
    return now;
}

static void counts_clean_tips(void)
{
    rain_t r;
    uint32_t t = 0;
    int i;

    rain_init(&r, 0);
    t = hold(&r, false, t, 100);
    for (i = 0; i < 5; i++) {
        t = hold(&r, true, t, 80);
        t = hold(&r, false, t, 500);
    }
    CHECK_EQ(r.tips, 5);
}

static void bounces_do_not_count(void)
{
    rain_t r;
    uint32_t t = 0;
    int i;

    rain_init(&r, 0);
    t = hold(&r, false, t, 100);
    /* a bouncing closure: 3 ms pulses, then a solid close, then bouncy release */
    for (i = 0; i < 6; i++) {
        t = hold(&r, true, t, 3);
        t = hold(&r, false, t, 2);
    }
    t = hold(&r, true, t, 60);
    for (i = 0; i < 6; i++) {
        t = hold(&r, false, t, 3);
        t = hold(&r, true, t, 2);
    }
    t = hold(&r, false, t, 200);
    CHECK_EQ(r.tips, 1);
    /* shorter than the debounce time: noise, not a tip */
    t = hold(&r, true, t, RAIN_DEBOUNCE_MS - 1);
    t = hold(&r, false, t, 200);
    CHECK_EQ(r.tips, 1);
    (void)t;
}

static void closed_at_boot_is_not_a_tip(void)
{
    rain_t r;
    uint32_t t = 0;

    rain_init(&r, 0);
    t = hold(&r, true, t, 200);
    CHECK_EQ(r.tips, 0);
    t = hold(&r, false, t, 200);
    CHECK_EQ(r.tips, 0); /* opening is not a tip either */
    t = hold(&r, true, t, 200);
    CHECK_EQ(r.tips, 1);
}

static void only_counts_up(void)
{
    rain_t r;
    uint32_t t = 0, last;
    int i;

    rain_init(&r, 0xFFFFFFFDuL); /* restored after a watchdog reset */
    t = hold(&r, false, t, 50);
    last = r.tips;
    for (i = 0; i < 6; i++) {
        t = hold(&r, true, t, 50);
        t = hold(&r, false, t, 50);
        CHECK(r.tips >= last);
        last = r.tips;
    }
    CHECK_EQ(r.tips, 0xFFFFFFFFuL); /* saturated, not wrapped to 0 */
    CHECK_EQ(rain_total_um(&r, 200), 0xFFFFFFFFuL);
}

static void total_and_registers(void)
{
    rig_t g;
    int i;

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_RAIN_TIP_UM, 254), 0);
    rig_advance(&g, 50);
    for (i = 0; i < 70000; i++) { /* more than 16 bits of tips... quickly */
        g.node.rain.tips++;
    }
    g.in.rain_closed = true;
    rig_advance(&g, 50);
    g.in.rain_closed = false;
    rig_advance(&g, 50);
    CHECK_EQ(g.node.rain.tips, 70001);
    CHECK_EQ(rig_read_ir(&g, 16), 1);          /* high word */
    CHECK_EQ(rig_read_ir(&g, 17), 70001 - 65536);
    CHECK_EQ((rig_read_ir(&g, 18) << 16) | rig_read_ir(&g, 19), 70001L * 254);
    /* no write reaches the counter: input registers are read-only */
    {
        const uint8_t w[] = {1, 6, 0, 16, 0, 0};
        CHECK_EQ(rig_request(&g, w, 6), 3);
        CHECK_EQ(g.bus.tx[2], MB_EX_ILLEGAL_DATA_ADDRESS);
    }
}

void suite_rain(void)
{
    RUN(counts_clean_tips);
    RUN(bounces_do_not_count);
    RUN(closed_at_boot_is_not_a_tip);
    RUN(only_counts_up);
    RUN(total_and_registers);
}
