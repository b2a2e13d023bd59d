/*
 * RS-485 on USART0: interrupt-driven receive into a ring buffer, each byte
 * tagged with the Modbus timing flags (MB_RX_*) measured on Timer2 when it
 * arrives, and interrupt-driven half-duplex transmit that drives DE.
 */
#ifndef SHAOBING_UART_H
#define SHAOBING_UART_H

#include <stdbool.h>
#include <stdint.h>

#include "modbus_rtu.h"

/* (Re)configure: 8 data bits, parity 0 none / 1 even / 2 odd, 1 stop bit.
 * Call only while nothing is being transmitted. */
void uart_config(uint32_t baud, uint8_t parity);

/* True from the start of a reply until its last stop bit has left. */
bool uart_tx_busy(void);

/* The transport for modbus_rtu; now_ms comes from timer.c. */
extern const mb_transport_t uart_transport;

#endif
