#include "uart.h"

#include <avr/interrupt.h>
#include <avr/io.h>

#include "board.h"
#include "timer.h"

#define RX_RING 32u /* power of two; drained every main-loop pass (<= 1 ms) */

static volatile uint8_t rx_data[RX_RING];
static volatile uint8_t rx_flags[RX_RING];
static volatile uint8_t rx_head, rx_tail;
static volatile uint8_t rx_dropped; /* ring was full: flag the next byte */
static volatile uint8_t line_idle = 1;
/* Timer2 is restarted at every received byte (RXC fires at the end of the
 * stop bit), so at the next byte TCNT2 holds character time plus silence. */
static uint8_t gap_ticks;

static const uint8_t *tx_buf;
static volatile uint8_t tx_len, tx_pos, tx_busy;

ISR(USART_RX_vect)
{
    uint8_t status = UCSR0A; /* error flags belong to the byte in UDR0: read first */
    uint8_t byte = UDR0;
    uint8_t since = TCNT2;
    uint8_t flags = 0, next;

    TCNT2 = 0;

    /* simavr only refills its receive FIFO after it sees UCSR0A read while
     * the FIFO is empty; on silicon this read is harmless. */
    (void)UCSR0A;
    if (status & (_BV(FE0) | _BV(UPE0)))
        flags |= MB_RX_FRAMING;
    if (status & _BV(DOR0))
        flags |= MB_RX_OVERRUN;
    /* Modbus over serial line V1.02 §2.5.1.1: t3.5 silence starts a frame,
     * more than t1.5 inside one breaks it. */
    if (line_idle)
        flags |= MB_RX_SOF;
    else if (since > gap_ticks)
        flags |= MB_RX_GAP;
    line_idle = 0;
    TIFR2 = _BV(OCF2A);
    TIMSK2 = _BV(OCIE2A);

    next = (uint8_t)((rx_head + 1u) & (RX_RING - 1u));
    if (next == rx_tail) {
        rx_dropped = 1;
        return;
    }
    if (rx_dropped) {
        flags |= MB_RX_OVERRUN;
        rx_dropped = 0;
    }
    rx_data[rx_head] = byte;
    rx_flags[rx_head] = flags;
    rx_head = next;
}

/* t3.5 after the last byte: the frame is over. */
ISR(TIMER2_COMPA_vect)
{
    line_idle = 1;
    TIMSK2 = 0;
}

ISR(USART_UDRE_vect)
{
    UDR0 = tx_buf[tx_pos++];
    if (tx_pos == tx_len) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
        UCSR0B |= _BV(TXCIE0); /* wait for the last stop bit before releasing the bus */
    }
}

ISR(USART_TX_vect)
{
    RS485_DE_PORT &= (uint8_t)~_BV(RS485_DE_BIT);
    UCSR0B = (uint8_t)((UCSR0B & ~_BV(TXCIE0)) | _BV(RXEN0));
    tx_busy = 0;
}

void uart_config(uint32_t baud, uint8_t parity)
{
    mb_rtu_timing_t t;
    uint8_t sreg = SREG;

    mb_rtu_timing(baud, &t);
    cli();
    UCSR0B = 0;
    /* double speed: 16 MHz / 8 / 115200 - 1 = 16.4 -> 16 gives +2.1 %, inside
     * the ~±4.5 % an 11-bit character tolerates; 9600 is off by +0.2 % */
    UCSR0A = _BV(U2X0);
    UBRR0 = (uint16_t)((F_CPU / 8u + baud / 2u) / baud - 1u);
    UCSR0C = (uint8_t)(_BV(UCSZ01) | _BV(UCSZ00) |
                       (parity == 1u ? _BV(UPM01) : parity == 2u ? (_BV(UPM01) | _BV(UPM00)) : 0u));
    /* 9600 baud: t3.5 = 4010 us = 250 ticks, the slowest rate that fits 8 bits */
    OCR2A = (uint8_t)(t.t35_us / FRAME_TIMER_US_PER_TICK);
    gap_ticks = (uint8_t)((t.char_us + t.t15_us) / FRAME_TIMER_US_PER_TICK);
    rx_head = rx_tail = 0;
    line_idle = 0; /* §2.5.1.1: start by waiting for t3.5 of silence */
    TCNT2 = 0;
    TIFR2 = _BV(OCF2A);
    TIMSK2 = _BV(OCIE2A);
    UCSR0B = _BV(RXCIE0) | _BV(RXEN0) | _BV(TXEN0);
    SREG = sreg;
    (void)UCSR0A; /* simavr: announce an empty receive FIFO (see the RX ISR) */
}

bool uart_tx_busy(void)
{
    return tx_busy != 0;
}

static int16_t transport_read(void *arg)
{
    int16_t c;

    (void)arg;
    if (tx_busy || rx_tail == rx_head)
        return -1;
    c = (int16_t)(((uint16_t)rx_flags[rx_tail] << 8) | rx_data[rx_tail]);
    rx_tail = (uint8_t)((rx_tail + 1u) & (RX_RING - 1u));
    return c;
}

static bool transport_line_idle(void *arg)
{
    bool idle;
    uint8_t sreg = SREG;

    (void)arg;
    cli(); /* the flag and the ring must be seen together */
    idle = line_idle && rx_head == rx_tail && !tx_busy;
    SREG = sreg;
    return idle;
}

static void transport_write(const uint8_t *buf, uint8_t len, void *arg)
{
    (void)arg;
    if (len == 0u)
        return;
    tx_buf = buf;
    tx_len = len;
    tx_pos = 0;
    tx_busy = 1;
    /* half duplex: stop listening (an echo of our own reply would otherwise
     * look like a request), then drive the bus */
    UCSR0B &= (uint8_t)~_BV(RXEN0);
    RS485_DE_PORT |= _BV(RS485_DE_BIT);
    UCSR0A = (uint8_t)((UCSR0A & _BV(U2X0)) | _BV(TXC0)); /* clear a stale TXC */
    UCSR0B |= _BV(UDRIE0);
}

static uint32_t transport_now_ms(void *arg)
{
    (void)arg;
    return timer_ms();
}

const mb_transport_t uart_transport = {
    transport_read, transport_line_idle, transport_write, transport_now_ms, 0,
};
