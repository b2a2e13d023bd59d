/*
 * Two timers, each in CTC mode with a compare value that is set once and never
 * rewritten while running (simavr re-times a whole timer when its OCR
 * registers are written in normal mode, which stole ticks from a shared
 * Timer1 design; CTC with fixed OCR behaves the same on silicon and in the
 * simulator):
 *   Timer0: F_CPU / 64, OCR0A = 249 -> the millisecond clock.
 *   Timer2: F_CPU / 256 = 16 us ticks, owned by uart.c: restarted on every
 *           received byte, its compare match marks 3.5 characters of silence.
 */
#ifndef SHAOBING_TIMER_H
#define SHAOBING_TIMER_H

#include <stdint.h>

#define FRAME_TIMER_US_PER_TICK 16u

void timer_init(void);

/* Milliseconds since boot, wrapping at 2^32. */
uint32_t timer_ms(void);

#endif
