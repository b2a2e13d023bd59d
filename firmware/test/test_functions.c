/* Every function code against the node's register map, and every exception. */
#include "rig.h"
#include "test.h"

/* Send req, expect exception ex (0 = expect a normal reply of fc). */
static void expect(rig_t *r, const uint8_t *req, uint16_t len, uint8_t ex)
{
    uint16_t n = rig_request(r, req, len);

    if (ex == 0) {
        CHECK(n >= 2);
        CHECK_EQ(r->bus.tx[1], req[1]);
    } else {
        CHECK_EQ(n, 3);
        CHECK_EQ(r->bus.tx[1], req[1] | 0x80);
        CHECK_EQ(r->bus.tx[2], ex);
    }
}

static void fc01_read_coils(void)
{
    rig_t r;
    const uint8_t rd[] = {1, 1, 0, 0, 0, 1};

    rig_init(&r);
    CHECK_EQ(rig_request(&r, rd, 6), 4);
    CHECK_EQ(r.bus.tx[2], 1); /* byte count */
    CHECK_EQ(r.bus.tx[3], 0);
    CHECK_EQ(rig_write_coil(&r, 0, 1), 0);
    CHECK_EQ(rig_request(&r, rd, 6), 4);
    CHECK_EQ(r.bus.tx[3], 1);
    {
        const uint8_t q0[] = {1, 1, 0, 0, 0, 0}, q2001[] = {1, 1, 0, 0, 0x07, 0xD1};
        const uint8_t a1[] = {1, 1, 0, 1, 0, 1}, q2[] = {1, 1, 0, 0, 0, 2};
        expect(&r, q0, 6, MB_EX_ILLEGAL_DATA_VALUE);
        expect(&r, q2001, 6, MB_EX_ILLEGAL_DATA_VALUE);
        expect(&r, a1, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, q2, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
    }
}

static void fc03_read_holding(void)
{
    rig_t r;
    const uint8_t all[] = {1, 3, 0, 0, 0, HR_COUNT};

    rig_init(&r);
    CHECK_EQ(rig_request(&r, all, 6), 3 + 2 * HR_COUNT);
    CHECK_EQ(r.bus.tx[2], 2 * HR_COUNT);
    CHECK_EQ(r.bus.tx[3 + 2 * HR_UNIT_ID + 1], 1);
    CHECK_EQ((r.bus.tx[3 + 2 * HR_BAUD_DIV100] << 8) | r.bus.tx[4 + 2 * HR_BAUD_DIV100], 96);
    CHECK_EQ(r.bus.tx[4 + 2 * HR_SIREN_MAX_ON_S], SIREN_MAX_ON_CEILING_S);
    {
        const uint8_t past[] = {1, 3, 0, 0, 0, HR_COUNT + 1}, a10[] = {1, 3, 0, HR_COUNT, 0, 1};
        const uint8_t q126[] = {1, 3, 0, 0, 0, 126}, q0[] = {1, 3, 0, 0, 0, 0};
        const uint8_t extra[] = {1, 3, 0, 0, 0, 1, 0};
        expect(&r, past, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, a10, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, q126, 6, MB_EX_ILLEGAL_DATA_VALUE);
        expect(&r, q0, 6, MB_EX_ILLEGAL_DATA_VALUE);
        expect(&r, extra, 7, MB_EX_ILLEGAL_DATA_VALUE);
    }
}

static void fc04_read_input(void)
{
    rig_t r;
    const uint8_t health[] = {1, 4, 0, 0, 0, 10}, rain[] = {1, 4, 0, 16, 0, 4};

    rig_init(&r);
    CHECK_EQ(rig_request(&r, health, 6), 23);
    CHECK_EQ(r.bus.tx[3], FW_VERSION_MAJOR);
    CHECK_EQ(r.bus.tx[4], FW_VERSION_MINOR);
    CHECK_EQ(rig_request(&r, rain, 6), 11);
    CHECK_EQ(rig_read_ir(&r, 67), SIREN_MAX_ON_CEILING_S);
    {
        const uint8_t span_gap[] = {1, 4, 0, 0, 0, 17}, a10[] = {1, 4, 0, 10, 0, 1};
        const uint8_t a68[] = {1, 4, 0, 68, 0, 1}, wrap[] = {1, 4, 0xFF, 0xFF, 0, 2};
        const uint8_t a200[] = {1, 4, 0, 200, 0, 1}, q0[] = {1, 4, 0, 0, 0, 0};
        const uint8_t q125[] = {1, 4, 0, 0, 0, 125};
        expect(&r, span_gap, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, a10, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, a68, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, wrap, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, a200, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
        expect(&r, q0, 6, MB_EX_ILLEGAL_DATA_VALUE);
        expect(&r, q125, 6, MB_EX_ILLEGAL_DATA_ADDRESS); /* legal count, not our table */
    }
}

static void fc05_write_single_coil(void)
{
    rig_t r;
    const uint8_t on[] = {1, 5, 0, 0, 0xFF, 0}, bad[] = {1, 5, 0, 0, 0x12, 0x34};
    const uint8_t a1[] = {1, 5, 0, 1, 0xFF, 0};
    unsigned i;

    rig_init(&r);
    CHECK_EQ(rig_request(&r, on, 6), 6);
    for (i = 0; i < 6; i++)
        CHECK_EQ(r.bus.tx[i], on[i]); /* echo */
    CHECK(r.node.siren.running);
    CHECK_EQ(rig_write_coil(&r, 0, 0), 0);
    CHECK(!r.node.siren.running);
    expect(&r, bad, 6, MB_EX_ILLEGAL_DATA_VALUE);
    expect(&r, a1, 6, MB_EX_ILLEGAL_DATA_ADDRESS);
    CHECK(!r.node.siren.running);
}

static void fc06_write_single_register(void)
{
    rig_t r;
    const uint8_t w[] = {1, 6, 0, HR_LEVEL_SPAN_MM, 0x0B, 0xB8}; /* 3000 mm */
    unsigned i;

    rig_init(&r);
    CHECK_EQ(rig_request(&r, w, 6), 6);
    for (i = 0; i < 6; i++)
        CHECK_EQ(r.bus.tx[i], w[i]);
    CHECK_EQ(rig_read_hr(&r, HR_LEVEL_SPAN_MM), 3000);
    CHECK_EQ(rig_write_hr(&r, HR_UNIT_ID, 0), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&r, HR_UNIT_ID, 248), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&r, HR_BAUD_DIV100, 1234), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&r, HR_PARITY, 3), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&r, HR_ROLES, 16), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&r, HR_SIREN_PATTERN, 3), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&r, HR_SIREN_SILENCE_S, 0), MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_write_hr(&r, HR_COUNT, 1), MB_EX_ILLEGAL_DATA_ADDRESS);
    CHECK_EQ(rig_read_hr(&r, HR_UNIT_ID), 1);
}

static void fc15_write_multiple_coils(void)
{
    rig_t r;
    const uint8_t on[] = {1, 15, 0, 0, 0, 1, 1, 0x01};
    const uint8_t bad_count[] = {1, 15, 0, 0, 0, 1, 2, 0x01, 0};
    const uint8_t two[] = {1, 15, 0, 0, 0, 2, 1, 0x03};
    const uint8_t q0[] = {1, 15, 0, 0, 0, 0, 0};

    rig_init(&r);
    CHECK_EQ(rig_request(&r, on, sizeof on), 6);
    CHECK_EQ(r.bus.tx[5], 1); /* quantity echoed */
    CHECK(r.node.siren.running);
    expect(&r, bad_count, sizeof bad_count, MB_EX_ILLEGAL_DATA_VALUE);
    expect(&r, two, sizeof two, MB_EX_ILLEGAL_DATA_ADDRESS);
    expect(&r, q0, sizeof q0, MB_EX_ILLEGAL_DATA_VALUE);
}

static void fc16_write_multiple_registers(void)
{
    rig_t r;
    const uint8_t w[] = {1, 16, 0, 4, 0, 3, 6, 0x00, 0xFE, 0x13, 0x88, 0x00, 0x64};
    const uint8_t bad_value[] = {1, 16, 0, 4, 0, 3, 6, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01};
    const uint8_t past[] = {1, 16, 0, 8, 0, 3, 6, 0, 10, 0, 10, 0, 10};
    const uint8_t bad_count[] = {1, 16, 0, 4, 0, 1, 4, 0, 1, 0, 1};

    rig_init(&r);
    CHECK_EQ(rig_request(&r, w, sizeof w), 6);
    CHECK_EQ(rig_read_hr(&r, HR_RAIN_TIP_UM), 254);
    CHECK_EQ(rig_read_hr(&r, HR_LEVEL_SPAN_MM), 5000);
    CHECK_EQ(rig_read_hr(&r, HR_LEVEL_OFFSET_MM), 100);
    /* span 0 is refused, and so is the whole request: all or nothing */
    expect(&r, bad_value, sizeof bad_value, MB_EX_ILLEGAL_DATA_VALUE);
    CHECK_EQ(rig_read_hr(&r, HR_RAIN_TIP_UM), 254);
    expect(&r, past, sizeof past, MB_EX_ILLEGAL_DATA_ADDRESS);
    CHECK_EQ(rig_read_hr(&r, HR_SIREN_MAX_ON_S), SIREN_MAX_ON_CEILING_S);
    expect(&r, bad_count, sizeof bad_count, MB_EX_ILLEGAL_DATA_VALUE);
}

static void unsupported_functions(void)
{
    rig_t r;
    const uint8_t fc02[] = {1, 2, 0, 0, 0, 1}, fc08[] = {1, 8, 0, 0, 0x12, 0x34};
    const uint8_t fc43[] = {1, 43, 14, 1, 0}, fc81[] = {1, 0x81};

    rig_init(&r);
    expect(&r, fc02, sizeof fc02, MB_EX_ILLEGAL_FUNCTION);
    expect(&r, fc08, sizeof fc08, MB_EX_ILLEGAL_FUNCTION);
    expect(&r, fc43, sizeof fc43, MB_EX_ILLEGAL_FUNCTION);
    expect(&r, fc81, sizeof fc81, MB_EX_ILLEGAL_FUNCTION);
    CHECK_EQ(rig_read_ir(&r, 9), 4); /* exceptions counter */
}

static void disabled_roles_have_no_addresses(void)
{
    rig_t r;

    rig_init(&r);
    CHECK_EQ(rig_write_hr(&r, HR_ROLES, ROLE_RAIN), 0);
    CHECK(rig_read_ir(&r, 16) >= 0);
    CHECK_EQ(rig_read_ir(&r, 32), -1);
    CHECK_EQ(r.bus.tx[2], MB_EX_ILLEGAL_DATA_ADDRESS);
    CHECK_EQ(rig_read_ir(&r, 48), -1);
    CHECK_EQ(rig_read_ir(&r, 64), -1);
    CHECK_EQ(rig_write_coil(&r, 0, 1), MB_EX_ILLEGAL_DATA_ADDRESS);
    CHECK(rig_read_ir(&r, 0) >= 0);             /* health stays */
    CHECK_EQ(rig_read_hr(&r, HR_SIREN_MAX_ON_S), SIREN_MAX_ON_CEILING_S); /* config stays */
}

void suite_functions(void)
{
    RUN(fc01_read_coils);
    RUN(fc03_read_holding);
    RUN(fc04_read_input);
    RUN(fc05_write_single_coil);
    RUN(fc06_write_single_register);
    RUN(fc15_write_multiple_coils);
    RUN(fc16_write_multiple_registers);
    RUN(unsupported_functions);
    RUN(disabled_roles_have_no_addresses);
}
