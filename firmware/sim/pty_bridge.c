#include "pty_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "avr_uart.h"

static void trace(const pty_bridge_t *b, const char *dir, uint8_t byte)
{
    if (b->trace)
        fprintf(stderr, "%s %02x %.3f ms\n", dir, byte, b->avr->cycle * 1000.0 / b->avr->frequency);
}

/* Hand queued bytes to the UART while its FIFO has room. */
static void feed(pty_bridge_t *b)
{
    while (b->xon && b->in_pos < b->in_len) {
        trace(b, "in ", b->in[b->in_pos]);
        avr_raise_irq(b->uart_in, b->in[b->in_pos++]);
        b->bytes_in++;
    }
    if (b->in_pos == b->in_len)
        b->in_pos = b->in_len = 0;
}

static void on_output(struct avr_irq_t *irq, uint32_t value, void *param)
{
    pty_bridge_t *b = param;

    (void)irq;
    trace(b, "out", (uint8_t)value);
    if (b->out_len < sizeof b->out)
        b->out[b->out_len++] = (uint8_t)value;
    b->bytes_out++;
}

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
    pty_bridge_t *b = param;

    (void)irq;
    if (value) {
        b->xon = 1;
        feed(b);
    }
}

static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
    pty_bridge_t *b = param;

    (void)irq;
    if (value)
        b->xon = 0;
}

int pty_bridge_open(pty_bridge_t *b, avr_t *avr, char uart, const char *link)
{
    struct termios tio;
    avr_irq_t *out, *xon, *xoff;
    uint32_t flags = 0;

    memset(b, 0, sizeof *b);
    b->avr = avr;
    if (openpty(&b->master, &b->slave, b->slave_name, NULL, NULL) < 0) {
        perror("openpty");
        return -1;
    }
    tcgetattr(b->slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(b->slave, TCSANOW, &tio);
    fcntl(b->master, F_SETFL, fcntl(b->master, F_GETFL) | O_NONBLOCK);

    /* binary data: stop simavr echoing UART lines to the console */
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS(uart), &flags);
    flags &= ~AVR_UART_FLAG_STDIO;
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS(uart), &flags);

    b->uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_INPUT);
    out = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUTPUT);
    xon = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUT_XON);
    xoff = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUT_XOFF);
    if (!b->uart_in || !out || !xon || !xoff) {
        fprintf(stderr, "pty_bridge: no UART%c\n", uart);
        return -1;
    }
    avr_irq_register_notify(out, on_output, b);
    avr_irq_register_notify(xon, on_xon, b);
    avr_irq_register_notify(xoff, on_xoff, b);

    snprintf(b->link, sizeof b->link, "%s", link);
    unlink(b->link);
    if (symlink(b->slave_name, b->link) != 0) {
        fprintf(stderr, "pty_bridge: symlink %s: %s\n", b->link, strerror(errno));
        return -1;
    }
    return 0;
}

int pty_bridge_poll(pty_bridge_t *b)
{
    if (b->in_len < sizeof b->in) {
        ssize_t n = read(b->master, b->in + b->in_len, sizeof b->in - b->in_len);

        if (n > 0)
            b->in_len += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EIO)
            return -1;
    }
    feed(b);
    if (b->out_len > 0) {
        ssize_t n = write(b->master, b->out, b->out_len);

        if (n > 0) {
            memmove(b->out, b->out + n, b->out_len - (size_t)n);
            b->out_len -= (size_t)n;
        }
    }
    return 0;
}

void pty_bridge_close(pty_bridge_t *b)
{
    unlink(b->link);
    if (b->master > 0)
        close(b->master);
    if (b->slave > 0)
        close(b->slave);
}
