/*
 * Modbus register map of the node: callbacks for modbus_rtu over a node_t.
 * The map itself is documented in registers.c and firmware/README.md.
 */
#ifndef SHAOBING_REGISTERS_H
#define SHAOBING_REGISTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "node.h"

/* Fill cb so that every table access goes to n. */
void registers_callbacks(mb_callbacks_t *cb, node_t *n);

/* Whether value is acceptable for holding register addr. */
bool registers_hr_value_ok(uint16_t addr, uint16_t value);

#endif
