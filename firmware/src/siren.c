#include "siren.h"

#include "config.h"

void siren_init(siren_t *s)
{
    s->on_since_ms = 0;
    s->rest_from_ms = 0;
    s->running = 0;
    s->resting = 0;
    s->cut = 0;
    s->pattern = SIREN_PATTERN_STEADY;
    s->relay = 0;
}

mb_exception_t siren_request(siren_t *s, bool on, uint32_t now_ms)
{
    if (!on) {
        s->running = 0;
        s->relay = 0;
        return MB_EX_NONE;
    }
    if (s->running)
        return MB_EX_NONE; /* a repeated ON neither restarts nor extends the run */
    if (s->resting)
        return MB_EX_SERVER_DEVICE_BUSY;
    s->running = 1;
    s->cut = 0;
    s->on_since_ms = now_ms;
    return MB_EX_NONE;
}

/* Pattern phase: true while the relay should be on. */
static bool pattern_on(uint8_t pattern, uint32_t elapsed_ms)
{
    switch (pattern) {
    case SIREN_PATTERN_SLOW:
        return (elapsed_ms % 2000uL) < 1000uL;
    case SIREN_PATTERN_FAST:
        return (elapsed_ms % 500uL) < 250uL;
    default:
        return true;
    }
}

void siren_update(siren_t *s, uint32_t now_ms, uint32_t last_request_ms, uint16_t max_on_s,
                  uint16_t silence_s)
{
    uint32_t elapsed = now_ms - s->on_since_ms;
    uint32_t quiet = now_ms - last_request_ms;

    /* The ceiling is applied here too, whatever the configuration says. */
    if (max_on_s > SIREN_MAX_ON_CEILING_S || max_on_s == 0u)
        max_on_s = SIREN_MAX_ON_CEILING_S;
    if (silence_s == 0u || silence_s > SIREN_SILENCE_MAX_S)
        silence_s = SIREN_SILENCE_MAX_S;

    /* A request stamped a little after now_ms is recent, not 49 days old. */
    if (quiet > 0x80000000uL)
        quiet = 0;
    if (s->resting && (uint32_t)(now_ms - s->rest_from_ms) >= SIREN_REST_S * 1000uL)
        s->resting = 0;
    if (s->running && elapsed >= (uint32_t)max_on_s * 1000uL) {
        s->running = 0;
        s->cut = SIREN_STATUS_MAX_ON_CUT;
        s->resting = 1;
        s->rest_from_ms = now_ms;
    } else if (s->running && quiet >= (uint32_t)silence_s * 1000uL) {
        s->running = 0;
        s->cut = SIREN_STATUS_SILENCE_CUT;
    }
    s->relay = s->running && pattern_on(s->pattern, elapsed);
}

uint8_t siren_status(const siren_t *s)
{
    return (uint8_t)((s->relay ? SIREN_STATUS_RELAY : 0u) | (s->running ? SIREN_STATUS_RUNNING : 0u) |
                     s->cut | (s->resting ? SIREN_STATUS_RESTING : 0u));
}

uint16_t siren_on_s(const siren_t *s, uint32_t now_ms)
{
    return s->running ? (uint16_t)((now_ms - s->on_since_ms) / 1000uL) : 0u;
}

uint16_t siren_rest_s(const siren_t *s, uint32_t now_ms)
{
    uint32_t rested = now_ms - s->rest_from_ms;

    if (!s->resting || rested >= SIREN_REST_S * 1000uL)
        return 0;
    return (uint16_t)((SIREN_REST_S * 1000uL - rested + 999uL) / 1000uL);
}
