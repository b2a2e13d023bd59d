/*
 * One field node: Modbus slave, health, and the four roles, wired together.
 * The platform owns I/O and time; each main-loop pass samples the inputs into
 * node_inputs_t, calls node_step(), drives the relay from node_relay(), and
 * saves cfg / reconfigures the UART when asked to through the dirty flags.
 * All state is in node_t: tests make as many nodes as they like.
 */
#ifndef SHAOBING_NODE_H
#define SHAOBING_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "health.h"
#include "level.h"
#include "modbus_rtu.h"
#include "rain.h"
#include "siren.h"
#include "smoke.h"

/* Holding registers = the persisted configuration, index = 0-based address. */
enum {
    HR_UNIT_ID = 0,      /* 1..247 */
    HR_BAUD_DIV100,      /* 96, 192, 384, 576, 1152 */
    HR_PARITY,           /* 0 none, 1 even, 2 odd */
    HR_ROLES,            /* ROLE_* bit mask */
    HR_RAIN_TIP_UM,      /* micrometres of rain per tip */
    HR_LEVEL_SPAN_MM,    /* level change from 4 mA to 20 mA */
    HR_LEVEL_OFFSET_MM,  /* level at 4 mA */
    HR_SIREN_PATTERN,    /* SIREN_PATTERN_* */
    HR_SIREN_MAX_ON_S,   /* 1..SIREN_MAX_ON_CEILING_S */
    HR_SIREN_SILENCE_S,  /* 1..SIREN_SILENCE_MAX_S */
    HR_COUNT
};

typedef struct {
    uint16_t hr[HR_COUNT];
} node_config_t;

typedef struct {
    bool rain_closed; /* reed switch closed */
    bool smoke_alarm; /* alarm contact closed */
    bool smoke_fault; /* fault loop open */
    uint16_t adc;     /* averaged 10-bit reading of the 4-20 mA shunt */
} node_inputs_t;

typedef struct {
    node_config_t cfg;
    uint8_t cfg_dirty;    /* set when cfg changed: the platform saves it and clears this */
    uint8_t serial_dirty; /* set when baud/parity changed: apply after the reply is sent */
    uint32_t now_ms;      /* time of the current node_step() */
    mb_callbacks_t callbacks;
    mb_rtu_t mb;
    health_t health;
    rain_t rain;
    level_t level;
    smoke_t smoke;
    siren_t siren;
} node_t;

/* Factory defaults (config.h). */
void node_config_defaults(node_config_t *cfg);

/* Every field within its range (an erased or torn EEPROM fails this). */
bool node_config_valid(const node_config_t *cfg);

/* stored may be NULL or invalid: defaults are used then, and cfg_dirty is set
 * so that they get saved. */
void node_init(node_t *n, const mb_transport_t *transport, const node_config_t *stored,
               uint8_t reset_cause, uint16_t wdt_resets, uint32_t restored_rain_tips);

/* One main-loop pass: serve Modbus, sample the roles, run the siren timers. */
void node_step(node_t *n, const node_inputs_t *in);

/* Whether the siren relay must be energised now. */
bool node_relay(const node_t *n);

/* Baud rate from the configuration. */
uint32_t node_baud(const node_t *n);

#endif
