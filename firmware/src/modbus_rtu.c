/*
 * RTU framing: turns the flagged byte stream from the transport into frames,
 * checks CRC and address, hands valid requests to mb_pdu_execute() and sends
 * the reply. State machine after the RTU transmission state diagram of Modbus
 * over serial line V1.02 §2.5.1.1: initial -> (t3.5 silence) -> idle ->
 * (byte) -> reception -> (t3.5 silence) -> control and waiting -> idle.
 */
#include "modbus_rtu.h"

#include "crc16.h"

enum {
    MB_STATE_WAIT_SILENCE = 0, /* after reset: ignore bytes until the line has been quiet */
    MB_STATE_IDLE,
    MB_STATE_RECEIVING
};

void mb_rtu_timing(uint32_t baud, mb_rtu_timing_t *t)
{
    if (baud == 0u)
        baud = 9600u;
    t->char_us = (uint16_t)((11000000uL + baud / 2u) / baud);
    if (baud > 19200u) {
        /* §2.5.1.1: at high rates the interrupt load of exact timing is not worth it */
        t->t15_us = 750u;
        t->t35_us = 1750u;
    } else {
        t->t15_us = (uint16_t)((16500000uL + baud / 2u) / baud);
        t->t35_us = (uint16_t)((38500000uL + baud / 2u) / baud);
    }
}

void mb_rtu_init(mb_rtu_t *mb, const mb_transport_t *transport, const mb_callbacks_t *callbacks,
                 uint8_t unit_id)
{
    uint8_t i;

    mb->transport = transport;
    mb->callbacks = callbacks;
    mb->unit_id = unit_id;
    mb->state = MB_STATE_WAIT_SILENCE;
    mb->broken = 0;
    mb->count = 0;
    mb->crc = CRC16_INIT;
    mb->last_request_ms = transport->now_ms(transport->arg);
    mb->counters.crc_errors = 0;
    mb->counters.framing_errors = 0;
    mb->counters.overrun_errors = 0;
    mb->counters.frames_ok = 0;
    mb->counters.exceptions = 0;
    for (i = 0; i < MB_BUF_SIZE; i++)
        mb->buf[i] = 0;
}

static void frame_start(mb_rtu_t *mb)
{
    mb->state = MB_STATE_RECEIVING;
    mb->broken = 0;
    mb->count = 0;
    mb->crc = CRC16_INIT;
}

static void frame_byte(mb_rtu_t *mb, uint8_t byte, uint8_t flags)
{
    if (flags & MB_RX_OVERRUN) {
        if (!mb->broken)
            mb->counters.overrun_errors++;
        mb->broken = 1;
    } else if (flags & (MB_RX_FRAMING | MB_RX_GAP)) {
        if (!mb->broken)
            mb->counters.framing_errors++;
        mb->broken = 1;
    }
    if (mb->count < MB_BUF_SIZE)
        mb->buf[mb->count] = byte;
    if (mb->count < 0xFFFFu)
        mb->count++;
    /* CRC runs over every byte, so frames longer than buf are still checked */
    mb->crc = crc16_update(mb->crc, byte);
}

enum { FRAME_IGNORED = 0, FRAME_EXECUTED, FRAME_REPLIED };

/* A frame is complete: check it, execute it, reply. */
static uint8_t frame_end(mb_rtu_t *mb)
{
    const mb_transport_t *t = mb->transport;
    uint8_t addr, len;
    uint16_t crc;

    mb->state = MB_STATE_IDLE;
    if (mb->broken)
        return FRAME_IGNORED; /* already counted */
    if (mb->count < 4u) {
        /* address + function + CRC is the shortest frame there is */
        mb->counters.framing_errors++;
        return FRAME_IGNORED;
    }
    if (mb->crc != 0u) {
        mb->counters.crc_errors++;
        return FRAME_IGNORED;
    }
    addr = mb->buf[0];
    if (addr != mb->unit_id && addr != 0u)
        return FRAME_IGNORED; /* another device's request or reply */

    mb->counters.frames_ok++;
    mb->last_request_ms = t->now_ms(t->arg);
    len = mb_pdu_execute(mb->callbacks, mb->buf, mb->count, addr == 0u);
    if (addr == 0u || len == 0u)
        return FRAME_EXECUTED; /* §2.1: a broadcast is never answered */
    if (mb->buf[1] & 0x80u)
        mb->counters.exceptions++;
    crc = crc16(mb->buf, len);
    mb->buf[len] = (uint8_t)(crc & 0xFFu); /* CRC goes low byte first */
    mb->buf[len + 1u] = (uint8_t)(crc >> 8);
    t->write(mb->buf, (uint8_t)(len + 2u), t->arg);
    return FRAME_REPLIED;
}

bool mb_rtu_poll(mb_rtu_t *mb)
{
    const mb_transport_t *t = mb->transport;
    bool handled = false;
    int16_t c;

    while ((c = t->read(t->arg)) >= 0) {
        uint8_t byte = (uint8_t)(c & 0xFF);
        uint8_t flags = (uint8_t)((uint16_t)c >> 8);

        if (flags & MB_RX_SOF) {
            /* The silence before this byte ended the previous frame. */
            if (mb->state == MB_STATE_RECEIVING) {
                uint8_t r = frame_end(mb);

                handled = handled || r != FRAME_IGNORED;
                if (r == FRAME_REPLIED) {
                    /* buf is on its way out and a half-duplex slave cannot
                     * listen while talking: drop the master's next frame. */
                    mb->state = MB_STATE_WAIT_SILENCE;
                    return true;
                }
            }
            frame_start(mb);
            /* flags about the silence *before* a frame say nothing about it */
            flags &= (uint8_t)~MB_RX_GAP;
        } else if (mb->state == MB_STATE_WAIT_SILENCE) {
            continue; /* joined the bus in the middle of a frame */
        } else if (mb->state == MB_STATE_IDLE) {
            frame_start(mb);
            flags &= (uint8_t)~MB_RX_GAP;
        }
        frame_byte(mb, byte, flags);
    }
    if (t->line_idle(t->arg)) {
        if (mb->state == MB_STATE_RECEIVING)
            handled = frame_end(mb) != FRAME_IGNORED || handled;
        else
            mb->state = MB_STATE_IDLE;
    }
    return handled;
}
