#include "debounce.h"

void debounce_init(debounce_t *d, bool level, uint32_t now_ms)
{
    d->since_ms = now_ms;
    d->raw = level;
    d->stable = level;
}

bool debounce_update(debounce_t *d, bool level, uint32_t now_ms, uint16_t hold_ms)
{
    if (level != d->raw) {
        d->raw = level;
        d->since_ms = now_ms;
        return false;
    }
    if (level != d->stable && (uint32_t)(now_ms - d->since_ms) >= hold_ms) {
        d->stable = level;
        return true;
    }
    return false;
}
