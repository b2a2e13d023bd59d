/*
 * Modbus RTU slave: frame reassembly (RTU framing, CRC, addressing) and the
 * function-code dispatcher, in the shape of nanoMODBUS: the platform is reached
 * only through a transport of function pointers, register access only through
 * callbacks that answer ILLEGAL_DATA_ADDRESS outside their tables, and unused
 * function codes compile out (config.h). No malloc, no globals: every state
 * lives in an mb_rtu_t owned by the caller.
 */
#ifndef SHAOBING_MODBUS_RTU_H
#define SHAOBING_MODBUS_RTU_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Exception codes (Modbus Application Protocol V1.1b3 §7). */
typedef enum {
    MB_EX_NONE = 0,
    MB_EX_ILLEGAL_FUNCTION = 1,
    MB_EX_ILLEGAL_DATA_ADDRESS = 2,
    MB_EX_ILLEGAL_DATA_VALUE = 3,
    MB_EX_SERVER_DEVICE_FAILURE = 4,
    MB_EX_SERVER_DEVICE_BUSY = 6
} mb_exception_t;

/*
 * Flags the platform attaches to each received byte, decided at interrupt time
 * from the MCU's own timer, because the main loop may read the byte much later.
 * Modbus over serial line V1.02 §2.5.1.1: a silence of 3.5 characters separates
 * frames; a silence of more than 1.5 characters inside a frame makes it
 * incomplete, and the receiver must discard it.
 */
#define MB_RX_SOF 0x01u     /* >= t3.5 of silence before this byte: a new frame starts */
#define MB_RX_GAP 0x02u     /* t1.5 < silence < t3.5 before this byte */
#define MB_RX_FRAMING 0x04u /* UART framing or parity error on this byte */
#define MB_RX_OVERRUN 0x08u /* UART overrun or receive ring full: bytes were lost */

/* The platform seam. All functions receive arg. */
typedef struct {
    /* Next received byte as (flags << 8) | byte, or -1 when none is waiting.
     * Must return -1 while a reply is still being transmitted. */
    int16_t (*read)(void *arg);
    /* True once the line has been silent for t3.5 since the last byte. */
    bool (*line_idle)(void *arg);
    /* Start sending a reply. buf stays untouched until the platform has sent
     * it (the slave is half duplex: nothing is read meanwhile, see read). */
    void (*write)(const uint8_t *buf, uint8_t len, void *arg);
    /* Free-running millisecond clock, wrapping at 2^32. */
    uint32_t (*now_ms)(void *arg);
    void *arg;
} mb_transport_t;

/*
 * Register tables. Each callback checks the whole range first and returns
 * MB_EX_ILLEGAL_DATA_ADDRESS if any address is outside its table, then checks
 * values (MB_EX_ILLEGAL_DATA_VALUE) before changing anything, so a refused
 * request has no effect. Registers travel big-endian, bits LSB first, exactly
 * as in the PDU, so no intermediate arrays are needed.
 */
typedef struct {
    mb_exception_t (*read_coils)(uint16_t addr, uint16_t qty, uint8_t *bits, void *arg);
    mb_exception_t (*write_coils)(uint16_t addr, uint16_t qty, const uint8_t *bits, void *arg);
    mb_exception_t (*read_holding)(uint16_t addr, uint16_t qty, uint8_t *words, void *arg);
    mb_exception_t (*read_input)(uint16_t addr, uint16_t qty, uint8_t *words, void *arg);
    mb_exception_t (*write_holding)(uint16_t addr, uint16_t qty, const uint8_t *words, void *arg);
    void *arg;
} mb_callbacks_t;

/* Wrapping 16-bit counters; the gateway works with differences. */
typedef struct {
    uint16_t crc_errors;     /* any frame on the bus with a bad CRC */
    uint16_t framing_errors; /* UART framing/parity errors, t1.5 gaps, runt frames */
    uint16_t overrun_errors; /* UART or ring-buffer overruns */
    uint16_t frames_ok;      /* valid requests for this unit, broadcasts included */
    uint16_t exceptions;     /* exception replies sent */
} mb_counters_t;

typedef struct {
    const mb_transport_t *transport;
    const mb_callbacks_t *callbacks;
    uint8_t unit_id;          /* 1..247 */
    uint8_t state;            /* private: MB_STATE_* in modbus_rtu.c */
    uint8_t broken;           /* private: current frame must be discarded */
    uint16_t count;           /* private: bytes in the current frame, may exceed MB_BUF_SIZE */
    uint16_t crc;             /* private: running CRC of the current frame */
    uint32_t last_request_ms; /* time of the last valid request for this unit */
    mb_counters_t counters;
    uint8_t buf[MB_BUF_SIZE]; /* request, then the reply built in place */
} mb_rtu_t;

/* Character timings, microseconds (11 bits per character: start, 8 data,
 * parity or second stop, stop — §2.5.1.1 counts 11 bits for every format). */
typedef struct {
    uint16_t char_us;
    uint16_t t15_us;
    uint16_t t35_us;
} mb_rtu_timing_t;

/* §2.5.1.1: above 19200 baud use fixed t1.5 = 750 us and t3.5 = 1750 us. */
void mb_rtu_timing(uint32_t baud, mb_rtu_timing_t *t);

/* The slave starts by waiting for t3.5 of silence (it may have been powered up
 * in the middle of someone else's frame). */
void mb_rtu_init(mb_rtu_t *mb, const mb_transport_t *transport, const mb_callbacks_t *callbacks,
                 uint8_t unit_id);

/* Consume received bytes and, at the end of a frame addressed to this unit or
 * broadcast, execute it and start the reply. Never blocks. Returns true when a
 * valid request for this unit was executed. */
bool mb_rtu_poll(mb_rtu_t *mb);

/*
 * Execute the request in buf (address, PDU; frame_len counts the bytes
 * received including the CRC and may exceed MB_BUF_SIZE) and build the reply
 * in place. Returns the reply length without CRC, 0 for no reply. For a
 * broadcast (unit 0) writes are executed and reads ignored; the caller never
 * sends anything back. Lives in modbus_pdu.c.
 */
uint8_t mb_pdu_execute(const mb_callbacks_t *cb, uint8_t *buf, uint16_t frame_len, bool broadcast);

#endif
