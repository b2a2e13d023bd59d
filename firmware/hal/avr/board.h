/*
 * Pin-out of the field node (hardware/docs/field-node-wiring.md):
 *
 *   PD0/RXD  <- MAX485 RO (10k pull-up: RO floats while the driver talks)
 *   PD1/TXD  -> MAX485 DI
 *   PD2      -> MAX485 DE and /RE tied (high = transmit)
 *   PD3      <- rain reed switch to GND (pull-up, RC filter): low = closed
 *   PD4      <- smoke alarm contact to GND (pull-up): low = alarm
 *   PD5      <- smoke fault loop, normally closed to GND (pull-up): high = fault
 *   PB0      -> siren relay driver (high = energised; 10k pull-down holds it
 *               off while the MCU is in reset)
 *   PC0/ADC0 <- 4-20 mA loop across 150 ohm (RC filtered, clamped)
 */
#ifndef SHAOBING_BOARD_H
#define SHAOBING_BOARD_H

#include <stdbool.h>

#include <avr/io.h>

#include "node.h"

#define RS485_DE_PORT PORTD
#define RS485_DE_DDR DDRD
#define RS485_DE_BIT PD2

/* Configure pins, the relay output (off) and the ADC. */
void board_init(void);

/* Sample the contacts and the latest ADC average into in. Never blocks: the
 * ADC converts in the background and is averaged over 16 conversions. */
void board_read_inputs(node_inputs_t *in);

void board_set_relay(bool on);

#endif
