#include "node.h"

#include "config.h"
#include "registers.h"

void node_config_defaults(node_config_t *cfg)
{
    cfg->hr[HR_UNIT_ID] = NODE_DEFAULT_UNIT_ID;
    cfg->hr[HR_BAUD_DIV100] = NODE_DEFAULT_BAUD_DIV100;
    cfg->hr[HR_PARITY] = NODE_DEFAULT_PARITY;
    cfg->hr[HR_ROLES] = NODE_DEFAULT_ROLES;
    cfg->hr[HR_RAIN_TIP_UM] = RAIN_DEFAULT_TIP_UM;
    cfg->hr[HR_LEVEL_SPAN_MM] = LEVEL_DEFAULT_SPAN_MM;
    cfg->hr[HR_LEVEL_OFFSET_MM] = LEVEL_DEFAULT_OFFSET_MM;
    cfg->hr[HR_SIREN_PATTERN] = SIREN_PATTERN_STEADY;
    cfg->hr[HR_SIREN_MAX_ON_S] = SIREN_MAX_ON_CEILING_S;
    cfg->hr[HR_SIREN_SILENCE_S] = SIREN_DEFAULT_SILENCE_S;
}

bool node_config_valid(const node_config_t *cfg)
{
    uint16_t a;

    for (a = 0; a < HR_COUNT; a++)
        if (!registers_hr_value_ok(a, cfg->hr[a]))
            return false;
    return true;
}

void node_init(node_t *n, const mb_transport_t *transport, const node_config_t *stored,
               uint8_t reset_cause, uint16_t wdt_resets, uint32_t restored_rain_tips)
{
    uint32_t now = transport->now_ms(transport->arg);

    n->cfg_dirty = 0;
    n->serial_dirty = 0;
    if (stored != 0 && node_config_valid(stored)) {
        n->cfg = *stored;
    } else {
        node_config_defaults(&n->cfg);
        n->cfg_dirty = 1;
    }
    n->now_ms = now;
    registers_callbacks(&n->callbacks, n);
    mb_rtu_init(&n->mb, transport, &n->callbacks, (uint8_t)n->cfg.hr[HR_UNIT_ID]);
    health_init(&n->health, reset_cause, wdt_resets, now);
    rain_init(&n->rain, restored_rain_tips);
    level_update(&n->level, 0, n->cfg.hr[HR_LEVEL_SPAN_MM], n->cfg.hr[HR_LEVEL_OFFSET_MM]);
    smoke_init(&n->smoke);
    siren_init(&n->siren);
    n->siren.pattern = (uint8_t)n->cfg.hr[HR_SIREN_PATTERN];
}

void node_step(node_t *n, const node_inputs_t *in)
{
    const mb_transport_t *t = n->mb.transport;
    uint16_t roles = n->cfg.hr[HR_ROLES];

    n->now_ms = t->now_ms(t->arg);
    (void)mb_rtu_poll(&n->mb);
    /* Read the clock again: the millisecond tick may have fired while a
     * request was handled, and no timestamp taken there may lie in the future
     * of the "now" the roles work with. */
    n->now_ms = t->now_ms(t->arg);
    health_update(&n->health, n->now_ms);
    if (roles & ROLE_RAIN)
        rain_sample(&n->rain, in->rain_closed, n->now_ms);
    if (roles & ROLE_LEVEL)
        level_update(&n->level, in->adc, n->cfg.hr[HR_LEVEL_SPAN_MM], n->cfg.hr[HR_LEVEL_OFFSET_MM]);
    if (roles & ROLE_SMOKE)
        smoke_sample(&n->smoke, in->smoke_alarm, in->smoke_fault, n->now_ms);
    siren_update(&n->siren, n->now_ms, n->mb.last_request_ms, n->cfg.hr[HR_SIREN_MAX_ON_S],
                 n->cfg.hr[HR_SIREN_SILENCE_S]);
}

bool node_relay(const node_t *n)
{
    return (n->cfg.hr[HR_ROLES] & ROLE_SIREN) != 0u && n->siren.relay;
}

uint32_t node_baud(const node_t *n)
{
    return (uint32_t)n->cfg.hr[HR_BAUD_DIV100] * 100uL;
}
