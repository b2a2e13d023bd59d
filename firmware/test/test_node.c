/* Configuration, persistence hooks, addressing changes, health registers. */
#include <string.h>

#include "config.h"
#include "health.h"
#include "rig.h"
#include "test.h"

static void erased_eeprom_gives_defaults(void)
{
    fake_bus_t bus;
    node_t n;
    node_config_t erased, good;

    fake_bus_init(&bus);
    memset(&erased, 0xFF, sizeof erased);
    node_init(&n, &bus.transport, &erased, 0, 0, 0);
    CHECK(n.cfg_dirty);
    CHECK_EQ(n.cfg.hr[HR_UNIT_ID], NODE_DEFAULT_UNIT_ID);
    CHECK_EQ(node_baud(&n), 9600);
    node_config_defaults(&good);
    good.hr[HR_UNIT_ID] = 42;
    good.hr[HR_SIREN_MAX_ON_S] = 60;
    node_init(&n, &bus.transport, &good, 0, 0, 0);
    CHECK(!n.cfg_dirty);
    CHECK_EQ(n.mb.unit_id, 42);
    good.hr[HR_SIREN_MAX_ON_S] = SIREN_MAX_ON_CEILING_S + 1; /* out of range: all defaults */
    CHECK(!node_config_valid(&good));
    node_init(&n, &bus.transport, &good, 0, 0, 0);
    CHECK_EQ(n.mb.unit_id, NODE_DEFAULT_UNIT_ID);
}

static void writes_ask_for_persistence(void)
{
    rig_t g;

    rig_init(&g);
    g.node.cfg_dirty = 0;
    CHECK_EQ(rig_write_hr(&g, HR_LEVEL_OFFSET_MM, 250), 0);
    CHECK(g.node.cfg_dirty);
    CHECK(!g.node.serial_dirty);
    CHECK_EQ(rig_write_hr(&g, HR_BAUD_DIV100, 1152), 0);
    CHECK(g.node.serial_dirty);
    CHECK_EQ(node_baud(&g.node), 115200);
    g.node.cfg_dirty = 0;
    CHECK(rig_write_hr(&g, HR_BAUD_DIV100, 1151) != 0);
    CHECK(!g.node.cfg_dirty); /* refused writes change nothing */
}

static void unit_id_change(void)
{
    rig_t g;
    const uint8_t to5[] = {5, 4, 0, 0, 0, 1}, to1[] = {1, 4, 0, 0, 0, 1};

    rig_init(&g);
    CHECK_EQ(rig_write_hr(&g, HR_UNIT_ID, 5), 0);
    CHECK_EQ(g.bus.tx[0], 1); /* the confirmation still comes from unit 1 */
    CHECK_EQ(rig_request(&g, to1, 6), 0);
    CHECK_EQ(rig_request(&g, to5, 6), 5);
    CHECK_EQ(g.bus.tx[0], 5);
}

static void health_registers(void)
{
    fake_bus_t bus;
    node_t n;
    node_inputs_t in = {false, false, false, 0};
    const uint8_t rd[] = {1, 4, 0, 0, 0, 10};

    fake_bus_init(&bus);
    node_init(&n, &bus.transport, NULL, RESET_WATCHDOG, 7, 0);
    node_step(&n, &in);
    bus.now_ms += 2500;
    node_step(&n, &in);
    CHECK_EQ(n.health.uptime_s, 2);
    n.health.uptime_s = 0x12345u; /* a long-running node: high word in use */
    fake_bus_frame(&bus, rd, sizeof rd);
    node_step(&n, &in);
    CHECK_EQ(bus.tx_len, 25);
    CHECK_EQ((bus.tx[3] << 8) | bus.tx[4], (FW_VERSION_MAJOR << 8) | FW_VERSION_MINOR);
    CHECK_EQ((bus.tx[5] << 8) | bus.tx[6], 0x0001);
    CHECK_EQ((bus.tx[7] << 8) | bus.tx[8], 0x2345);
    CHECK_EQ(bus.tx[10], RESET_WATCHDOG);
    CHECK_EQ(bus.tx[12], 7);
    CHECK_EQ(bus.tx[20], 1); /* frames_ok, counting this request */
}

static void uptime_catches_up(void)
{
    health_t h;

    health_init(&h, 0, 0, 0xFFFFFF00uL); /* across the millisecond wrap */
    health_update(&h, (uint32_t)(0xFFFFFF00uL + 999u));
    CHECK_EQ(h.uptime_s, 0);
    health_update(&h, (uint32_t)(0xFFFFFF00uL + 5000u));
    CHECK_EQ(h.uptime_s, 5);
}

void suite_node(void)
{
    RUN(erased_eeprom_gives_defaults);
    RUN(writes_ask_for_persistence);
    RUN(unit_id_change);
    RUN(health_registers);
    RUN(uptime_catches_up);
}
