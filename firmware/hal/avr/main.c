/*
 * ATmega328P entry point: boot bookkeeping (reset cause, watchdog count,
 * rain counter carried over a watchdog reset), then a main loop that never
 * blocks: sample, node_step(), drive the relay, persist, sleep until the next
 * interrupt (the 1 ms tick at the latest). The watchdog is fed only here, so
 * any hang in the loop resets the node within 0.5 s.
 */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>

#include "board.h"
#include "crc16.h"
#include "health.h"
#include "node.h"
#include "timer.h"
#include "uart.h"

/* EEPROM layout */
#define EE_CONFIG ((void *)0)           /* node_config_t, then its CRC-16 */
#define EE_WDT_RESETS ((uint16_t *)64)  /* lifetime watchdog reset count */

/* Survive a watchdog reset; garbage after power-on, hence the check word. */
static uint8_t boot_mcusr __attribute__((section(".noinit")));
static uint32_t kept_tips __attribute__((section(".noinit")));
static uint32_t kept_tips_check __attribute__((section(".noinit")));

static node_t node;

/* avr-libc FAQ: after a watchdog reset the watchdog stays enabled at its
 * shortest timeout, so it must be stopped before main() (and MCUSR cleared,
 * or WDRF keeps it on). */
void boot_capture(void) __attribute__((naked, used, section(".init3")));
void boot_capture(void)
{
    boot_mcusr = MCUSR;
    MCUSR = 0;
    wdt_disable();
}

static bool load_config(node_config_t *cfg)
{
    uint16_t crc;

    eeprom_read_block(cfg, EE_CONFIG, sizeof *cfg);
    crc = eeprom_read_word((const uint16_t *)((uint8_t *)EE_CONFIG + sizeof *cfg));
    return crc == crc16((const uint8_t *)cfg, sizeof *cfg);
}

static void save_config(const node_config_t *cfg)
{
    /* update: only bytes that differ are written (EEPROM wear, 3.4 ms each) */
    eeprom_update_block(cfg, EE_CONFIG, sizeof *cfg);
    eeprom_update_word((uint16_t *)((uint8_t *)EE_CONFIG + sizeof *cfg),
                       crc16((const uint8_t *)cfg, sizeof *cfg));
}

static uint16_t count_watchdog_reset(uint8_t cause)
{
    uint16_t n = eeprom_read_word(EE_WDT_RESETS);

    if (n == 0xFFFFu)
        n = 0; /* erased */
    if (cause & RESET_WATCHDOG) {
        n++;
        eeprom_update_word(EE_WDT_RESETS, n);
    }
    return n;
}

int main(void)
{
    node_config_t stored;
    node_inputs_t in;
    uint8_t cause = boot_mcusr & (RESET_POWER_ON | RESET_EXTERNAL | RESET_BROWN_OUT | RESET_WATCHDOG);
    uint32_t tips = 0;
    bool stored_ok;

    if (!(cause & (RESET_POWER_ON | RESET_BROWN_OUT)) && kept_tips_check == ~kept_tips)
        tips = kept_tips; /* RAM kept its contents: a watchdog or external reset */

    board_init();
    timer_init();
    stored_ok = load_config(&stored);
    node_init(&node, &uart_transport, stored_ok ? &stored : 0, cause, count_watchdog_reset(cause), tips);
    uart_config(node_baud(&node), (uint8_t)node.cfg.hr[HR_PARITY]);
    wdt_enable(WDTO_500MS);
    set_sleep_mode(SLEEP_MODE_IDLE);
    sei();

    for (;;) {
        wdt_reset();
        board_read_inputs(&in);
        node_step(&node, &in);
        board_set_relay(node_relay(&node));
        kept_tips = node.rain.tips;
        kept_tips_check = ~node.rain.tips;
        if (!uart_tx_busy()) {
            /* the reply that confirmed the change went out at the old settings */
            if (node.serial_dirty) {
                node.serial_dirty = 0;
                uart_config(node_baud(&node), (uint8_t)node.cfg.hr[HR_PARITY]);
            }
            if (node.cfg_dirty) {
                node.cfg_dirty = 0;
                save_config(&node.cfg);
            }
        }
        sleep_mode(); /* any interrupt wakes us; the 1 ms tick bounds the wait */
    }
}
