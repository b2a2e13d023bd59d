#include "board.h"

#define ADC_AVERAGE 16u

static uint16_t adc_sum;
static uint8_t adc_samples;
static uint16_t adc_average;

void board_init(void)
{
    PORTB &= (uint8_t)~_BV(PB0); /* relay off before it becomes an output */
    DDRB |= _BV(PB0);
    DDRD &= (uint8_t)~(_BV(PD3) | _BV(PD4) | _BV(PD5));
    PORTD |= _BV(PD3) | _BV(PD4) | _BV(PD5); /* pull-ups */
    RS485_DE_PORT &= (uint8_t)~_BV(RS485_DE_BIT);
    RS485_DE_DDR |= _BV(RS485_DE_BIT);

    /* ADC0, AVcc reference, 16 MHz / 128 = 125 kHz ADC clock (datasheet,
     * "Prescaling and Conversion Timing": 50-200 kHz for full 10-bit
     * resolution); digital input buffer off on ADC0. */
    DIDR0 = _BV(ADC0D);
    ADMUX = _BV(REFS0);
    ADCSRA = _BV(ADEN) | _BV(ADSC) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
}

static void adc_poll(void)
{
    if (ADCSRA & _BV(ADSC))
        return; /* conversion still running (104 us) */
    adc_sum += ADC;
    if (++adc_samples == ADC_AVERAGE) {
        adc_average = (uint16_t)((adc_sum + ADC_AVERAGE / 2u) / ADC_AVERAGE);
        adc_sum = 0;
        adc_samples = 0;
    }
    ADCSRA |= _BV(ADSC);
}

void board_read_inputs(node_inputs_t *in)
{
    uint8_t pins = PIND;

    adc_poll();
    in->rain_closed = !(pins & _BV(PD3));
    in->smoke_alarm = !(pins & _BV(PD4));
    in->smoke_fault = (pins & _BV(PD5)) != 0;
    in->adc = adc_average;
}

void board_set_relay(bool on)
{
    if (on)
        PORTB |= _BV(PB0);
    else
        PORTB &= (uint8_t)~_BV(PB0);
}
