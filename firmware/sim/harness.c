/*
 * node-sim: runs build/node.elf unmodified in simavr (ATmega328P, 16 MHz) with
 * USART0 on a pseudo-terminal, so a real Modbus master can talk to it.
 *
 *   node-sim [-f node.elf] [-p /tmp/simavr-uart0] [-a adc_mv] [-c] [-t seconds]
 *
 *   -p  where to put the pty symlink (default /tmp/simavr-uart0)
 *   -a  millivolts on ADC0, the 4-20 mA shunt (default 1800 = 12 mA on 150 ohm)
 *   -c  read commands from stdin and exit when stdin closes (for test runners):
 *         rain N       N tips on the reed switch (100 ms closed, 200 ms open)
 *         adc MV       millivolts on ADC0
 *         alarm 0|1    smoke alarm contact
 *         fault 0|1    smoke fault loop open
 *         quit
 *   -t  stop after this many seconds of wall time (a safety net)
 *   -v  log every UART byte to stderr with the simulated time
 *
 * stdout, one event per line: "ready <link> <pty>", "relay <0|1> <sim ms>",
 * "exit <reason> ..." (with the stack high-water mark). Simulated time follows wall time while the firmware sleeps
 * (simavr sleeps the host thread), and lags it when the host is loaded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_ioport.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_time.h"

#include "pty_bridge.h"

static volatile sig_atomic_t stop_signal;
static avr_t *avr;
static avr_irq_t *adc0;
static int rain_pulses_left, rain_closed;
static uint8_t portd_driven, portd_level; /* what the outside world holds on port D */

#define PIN_RAIN 3
#define PIN_ALARM 4
#define PIN_FAULT 5

/* Hold an input pin at a level. Raising the pin IRQ alone is a one-shot:
 * simavr re-derives input pins from the pull-ups on every PORTD write (the
 * firmware writes PORTD for RS-485 DE), so the level is also registered as
 * an "external" drive, which takes precedence over the internal pull-up. */
static void drive_pin(int bit, int level)
{
    avr_ioport_external_t ext;

    portd_driven |= (uint8_t)(1u << bit);
    portd_level = (uint8_t)((portd_level & ~(1u << bit)) | ((level ? 1u : 0u) << bit));
    ext.name = 'D';
    ext.mask = portd_driven;
    ext.value = portd_level;
    avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('D'), &ext);
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), bit), level ? 1 : 0);
}

#define SRAM_START 0x100u /* ATmega328P: 2 KB at 0x100..0x8FF */
#define SRAM_END 0x8FFu
#define SRAM_FILL 0xA5u

/* Bytes of stack ever used: the stack grows down from SRAM_END into SRAM
 * that was filled with SRAM_FILL before reset; the longest untouched run
 * lies between the static data and the deepest stack frame. */
static unsigned stack_high_water(void)
{
    unsigned a, run = 0, best = 0, best_end = SRAM_START;

    for (a = SRAM_START; a <= SRAM_END; a++) {
        run = avr->data[a] == SRAM_FILL ? run + 1 : 0;
        if (run > best) {
            best = run;
            best_end = a;
        }
    }
    return SRAM_END - best_end;
}

static void on_signal(int sig)
{
    stop_signal = sig;
}

static unsigned long sim_ms(void)
{
    return (unsigned long)(avr->cycle / (avr->frequency / 1000u));
}

static void on_relay(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    printf("relay %u %lu\n", value ? 1u : 0u, sim_ms());
    fflush(stdout);
}

/* Reed switch to ground with pull-up: closed = low. */
static avr_cycle_count_t rain_step(struct avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)param;
    if (!rain_closed && rain_pulses_left == 0)
        return 0;
    rain_closed = !rain_closed;
    if (rain_closed)
        rain_pulses_left--;
    drive_pin(PIN_RAIN, !rain_closed);
    return when + avr_usec_to_cycles(a, rain_closed ? 100000u : 200000u);
}

static void command(const char *line)
{
    int v;

    if (sscanf(line, "rain %d", &v) == 1 && v > 0) {
        int idle = rain_pulses_left == 0 && !rain_closed;

        rain_pulses_left += v;
        if (idle)
            avr_cycle_timer_register_usec(avr, 1000, rain_step, NULL);
    } else if (sscanf(line, "adc %d", &v) == 1) {
        avr_raise_irq(adc0, (uint32_t)v);
    } else if (sscanf(line, "alarm %d", &v) == 1) {
        drive_pin(PIN_ALARM, !v); /* contact closes to ground */
    } else if (sscanf(line, "fault %d", &v) == 1) {
        drive_pin(PIN_FAULT, v); /* NC loop: open reads high */
    } else if (strncmp(line, "quit", 4) == 0) {
        stop_signal = -1;
    } else {
        fprintf(stderr, "node-sim: unknown command: %s", line);
    }
}

/* Non-blocking line reader on stdin; returns -1 at EOF. */
static int poll_stdin(void)
{
    static char buf[256];
    static size_t len;
    fd_set fds;
    struct timeval tv = {0, 0};
    ssize_t n;
    char *nl;

    FD_ZERO(&fds);
    FD_SET(0, &fds);
    if (select(1, &fds, NULL, NULL, &tv) <= 0)
        return 0;
    n = read(0, buf + len, sizeof buf - 1 - len);
    if (n <= 0)
        return -1;
    len += (size_t)n;
    buf[len] = 0;
    while ((nl = strchr(buf, '\n')) != NULL) {
        *nl = 0;
        command(buf);
        len -= (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len + 1);
    }
    if (len == sizeof buf - 1)
        len = 0; /* over-long line: drop it */
    return 0;
}

int main(int argc, char **argv)
{
    const char *elf = "build/node.elf", *link = "/tmp/simavr-uart0", *reason = "signal";
    int opt, commands = 0, verbose = 0, adc_mv = 1800;
    double limit_s = 0;
    elf_firmware_t fw;
    pty_bridge_t bridge;
    time_t start = time(NULL);
    avr_cycle_count_t last_poll = 0;
    unsigned iter = 0;

    while ((opt = getopt(argc, argv, "f:p:a:ct:v")) != -1) {
        switch (opt) {
        case 'f': elf = optarg; break;
        case 'p': link = optarg; break;
        case 'a': adc_mv = atoi(optarg); break;
        case 'c': commands = 1; break;
        case 't': limit_s = atof(optarg); break;
        case 'v': verbose = 1; break;
        default:
            fprintf(stderr, "usage: %s [-f elf] [-p pty-link] [-a adc_mv] [-c] [-t seconds] [-v]\n", argv[0]);
            return 2;
        }
    }
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(elf, &fw) != 0) {
        fprintf(stderr, "node-sim: cannot read %s\n", elf);
        return 1;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) {
        fprintf(stderr, "node-sim: no atmega328p in simavr\n");
        return 1;
    }
    avr_init(avr);
    avr->frequency = 16000000u;
    avr->vcc = avr->avcc = avr->aref = 5000u;
    avr_load_firmware(avr, &fw);
    avr->frequency = 16000000u; /* the ELF carries no .mmcu section */
    /* power-on RAM is not zero: fill it, which also measures the stack */
    memset(avr->data + SRAM_START, SRAM_FILL, SRAM_END - SRAM_START + 1u);

    if (pty_bridge_open(&bridge, avr, '0', link) != 0)
        return 1;
    bridge.trace = verbose;
    adc0 = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0);
    /* a healthy, quiet node: switch open, no alarm, fault loop closed */
    drive_pin(PIN_RAIN, 1);
    drive_pin(PIN_ALARM, 1);
    drive_pin(PIN_FAULT, 0);
    avr_raise_irq(adc0, (uint32_t)adc_mv);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 0), on_relay, NULL);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
    printf("ready %s %s\n", link, bridge.slave_name);
    fflush(stdout);

    while (!stop_signal) {
        int state = avr_run(avr);

        if (state == cpu_Done || state == cpu_Crashed) {
            reason = state == cpu_Done ? "done" : "crashed";
            break;
        }
        /* Service the pty about every simulated millisecond, and at least
         * every 256 steps when the firmware sleeps through long stretches. */
        if (avr->cycle - last_poll < 16000u && ++iter < 256u)
            continue;
        iter = 0;
        last_poll = avr->cycle;
        if (pty_bridge_poll(&bridge) != 0) {
            reason = "pty error";
            break;
        }
        if (commands && poll_stdin() < 0) {
            reason = "stdin closed";
            break;
        }
        if (limit_s > 0 && difftime(time(NULL), start) >= limit_s) {
            reason = "time limit";
            break;
        }
    }
    if (stop_signal == -1)
        reason = "quit";
    printf("exit %s %lu bytes in, %lu bytes out, stack %u bytes\n", reason, bridge.bytes_in,
           bridge.bytes_out, stack_high_water());
    fflush(stdout);
    pty_bridge_close(&bridge);
    return 0;
}
