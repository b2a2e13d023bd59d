#include "rig.h"

#include <string.h>

#include "crc16.h"
#include "test.h"

void rig_init(rig_t *r)
{
    memset(r, 0, sizeof(*r));
    fake_bus_init(&r->bus);
    r->bus.now_ms = 1000;
    r->in.adc = 368; /* 368 * 32.55 uA = 11.98 mA */
    node_init(&r->node, &r->bus.transport, NULL, 0, 0, 0);
    node_step(&r->node, &r->in); /* leaves the initial wait-for-silence state */
}

uint16_t rig_request(rig_t *r, const uint8_t *req, uint16_t len)
{
    uint16_t before = r->bus.tx_count;

    fake_bus_frame(&r->bus, req, len);
    node_step(&r->node, &r->in);
    if (r->bus.tx_count == before)
        return 0;
    CHECK(r->bus.tx_len >= 4);
    CHECK_EQ(crc16(r->bus.tx, r->bus.tx_len), 0);
    return (uint16_t)(r->bus.tx_len - 2u);
}

void rig_advance(rig_t *r, uint32_t ms)
{
    while (ms--) {
        r->bus.now_ms++;
        node_step(&r->node, &r->in);
    }
}

static uint8_t exception_of(rig_t *r, uint16_t n)
{
    if (n == 0)
        return 0xFF; /* no reply at all */
    return (r->bus.tx[1] & 0x80u) ? r->bus.tx[2] : 0u;
}

uint8_t rig_write_hr(rig_t *r, uint16_t addr, uint16_t value)
{
    uint8_t req[6] = {1, 6, (uint8_t)(addr >> 8), (uint8_t)addr, (uint8_t)(value >> 8), (uint8_t)value};

    return exception_of(r, rig_request(r, req, 6));
}

uint8_t rig_write_coil(rig_t *r, uint16_t addr, int on)
{
    uint8_t req[6] = {1, 5, (uint8_t)(addr >> 8), (uint8_t)addr, on ? 0xFFu : 0u, 0};

    return exception_of(r, rig_request(r, req, 6));
}

static long read_one(rig_t *r, uint8_t fc, uint16_t addr)
{
    uint8_t req[6] = {1, fc, (uint8_t)(addr >> 8), (uint8_t)addr, 0, 1};
    uint16_t n = rig_request(r, req, 6);

    if (n != 5 || r->bus.tx[1] != fc)
        return -1;
    return (long)((r->bus.tx[3] << 8) | r->bus.tx[4]);
}

long rig_read_ir(rig_t *r, uint16_t addr)
{
    return read_one(r, 4, addr);
}

long rig_read_hr(rig_t *r, uint16_t addr)
{
    return read_one(r, 3, addr);
}
