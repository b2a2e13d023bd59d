/*
 * Host-side transport for tests: a scripted RS-485 bus. Tests queue received
 * bytes (with the flags the AVR's UART interrupt would attach), say when the
 * line falls silent, move the clock, and read back what the node sent.
 */
#ifndef SHAOBING_FAKE_BUS_H
#define SHAOBING_FAKE_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "modbus_rtu.h"

#define FAKE_BUS_RX_MAX 600u

typedef struct {
    mb_transport_t transport;
    uint16_t rx[FAKE_BUS_RX_MAX]; /* (flags << 8) | byte */
    uint16_t rx_head, rx_tail;
    bool silent;      /* line quiet for t3.5 once the queue is drained */
    uint8_t tx[300];  /* last reply */
    uint16_t tx_len;
    uint16_t tx_count; /* replies sent */
    uint32_t now_ms;
    uint32_t ms_per_clock_read; /* > 0: time moves on every time the node looks at the clock */
} fake_bus_t;

void fake_bus_init(fake_bus_t *f);

/* Queue one byte as the UART interrupt would. */
void fake_bus_rx(fake_bus_t *f, uint8_t byte, uint8_t flags);

/* Queue a complete frame: SOF on its first byte, CRC appended, then silence. */
void fake_bus_frame(fake_bus_t *f, const uint8_t *frame, uint16_t len);

/* Forget the last reply. */
void fake_bus_clear_tx(fake_bus_t *f);

#endif
