#include "fake_bus.h"

#include <string.h>

#include "crc16.h"

static int16_t fb_read(void *arg)
{
    fake_bus_t *f = (fake_bus_t *)arg;

    if (f->rx_head == f->rx_tail)
        return -1;
    return (int16_t)f->rx[f->rx_tail++];
}

static bool fb_line_idle(void *arg)
{
    fake_bus_t *f = (fake_bus_t *)arg;

    return f->rx_head == f->rx_tail && f->silent;
}

static void fb_write(const uint8_t *buf, uint8_t len, void *arg)
{
    fake_bus_t *f = (fake_bus_t *)arg;

    memcpy(f->tx, buf, len);
    f->tx_len = len;
    f->tx_count++;
}

static uint32_t fb_now_ms(void *arg)
{
    fake_bus_t *f = (fake_bus_t *)arg;

    f->now_ms += f->ms_per_clock_read;
    return f->now_ms;
}

void fake_bus_init(fake_bus_t *f)
{
    memset(f, 0, sizeof(*f));
    f->transport.read = fb_read;
    f->transport.line_idle = fb_line_idle;
    f->transport.write = fb_write;
    f->transport.now_ms = fb_now_ms;
    f->transport.arg = f;
    f->silent = true;
}

void fake_bus_rx(fake_bus_t *f, uint8_t byte, uint8_t flags)
{
    if (f->rx_head == f->rx_tail) {
        f->rx_head = 0;
        f->rx_tail = 0;
    }
    if (f->rx_head < FAKE_BUS_RX_MAX)
        f->rx[f->rx_head++] = (uint16_t)(((uint16_t)flags << 8) | byte);
    f->silent = false;
}

void fake_bus_frame(fake_bus_t *f, const uint8_t *frame, uint16_t len)
{
    uint16_t i, crc = crc16(frame, len);

    for (i = 0; i < len; i++)
        fake_bus_rx(f, frame[i], i == 0 ? MB_RX_SOF : 0u);
    fake_bus_rx(f, (uint8_t)(crc & 0xFFu), 0);
    fake_bus_rx(f, (uint8_t)(crc >> 8), 0);
    f->silent = true;
}

void fake_bus_clear_tx(fake_bus_t *f)
{
    f->tx_len = 0;
}
