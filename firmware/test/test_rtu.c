/* RTU framing: timing constants, frame boundaries, errors, addressing. */
#include "crc16.h"
#include "rig.h"
#include "test.h"

static const uint8_t READ_FW[] = {1, 4, 0, 0, 0, 1}; /* input register 0 */

/* Queue a frame with its CRC but let the caller choose flags per byte. */
static void queue(rig_t *r, const uint8_t *f, uint16_t len, uint8_t first_flags)
{
    uint16_t i, crc = crc16(f, len);

    for (i = 0; i < len; i++)
        fake_bus_rx(&r->bus, f[i], i == 0 ? first_flags : 0u);
    fake_bus_rx(&r->bus, (uint8_t)crc, 0);
    fake_bus_rx(&r->bus, (uint8_t)(crc >> 8), 0);
}

static void timing_9600(void)
{
    mb_rtu_timing_t t;

    mb_rtu_timing(9600, &t);
    CHECK_EQ(t.char_us, 1146); /* 11 bits */
    CHECK_EQ(t.t15_us, 1719);
    CHECK_EQ(t.t35_us, 4010);
}

static void timing_19200_and_above(void)
{
    mb_rtu_timing_t t;

    mb_rtu_timing(19200, &t); /* still computed at 19200 */
    CHECK_EQ(t.t35_us, 2005);
    CHECK_EQ(t.t15_us, 859);
    mb_rtu_timing(38400, &t); /* fixed above 19200 (§2.5.1.1) */
    CHECK_EQ(t.t15_us, 750);
    CHECK_EQ(t.t35_us, 1750);
    mb_rtu_timing(115200, &t);
    CHECK_EQ(t.char_us, 95);
    CHECK_EQ(t.t15_us, 750);
    CHECK_EQ(t.t35_us, 1750);
}

static void frame_split_across_polls(void)
{
    rig_t r;
    uint16_t crc = crc16(READ_FW, sizeof READ_FW);
    unsigned i;

    rig_init(&r);
    for (i = 0; i < 4; i++)
        fake_bus_rx(&r.bus, READ_FW[i], i == 0 ? MB_RX_SOF : 0u);
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 0); /* line not yet idle */
    fake_bus_rx(&r.bus, READ_FW[4], 0);
    fake_bus_rx(&r.bus, READ_FW[5], 0);
    fake_bus_rx(&r.bus, (uint8_t)crc, 0);
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 0);
    fake_bus_rx(&r.bus, (uint8_t)(crc >> 8), 0);
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 1);
    CHECK_EQ(r.bus.tx_len, 7);
    CHECK_EQ(r.bus.tx[4], FW_VERSION_MINOR);
}

static void silence_before_next_frame_ends_previous(void)
{
    rig_t r;
    const uint8_t other[] = {7, 3, 0, 0, 0, 2};

    rig_init(&r);
    queue(&r, other, sizeof other, MB_RX_SOF);
    queue(&r, READ_FW, sizeof READ_FW, MB_RX_SOF); /* no line_idle between */
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 1);
    CHECK_EQ(r.bus.tx[0], 1);
    CHECK_EQ(r.node.mb.counters.crc_errors, 0);
}

static void no_listening_while_replying(void)
{
    rig_t r;

    rig_init(&r);
    queue(&r, READ_FW, sizeof READ_FW, MB_RX_SOF);
    queue(&r, READ_FW, sizeof READ_FW, MB_RX_SOF);
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 1); /* the second request arrived while we talked */
    CHECK_EQ(rig_request(&r, READ_FW, sizeof READ_FW), 5);
}

static void gap_inside_frame_discards_it(void)
{
    rig_t r;
    uint16_t crc = crc16(READ_FW, sizeof READ_FW);
    unsigned i;

    rig_init(&r);
    for (i = 0; i < sizeof READ_FW; i++)
        fake_bus_rx(&r.bus, READ_FW[i], i == 0 ? MB_RX_SOF : i == 3 ? MB_RX_GAP : 0u);
    fake_bus_rx(&r.bus, (uint8_t)crc, 0);
    fake_bus_rx(&r.bus, (uint8_t)(crc >> 8), 0);
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 0);
    CHECK_EQ(r.node.mb.counters.framing_errors, 1);
    CHECK_EQ(r.node.mb.counters.frames_ok, 0);
}

static void uart_errors_counted_once_per_frame(void)
{
    rig_t r;

    rig_init(&r);
    queue(&r, READ_FW, sizeof READ_FW, MB_RX_SOF | MB_RX_FRAMING);
    fake_bus_rx(&r.bus, 0x55, MB_RX_FRAMING);
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    queue(&r, READ_FW, sizeof READ_FW, MB_RX_SOF | MB_RX_OVERRUN);
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 0);
    CHECK_EQ(r.node.mb.counters.framing_errors, 1);
    CHECK_EQ(r.node.mb.counters.overrun_errors, 1);
    CHECK_EQ(rig_read_ir(&r, 6), 1);
    CHECK_EQ(rig_read_ir(&r, 7), 1);
}

static void bad_crc_counted_not_answered(void)
{
    rig_t r;
    uint16_t i;

    rig_init(&r);
    for (i = 0; i < sizeof READ_FW; i++)
        fake_bus_rx(&r.bus, READ_FW[i], i == 0 ? MB_RX_SOF : 0u);
    fake_bus_rx(&r.bus, 0x12, 0);
    fake_bus_rx(&r.bus, 0x34, 0);
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 0);
    CHECK_EQ(r.node.mb.counters.crc_errors, 1);
    CHECK_EQ(rig_read_ir(&r, 5), 1);
}

static void runt_frame_is_framing_error(void)
{
    rig_t r;

    rig_init(&r);
    fake_bus_rx(&r.bus, 1, MB_RX_SOF);
    fake_bus_rx(&r.bus, 4, 0);
    r.bus.silent = true;
    node_step(&r.node, &r.in);
    CHECK_EQ(r.bus.tx_count, 0);
    CHECK_EQ(r.node.mb.counters.framing_errors, 1);
}

static void other_units_ignored(void)
{
    rig_t r;
    const uint8_t other[] = {2, 4, 0, 0, 0, 1};

    rig_init(&r);
    CHECK_EQ(rig_request(&r, other, sizeof other), 0);
    CHECK_EQ(r.node.mb.counters.frames_ok, 0);
    CHECK_EQ(r.node.mb.counters.crc_errors, 0);
}

static void long_frames_checked_without_storing(void)
{
    rig_t r;
    uint8_t big[7 + 2 * 100];
    uint16_t i;

    rig_init(&r);
    big[0] = 9; /* FC16 of 100 registers to someone else */
    big[1] = 16;
    big[2] = 0; big[3] = 0; big[4] = 0; big[5] = 100; big[6] = 200;
    for (i = 7; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    CHECK_EQ(rig_request(&r, big, sizeof big), 0);
    CHECK_EQ(r.node.mb.counters.crc_errors, 0);
    big[0] = 1; /* the same to us: it cannot fit our tables */
    CHECK_EQ(rig_request(&r, big, sizeof big), 3);
    CHECK_EQ(r.bus.tx[1], 0x90);
    CHECK_EQ(r.bus.tx[2], MB_EX_ILLEGAL_DATA_ADDRESS);
    CHECK_EQ(rig_read_hr(&r, 0), 1); /* nothing was written */
}

static void waits_for_silence_after_reset(void)
{
    fake_bus_t bus;
    node_t n;
    node_inputs_t in = {false, false, false, 0};
    uint16_t i, crc = crc16(READ_FW, sizeof READ_FW);

    fake_bus_init(&bus);
    node_init(&n, &bus.transport, NULL, 0, 0, 0);
    /* the tail of a frame that started before we were listening */
    for (i = 1; i < sizeof READ_FW; i++)
        fake_bus_rx(&bus, READ_FW[i], 0);
    fake_bus_rx(&bus, (uint8_t)crc, 0);
    fake_bus_rx(&bus, (uint8_t)(crc >> 8), 0);
    node_step(&n, &in);
    bus.silent = true;
    node_step(&n, &in);
    CHECK_EQ(bus.tx_count, 0);
    CHECK_EQ(n.mb.counters.framing_errors + n.mb.counters.crc_errors, 0);
    fake_bus_frame(&bus, READ_FW, sizeof READ_FW);
    node_step(&n, &in);
    CHECK_EQ(bus.tx_count, 1);
}

static void broadcast_writes_but_never_replies(void)
{
    rig_t r;
    const uint8_t write_tip[] = {0, 6, 0, HR_RAIN_TIP_UM, 0x01, 0xF4}; /* 500 um */
    const uint8_t read_bc[] = {0, 3, 0, 0, 0, 1};

    rig_init(&r);
    CHECK_EQ(rig_request(&r, write_tip, sizeof write_tip), 0);
    CHECK_EQ(rig_request(&r, read_bc, sizeof read_bc), 0);
    CHECK_EQ(r.bus.tx_count, 0);
    CHECK_EQ(rig_read_hr(&r, HR_RAIN_TIP_UM), 500);
    CHECK_EQ(r.node.mb.counters.frames_ok, 3);
}

void suite_rtu(void)
{
    RUN(timing_9600);
    RUN(timing_19200_and_above);
    RUN(frame_split_across_polls);
    RUN(silence_before_next_frame_ends_previous);
    RUN(no_listening_while_replying);
    RUN(gap_inside_frame_discards_it);
    RUN(uart_errors_counted_once_per_frame);
    RUN(bad_crc_counted_not_answered);
    RUN(runt_frame_is_framing_error);
    RUN(other_units_ignored);
    RUN(long_frames_checked_without_storing);
    RUN(waits_for_silence_after_reset);
    RUN(broadcast_writes_but_never_replies);
}
