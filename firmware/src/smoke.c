#include "smoke.h"

#include "config.h"

void smoke_init(smoke_t *s)
{
    debounce_init(&s->alarm, false, 0);
    debounce_init(&s->fault, false, 0);
    s->alarm_count = 0;
    s->primed = 0;
}

void smoke_sample(smoke_t *s, bool alarm, bool fault, uint32_t now_ms)
{
    if (!s->primed) {
        /* Start from "quiet" so an alarm present at boot still counts once. */
        debounce_init(&s->alarm, false, now_ms);
        debounce_init(&s->fault, false, now_ms);
        s->primed = 1;
    }
    if (debounce_update(&s->alarm, alarm, now_ms, SMOKE_DEBOUNCE_MS) && s->alarm.stable)
        s->alarm_count++;
    (void)debounce_update(&s->fault, fault, now_ms, SMOKE_DEBOUNCE_MS);
}

uint8_t smoke_status(const smoke_t *s)
{
    return (uint8_t)((s->alarm.stable ? SMOKE_STATUS_ALARM : 0u) |
                     (s->fault.stable ? SMOKE_STATUS_FAULT : 0u));
}
