/* Siren safety: max on-time with its ceiling, silence timeout, rest, patterns. */
#include "config.h"
#include "rig.h"
#include "siren.h"
#include "test.h"

/* Advance ms while the gateway keeps polling every period_ms. */
static void poll_for(rig_t *g, uint32_t ms, uint32_t period_ms)
{
    while (ms >= period_ms) {
        rig_advance(g, period_ms);
        (void)rig_read_ir(g, 64);
        ms -= period_ms;
    }
    rig_advance(g, ms);
}

static void max_on_time_cuts_then_rests(void)
{
    rig_t g;

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_MAX_ON_S, 5), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 1);
    CHECK(node_relay(&g.node));
    poll_for(&g, 4990, 500);
    CHECK(node_relay(&g.node));
    CHECK_EQ(rig_read_ir(&g, 65), 4);
    poll_for(&g, 20, 500);
    CHECK(!node_relay(&g.node));
    CHECK_EQ(rig_read_ir(&g, 64), SIREN_STATUS_MAX_ON_CUT | SIREN_STATUS_RESTING);
    CHECK_EQ(rig_read_ir(&g, 66), SIREN_REST_S);
    /* the gateway cannot simply switch it back on */
    CHECK_EQ(rig_write_coil(&g, 0, 1), MB_EX_SERVER_DEVICE_BUSY);
    CHECK_EQ(rig_write_coil(&g, 0, 0), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), MB_EX_SERVER_DEVICE_BUSY);
    rig_advance(&g, 1);
    CHECK(!node_relay(&g.node));
    poll_for(&g, SIREN_REST_S * 1000u, 1000);
    CHECK_EQ(rig_read_ir(&g, 66), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 1);
    CHECK(node_relay(&g.node));
}

static void ceiling_cannot_be_raised(void)
{
    rig_t g;
    const uint8_t w16[] = {1, 16, 0, HR_SIREN_MAX_ON_S, 0, 1, 2, 0x03, 0xE8};

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_MAX_ON_S, SIREN_MAX_ON_CEILING_S + 1), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_MAX_ON_S, 0), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_request(&g, w16, sizeof w16), 3);
    CHECK_EQ(g.bus.tx[2], MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_read_hr(&g, HR_SIREN_MAX_ON_S), SIREN_MAX_ON_CEILING_S);
    /* even a corrupted configuration cannot stretch a run past the ceiling */
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_SILENCE_S, SIREN_SILENCE_MAX_S), 0);
    g.node.cfg.hr[HR_SIREN_MAX_ON_S] = 1000;
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    poll_for(&g, SIREN_MAX_ON_CEILING_S * 1000u - 10u, 1000);
    CHECK(node_relay(&g.node));
    rig_advance(&g, 20);
    CHECK(!node_relay(&g.node));
    CHECK(siren_status(&g.node.siren) & SIREN_STATUS_MAX_ON_CUT);
}

static void silence_timeout_turns_it_off(void)
{
    rig_t g;

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_SILENCE_S, 3), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 2990);
    CHECK(node_relay(&g.node));
    rig_advance(&g, 20); /* nobody asked anything for 3 s */
    CHECK(!node_relay(&g.node));
    CHECK_EQ(rig_read_ir(&g, 64), SIREN_STATUS_SILENCE_CUT);
    {
        const uint8_t rd[] = {1, 1, 0, 0, 0, 1};
        CHECK_EQ(rig_request(&g, rd, 6), 4);
        CHECK_EQ(g.bus.tx[3], 0); /* coil reads back off */
    }
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0); /* no rest after a silence cut */
    rig_advance(&g, 1);
    CHECK(node_relay(&g.node));
}

static void any_valid_request_keeps_it_alive(void)
{
    rig_t g;
    const uint8_t bc[] = {0, 6, 0, HR_SIREN_PATTERN, 0, 0};
    const uint8_t other_unit[] = {9, 4, 0, 0, 0, 1};

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_SILENCE_S, 3), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    poll_for(&g, 10000, 2000);
    CHECK(node_relay(&g.node));
    rig_advance(&g, 2000);
    (void)rig_request(&g, bc, sizeof bc); /* broadcasts count */
    rig_advance(&g, 2000);
    CHECK(node_relay(&g.node));
    (void)rig_request(&g, other_unit, sizeof other_unit); /* traffic for others does not */
    rig_advance(&g, 1100);
    CHECK(!node_relay(&g.node));
}

/* On the MCU the millisecond tick can fire while a request is being handled,
 * so the request's timestamp may be newer than the step's "now". */
static void clock_ticking_during_a_request(void)
{
    rig_t g;
    int i;

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_SILENCE_S, 3), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    g.bus.ms_per_clock_read = 1;
    for (i = 0; i < 20; i++) {
        (void)rig_read_ir(&g, 64);
        CHECK(node_relay(&g.node));
    }
    g.bus.ms_per_clock_read = 0;
    CHECK_EQ(rig_read_ir(&g, 64), SIREN_STATUS_RELAY | SIREN_STATUS_RUNNING);
}

static void repeated_on_does_not_extend(void)
{
    rig_t g;

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_MAX_ON_S, 5), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 2000);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 2000);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 1010);
    CHECK(!node_relay(&g.node));
}

/* Advance until the run is `phase` ms into a pattern period. */
static void advance_to_phase(rig_t *g, uint32_t period, uint32_t phase)
{
    uint32_t e = (g->bus.now_ms - g->node.siren.on_since_ms) % period;

    rig_advance(g, (phase + period - e) % period);
}

static void patterns(void)
{
    rig_t g;

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_PATTERN, SIREN_PATTERN_SLOW), 0);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 500);
    CHECK(node_relay(&g.node));
    rig_advance(&g, 1000); /* 1.5 s into the run: off half */
    CHECK(!node_relay(&g.node));
    CHECK(rig_read_ir(&g, 64) & SIREN_STATUS_RUNNING);
    CHECK(!(rig_read_ir(&g, 64) & SIREN_STATUS_RELAY));
    rig_advance(&g, 1000);
    CHECK(node_relay(&g.node));
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_PATTERN, SIREN_PATTERN_FAST), 0);
    advance_to_phase(&g, 500, 100);
    CHECK(node_relay(&g.node));
    advance_to_phase(&g, 500, 300);
    CHECK(!node_relay(&g.node));
    CHECK_EQ(rig_write_hr(&g, HR_SIREN_PATTERN, SIREN_PATTERN_STEADY), 0);
    rig_advance(&g, 1);
    CHECK(node_relay(&g.node));
}

static void disabling_the_role_stops_it(void)
{
    rig_t g;

    rig_init(&g);
    CHECK_EQ(rig_write_coil(&g, 0, 1), 0);
    rig_advance(&g, 10);
    CHECK(node_relay(&g.node));
    CHECK_EQ(rig_write_hr(&g, HR_ROLES, ROLE_RAIN), 0);
    rig_advance(&g, 1);
    CHECK(!node_relay(&g.node));
}

void suite_siren(void)
{
    RUN(max_on_time_cuts_then_rests);
    RUN(ceiling_cannot_be_raised);
    RUN(silence_timeout_turns_it_off);
    RUN(any_valid_request_keeps_it_alive);
    RUN(clock_ticking_during_a_request);
    RUN(repeated_on_does_not_extend);
    RUN(patterns);
    RUN(disabling_the_role_stops_it);
}
