/*
 * Function-code dispatcher. Checks follow the order of the Modbus Application
 * Protocol V1.1b3 state diagrams (§6.x): function supported (else 01),
 * quantity and byte count sane (else 03), address range inside the tables
 * (else 02), then the register callbacks (values: 03, device: 04/06).
 * Replies are built in place over the request.
 */
#include "modbus_rtu.h"

#define MB_ANY_RANGE_FC (MB_ENABLE_FC01 || MB_ENABLE_FC03 || MB_ENABLE_FC04 || MB_ENABLE_FC15 || MB_ENABLE_FC16)
#define MB_ANY_FC (MB_ANY_RANGE_FC || MB_ENABLE_FC05 || MB_ENABLE_FC06)

#if MB_ANY_FC
static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}
#endif

static uint8_t exception(uint8_t *buf, mb_exception_t ex)
{
    buf[1] |= 0x80u;
    buf[2] = (uint8_t)ex;
    return 3;
}

#if MB_ANY_RANGE_FC
/* Range end past 0xFFFF (§6.1: "starting address + quantity" must fit). */
static bool range_wraps(uint16_t addr, uint16_t qty)
{
    return (uint32_t)addr + qty > 0x10000uL;
}
#endif

#if MB_ENABLE_FC01 || MB_ENABLE_FC03 || MB_ENABLE_FC04
/* FC01/03/04: read qty items of item_bits each (1 or 16). */
static uint8_t read_items(const mb_callbacks_t *cb, uint8_t *buf, uint16_t pdu_len, bool broadcast,
                          uint16_t max_qty, uint8_t item_bits)
{
    uint16_t addr = be16(buf + 2), qty = be16(buf + 4);
    uint16_t bytes;
    mb_exception_t ex;

    if (broadcast)
        return 0; /* reads make no sense broadcast: ignore (§2.1) */
    if (pdu_len != 5u || qty == 0u || qty > max_qty)
        return exception(buf, MB_EX_ILLEGAL_DATA_VALUE);
    if (range_wraps(addr, qty))
        return exception(buf, MB_EX_ILLEGAL_DATA_ADDRESS);
    bytes = item_bits == 1u ? (uint16_t)((qty + 7u) / 8u) : (uint16_t)(qty * 2u);
    /* No table of ours is this long, so some address in it cannot exist. */
    if (3u + bytes + 2u > MB_BUF_SIZE)
        return exception(buf, MB_EX_ILLEGAL_DATA_ADDRESS);

    if (item_bits == 1u) {
        uint16_t i;
        for (i = 0; i < bytes; i++)
            buf[3 + i] = 0; /* unused high bits of the last byte stay 0 (§6.1) */
        ex = cb->read_coils(addr, qty, buf + 3, cb->arg);
    } else if (buf[1] == 3u) {
        ex = cb->read_holding(addr, qty, buf + 3, cb->arg);
    } else {
        ex = cb->read_input(addr, qty, buf + 3, cb->arg);
    }
    if (ex != MB_EX_NONE)
        return exception(buf, ex);
    buf[2] = (uint8_t)bytes;
    return (uint8_t)(3u + bytes);
}
#endif

#if MB_ENABLE_FC05
static uint8_t write_single_coil(const mb_callbacks_t *cb, uint8_t *buf, uint16_t pdu_len)
{
    uint16_t value = be16(buf + 4);
    uint8_t bit = value == 0xFF00u ? 1u : 0u;
    mb_exception_t ex;

    /* §6.5: 0xFF00 is ON, 0x0000 is OFF, anything else is illegal */
    if (pdu_len != 5u || (value != 0xFF00u && value != 0x0000u))
        return exception(buf, MB_EX_ILLEGAL_DATA_VALUE);
    ex = cb->write_coils(be16(buf + 2), 1, &bit, cb->arg);
    return ex != MB_EX_NONE ? exception(buf, ex) : 6u; /* echo of the request */
}
#endif

#if MB_ENABLE_FC06
static uint8_t write_single_register(const mb_callbacks_t *cb, uint8_t *buf, uint16_t pdu_len)
{
    mb_exception_t ex;

    if (pdu_len != 5u)
        return exception(buf, MB_EX_ILLEGAL_DATA_VALUE);
    ex = cb->write_holding(be16(buf + 2), 1, buf + 4, cb->arg);
    return ex != MB_EX_NONE ? exception(buf, ex) : 6u;
}
#endif

#if MB_ENABLE_FC15 || MB_ENABLE_FC16
/* FC15/16: address, quantity, byte count, then the values. */
static uint8_t write_multiple(const mb_callbacks_t *cb, uint8_t *buf, uint16_t pdu_len,
                              uint16_t frame_len, uint16_t max_qty, uint8_t item_bits)
{
    uint16_t addr = be16(buf + 2), qty = be16(buf + 4);
    uint16_t bytes = item_bits == 1u ? (uint16_t)((qty + 7u) / 8u) : (uint16_t)(qty * 2u);
    mb_exception_t ex;

    if (pdu_len < 6u || qty == 0u || qty > max_qty || buf[6] != bytes || pdu_len != 6u + bytes)
        return exception(buf, MB_EX_ILLEGAL_DATA_VALUE);
    if (range_wraps(addr, qty))
        return exception(buf, MB_EX_ILLEGAL_DATA_ADDRESS);
    /* Did not fit our buffer, so it reaches past our tables (see config.h). */
    if (frame_len > MB_BUF_SIZE)
        return exception(buf, MB_EX_ILLEGAL_DATA_ADDRESS);
    if (item_bits == 1u)
        ex = cb->write_coils(addr, qty, buf + 7, cb->arg);
    else
        ex = cb->write_holding(addr, qty, buf + 7, cb->arg);
    return ex != MB_EX_NONE ? exception(buf, ex) : 6u; /* address and quantity echoed */
}
#endif

uint8_t mb_pdu_execute(const mb_callbacks_t *cb, uint8_t *buf, uint16_t frame_len, bool broadcast)
{
    /* PDU = frame minus address byte and two CRC bytes */
    uint16_t pdu_len = (uint16_t)(frame_len - 3u);

    (void)cb;
    (void)pdu_len;
    if (frame_len < 4u)
        return 0;
    /* Handlers check pdu_len before trusting a field; a short PDU may leave
     * stale bytes in buf past its end, never bytes outside buf. */
    switch (buf[1]) {
#if MB_ENABLE_FC01
    case 1:
        return read_items(cb, buf, pdu_len, broadcast, 2000u, 1u);
#endif
#if MB_ENABLE_FC03
    case 3:
        return read_items(cb, buf, pdu_len, broadcast, 125u, 16u);
#endif
#if MB_ENABLE_FC04
    case 4:
        return read_items(cb, buf, pdu_len, broadcast, 125u, 16u);
#endif
#if MB_ENABLE_FC05
    case 5:
        return write_single_coil(cb, buf, pdu_len);
#endif
#if MB_ENABLE_FC06
    case 6:
        return write_single_register(cb, buf, pdu_len);
#endif
#if MB_ENABLE_FC15
    case 15:
        return write_multiple(cb, buf, pdu_len, frame_len, 1968u, 1u);
#endif
#if MB_ENABLE_FC16
    case 16:
        return write_multiple(cb, buf, pdu_len, frame_len, 123u, 16u);
#endif
    default:
        return broadcast ? 0u : exception(buf, MB_EX_ILLEGAL_FUNCTION);
    }
}
