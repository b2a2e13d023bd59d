/* A node on a fake bus, for tests that talk Modbus to the whole firmware. */
#ifndef SHAOBING_RIG_H
#define SHAOBING_RIG_H

#include <stdint.h>

#include "fake_bus.h"
#include "node.h"

typedef struct {
    fake_bus_t bus;
    node_t node;
    node_inputs_t in;
} rig_t;

/* Defaults (all roles, unit 1), clock at 1000 ms, inputs quiet, loop current 12 mA. */
void rig_init(rig_t *r);

/* Send a request (CRC added), run one node step, return the reply length
 * without its CRC (0 if none). The reply's CRC is checked too. */
uint16_t rig_request(rig_t *r, const uint8_t *req, uint16_t len);

/* Advance the clock by ms, stepping the node every millisecond. */
void rig_advance(rig_t *r, uint32_t ms);

/* Helpers returning the exception code (0 if none) of a request. */
uint8_t rig_write_hr(rig_t *r, uint16_t addr, uint16_t value);
uint8_t rig_write_coil(rig_t *r, uint16_t addr, int on);
/* Read one input/holding register; returns -1 on exception. */
long rig_read_ir(rig_t *r, uint16_t addr);
long rig_read_hr(rig_t *r, uint16_t addr);

#endif
