#include <string.h>

#include "crc16.h"
#include "test.h"

static void crc_check_value(void)
{
    /* CRC-16/MODBUS catalogue check value */
    const char *s = "123456789";

    CHECK_EQ(crc16((const uint8_t *)s, (uint16_t)strlen(s)), 0x4B37);
}

static void crc_spec_example(void)
{
    /* Read 10 holding registers from unit 1: CRC bytes on the wire C5 CD */
    const uint8_t f[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};

    CHECK_EQ(crc16(f, sizeof f), 0xCDC5);
}

static void crc_residue_is_zero(void)
{
    const uint8_t f[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD};
    uint8_t bad[sizeof f];

    CHECK_EQ(crc16(f, sizeof f), 0);
    memcpy(bad, f, sizeof f);
    bad[3] ^= 0x10;
    CHECK(crc16(bad, sizeof bad) != 0);
}

static void crc_incremental_matches(void)
{
    const uint8_t f[] = {0x11, 0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02};
    uint16_t crc = CRC16_INIT;
    unsigned i;

    for (i = 0; i < sizeof f; i++)
        crc = crc16_update(crc, f[i]);
    CHECK_EQ(crc, crc16(f, sizeof f));
    CHECK_EQ(crc16(f, 0), 0xFFFF);
}

void suite_crc(void)
{
    RUN(crc_check_value);
    RUN(crc_spec_example);
    RUN(crc_residue_is_zero);
    RUN(crc_incremental_matches);
}
