/*
 * A pseudo-terminal wired to a simulated AVR UART, serviced from the same
 * thread that runs the simulation. simavr's own uart_pty part raises IRQs into
 * the core from a second thread and always claims /tmp/simavr-uart0; this one
 * is single-threaded and puts its link wherever it is told.
 */
#ifndef SHAOBING_PTY_BRIDGE_H
#define SHAOBING_PTY_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "sim_avr.h"

typedef struct {
    avr_t *avr;
    avr_irq_t *uart_in; /* bytes into the AVR */
    int master, slave;  /* slave stays open so the master never sees EIO */
    char slave_name[128];
    char link[256];
    int xon;                 /* the UART's receive FIFO has room */
    uint8_t in[4096];        /* pty -> AVR, waiting for room */
    size_t in_len, in_pos;
    uint8_t out[4096];       /* AVR -> pty, waiting for write() */
    size_t out_len;
    unsigned long bytes_in, bytes_out;
    int trace; /* log every byte to stderr with the simulated time */
} pty_bridge_t;

/* Create the pty, connect it to UART uart ('0'), symlink link to it. */
int pty_bridge_open(pty_bridge_t *b, avr_t *avr, char uart, const char *link);

/* Move bytes both ways; never blocks. Returns -1 on a pty error. */
int pty_bridge_poll(pty_bridge_t *b);

void pty_bridge_close(pty_bridge_t *b);

#endif
