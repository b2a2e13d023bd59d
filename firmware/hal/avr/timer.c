#include "timer.h"

#include <avr/interrupt.h>
#include <avr/io.h>

static volatile uint32_t ms_count;

ISR(TIMER0_COMPA_vect)
{
    ms_count++;
}

void timer_init(void)
{
    TCCR0A = _BV(WGM01);            /* CTC */
    TCCR0B = _BV(CS01) | _BV(CS00); /* clk/64: 4 us */
    OCR0A = 249;                    /* 250 ticks = 1 ms */
    TIMSK0 = _BV(OCIE0A);

    TCCR2A = _BV(WGM21);            /* CTC; OCR2A set by uart_config() */
    TCCR2B = _BV(CS22) | _BV(CS21); /* clk/256: 16 us */
}

uint32_t timer_ms(void)
{
    uint32_t v;
    uint8_t sreg = SREG;

    cli();
    v = ms_count;
    SREG = sreg;
    return v;
}
