/*
 * The register map (firmware/README.md has the same table for humans and
 * hardware/profiles/shaobing-node.yaml for the gateway; the node profile walk,
 * test/integration/node-profile-walk.test.ts, fails when the three differ).
 *
 *   coil 0              siren request                       role siren
 *   input  0..9         health                              always
 *   input 16..19        rain                                role rain
 *   input 32..35        level                               role level
 *   input 48..49        smoke                               role smoke
 *   input 64..67        siren                               role siren
 *   holding 0..9        configuration (node_config_t)       always
 *
 * Each role owns the 16 input addresses from 16 * (bit index + 1). Addresses
 * outside the table, and those of roles not enabled in HR_ROLES, answer
 * ILLEGAL_DATA_ADDRESS. 32-bit values take two registers, high word first.
 */
#include "registers.h"

#include "config.h"
#include "platform.h"

/* Valid range of each holding register, {min, max}. */
static const uint16_t hr_range[HR_COUNT][2] FLASH_TABLE = {
    [HR_UNIT_ID] = {1u, 247u},
    [HR_BAUD_DIV100] = {96u, 1152u}, /* and one of the rates in baud_ok() */
    [HR_PARITY] = {0u, 2u},
    [HR_ROLES] = {0u, ROLE_ALL},
    [HR_RAIN_TIP_UM] = {1u, 0xFFFFu},
    [HR_LEVEL_SPAN_MM] = {1u, 0xFFFFu},
    [HR_LEVEL_OFFSET_MM] = {0u, 0xFFFFu},
    [HR_SIREN_PATTERN] = {0u, SIREN_PATTERN_COUNT - 1u},
    [HR_SIREN_MAX_ON_S] = {1u, SIREN_MAX_ON_CEILING_S},
    [HR_SIREN_SILENCE_S] = {1u, SIREN_SILENCE_MAX_S},
};

static bool baud_ok(uint16_t div100)
{
    return div100 == 96u || div100 == 192u || div100 == 384u || div100 == 576u || div100 == 1152u;
}

bool registers_hr_value_ok(uint16_t addr, uint16_t value)
{
    if (addr >= HR_COUNT)
        return false;
    if (value < flash_u16(&hr_range[addr][0]) || value > flash_u16(&hr_range[addr][1]))
        return false;
    return addr != HR_BAUD_DIV100 || baud_ok(value);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static bool role_on(const node_t *n, uint8_t role)
{
    return (n->cfg.hr[HR_ROLES] & role) != 0u;
}

/* Value of one input register; false if the address does not exist here. */
static bool input_value(const node_t *n, uint16_t a, uint16_t *v)
{
    uint32_t rain_um;

    if (a >= 16u && (a >> 4) <= 4u && !role_on(n, (uint8_t)(1u << ((a >> 4) - 1u))))
        return false;
    switch (a) {
    case 0: *v = (uint16_t)((FW_VERSION_MAJOR << 8) | FW_VERSION_MINOR); break;
    case 1: *v = (uint16_t)(n->health.uptime_s >> 16); break;
    case 2: *v = (uint16_t)n->health.uptime_s; break;
    case 3: *v = n->health.reset_cause; break;
    case 4: *v = n->health.wdt_resets; break;
    case 5: *v = n->mb.counters.crc_errors; break;
    case 6: *v = n->mb.counters.framing_errors; break;
    case 7: *v = n->mb.counters.overrun_errors; break;
    case 8: *v = n->mb.counters.frames_ok; break;
    case 9: *v = n->mb.counters.exceptions; break;
    case 16: *v = (uint16_t)(n->rain.tips >> 16); break;
    case 17: *v = (uint16_t)n->rain.tips; break;
    case 18:
    case 19:
        rain_um = rain_total_um(&n->rain, n->cfg.hr[HR_RAIN_TIP_UM]);
        *v = a == 18u ? (uint16_t)(rain_um >> 16) : (uint16_t)rain_um;
        break;
    case 32: *v = n->level.level_mm; break;
    case 33: *v = n->level.current_ua; break;
    case 34: *v = n->level.status; break;
    case 35: *v = n->level.adc_raw; break;
    case 48: *v = smoke_status(&n->smoke); break;
    case 49: *v = n->smoke.alarm_count; break;
    case 64: *v = siren_status(&n->siren); break;
    case 65: *v = siren_on_s(&n->siren, n->now_ms); break;
    case 66: *v = siren_rest_s(&n->siren, n->now_ms); break;
    case 67: *v = SIREN_MAX_ON_CEILING_S; break;
    default: return false;
    }
    return true;
}

static mb_exception_t read_input(uint16_t addr, uint16_t qty, uint8_t *words, void *arg)
{
    const node_t *n = (const node_t *)arg;
    uint16_t i, v = 0;

    for (i = 0; i < qty; i++) {
        if (!input_value(n, (uint16_t)(addr + i), &v))
            return MB_EX_ILLEGAL_DATA_ADDRESS;
        put16(words + 2u * i, v);
    }
    return MB_EX_NONE;
}

static mb_exception_t read_holding(uint16_t addr, uint16_t qty, uint8_t *words, void *arg)
{
    const node_t *n = (const node_t *)arg;
    uint16_t i;

    if ((uint32_t)addr + qty > HR_COUNT)
        return MB_EX_ILLEGAL_DATA_ADDRESS;
    for (i = 0; i < qty; i++)
        put16(words + 2u * i, n->cfg.hr[addr + i]);
    return MB_EX_NONE;
}

static mb_exception_t write_holding(uint16_t addr, uint16_t qty, const uint8_t *words, void *arg)
{
    node_t *n = (node_t *)arg;
    uint16_t i;

    if ((uint32_t)addr + qty > HR_COUNT)
        return MB_EX_ILLEGAL_DATA_ADDRESS;
    for (i = 0; i < qty; i++) /* all or nothing */
        if (!registers_hr_value_ok((uint16_t)(addr + i), (uint16_t)((words[2u * i] << 8) | words[2u * i + 1u])))
            return MB_EX_ILLEGAL_DATA_VALUE;
    for (i = 0; i < qty; i++) {
        uint16_t a = (uint16_t)(addr + i);

        n->cfg.hr[a] = (uint16_t)((words[2u * i] << 8) | words[2u * i + 1u]);
        if (a == HR_UNIT_ID)
            n->mb.unit_id = (uint8_t)n->cfg.hr[a]; /* this reply still carries the old id */
        if (a == HR_BAUD_DIV100 || a == HR_PARITY)
            n->serial_dirty = 1;
        if (a == HR_SIREN_PATTERN)
            n->siren.pattern = (uint8_t)n->cfg.hr[a];
    }
    if (!role_on(n, ROLE_SIREN))
        (void)siren_request(&n->siren, false, n->now_ms);
    n->cfg_dirty = 1;
    return MB_EX_NONE;
}

/* Coil 0 is the siren request; it reads back 0 once a run has been cut. */
static mb_exception_t read_coils(uint16_t addr, uint16_t qty, uint8_t *bits, void *arg)
{
    const node_t *n = (const node_t *)arg;

    if (addr != 0u || qty != 1u || !role_on(n, ROLE_SIREN))
        return MB_EX_ILLEGAL_DATA_ADDRESS;
    bits[0] = n->siren.running ? 1u : 0u;
    return MB_EX_NONE;
}

static mb_exception_t write_coils(uint16_t addr, uint16_t qty, const uint8_t *bits, void *arg)
{
    node_t *n = (node_t *)arg;

    if (addr != 0u || qty != 1u || !role_on(n, ROLE_SIREN))
        return MB_EX_ILLEGAL_DATA_ADDRESS;
    return siren_request(&n->siren, (bits[0] & 1u) != 0u, n->now_ms);
}

void registers_callbacks(mb_callbacks_t *cb, node_t *n)
{
    cb->read_coils = read_coils;
    cb->write_coils = write_coils;
    cb->read_holding = read_holding;
    cb->read_input = read_input;
    cb->write_holding = write_holding;
    cb->arg = n;
}
