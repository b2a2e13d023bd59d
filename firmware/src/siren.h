/*
 * Siren relay. The gateway asks for the siren with coil 0; this module decides
 * whether the relay is actually energised, and it alone enforces safety:
 *  - one run never lasts longer than min(siren_max_on_s, SIREN_MAX_ON_CEILING_S);
 *    a run cut that way is followed by SIREN_REST_S during which ON is refused;
 *  - a run ends when no valid request has reached the node for siren_silence_s
 *    (the gateway or the bus is gone; better silent than stuck on);
 *  - repeating ON during a run does not extend it.
 */
#ifndef SHAOBING_SIREN_H
#define SHAOBING_SIREN_H

#include <stdbool.h>
#include <stdint.h>

#include "modbus_rtu.h"

#define SIREN_STATUS_RELAY 0x01u       /* relay energised right now */
#define SIREN_STATUS_RUNNING 0x02u     /* a run is in progress (coil 0 reads 1) */
#define SIREN_STATUS_MAX_ON_CUT 0x04u  /* last run was cut by the max on-time */
#define SIREN_STATUS_SILENCE_CUT 0x08u /* last run was cut by the silence timeout */
#define SIREN_STATUS_RESTING 0x10u     /* ON refused until the rest time is over */

enum { SIREN_PATTERN_STEADY = 0, SIREN_PATTERN_SLOW = 1, SIREN_PATTERN_FAST = 2, SIREN_PATTERN_COUNT };

typedef struct {
    uint32_t on_since_ms;  /* start of the current run */
    uint32_t rest_from_ms; /* when the last max-on cut happened */
    uint8_t running;
    uint8_t resting;
    uint8_t cut;     /* SIREN_STATUS_MAX_ON_CUT / _SILENCE_CUT of the last run */
    uint8_t pattern; /* SIREN_PATTERN_* */
    uint8_t relay;
} siren_t;

void siren_init(siren_t *s);

/* Coil write. Starting a run while resting answers SERVER_DEVICE_BUSY. */
mb_exception_t siren_request(siren_t *s, bool on, uint32_t now_ms);

/* Advance timers and set s->relay. last_request_ms is the time of the last
 * valid Modbus request for this node. */
void siren_update(siren_t *s, uint32_t now_ms, uint32_t last_request_ms, uint16_t max_on_s,
                  uint16_t silence_s);

uint8_t siren_status(const siren_t *s);
uint16_t siren_on_s(const siren_t *s, uint32_t now_ms);   /* seconds into the run, 0 if off */
uint16_t siren_rest_s(const siren_t *s, uint32_t now_ms); /* seconds of rest left */

#endif
