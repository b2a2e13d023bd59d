/*
 * Compile-time configuration of the Shaobing field node.
 *
 * Everything here is a build decision, not a runtime setting: ceilings that the
 * gateway must never be able to raise, defaults used when the EEPROM holds no
 * valid configuration, and which Modbus function codes are compiled in.
 */
#ifndef SHAOBING_CONFIG_H
#define SHAOBING_CONFIG_H

/* Reported in input register 0 as (major << 8) | minor. */
#define FW_VERSION_MAJOR 1u
#define FW_VERSION_MINOR 0u

/* --- Function codes (nanoMODBUS style: unused ones compile out) ------------ */
#ifndef MB_ENABLE_FC01
#define MB_ENABLE_FC01 1 /* read coils: siren request */
#endif
#ifndef MB_ENABLE_FC03
#define MB_ENABLE_FC03 1 /* read holding registers: configuration */
#endif
#ifndef MB_ENABLE_FC04
#define MB_ENABLE_FC04 1 /* read input registers: measurements, health */
#endif
#ifndef MB_ENABLE_FC05
#define MB_ENABLE_FC05 1 /* write single coil: siren on/off */
#endif
#ifndef MB_ENABLE_FC06
#define MB_ENABLE_FC06 1 /* write single register */
#endif
#ifndef MB_ENABLE_FC15
#define MB_ENABLE_FC15 1 /* write multiple coils */
#endif
#ifndef MB_ENABLE_FC16
#define MB_ENABLE_FC16 1 /* write multiple registers */
#endif

/*
 * RTU frame buffer. It only has to hold the largest request or reply for *this*
 * node (the largest register block is 10 registers: 5 + 2 * 10 bytes); longer
 * frames on the shared bus are still CRC-checked byte by byte and, if they are
 * addressed to us, answered with ILLEGAL_DATA_ADDRESS (the range cannot exist).
 */
#define MB_BUF_SIZE 64u

/* --- Roles: bit mask in holding register 3 -------------------------------- */
#define ROLE_RAIN 0x01u
#define ROLE_LEVEL 0x02u
#define ROLE_SMOKE 0x04u
#define ROLE_SIREN 0x08u
#define ROLE_ALL 0x0Fu
#ifndef NODE_DEFAULT_ROLES
#define NODE_DEFAULT_ROLES ROLE_ALL
#endif

/* --- Serial defaults ------------------------------------------------------ */
#define NODE_DEFAULT_UNIT_ID 1u
#define NODE_DEFAULT_BAUD_DIV100 96u /* 9600 baud */
#define NODE_DEFAULT_PARITY 0u       /* 0 none, 1 even, 2 odd */

/* --- Rain gauge ------------------------------------------------------------ */
/* A tip closes the reed switch for ~50-150 ms; contact bounce lasts < 5 ms. */
#define RAIN_DEBOUNCE_MS 20u
#define RAIN_DEFAULT_TIP_UM 200u /* 0.2 mm per tip */

/* --- Water level (4-20 mA loop across a shunt into ADC0) ------------------ */
#define LEVEL_SHUNT_OHM 150u   /* 20 mA -> 3.00 V, 25 mA -> 3.75 V: headroom under AVcc */
#define LEVEL_ADC_REF_MV 5000u /* AVcc reference */
#define LEVEL_OPEN_LOOP_UA 3800u /* below: broken loop (NAMUR NE 43 says < 3.6 mA is a fault) */
#define LEVEL_OVER_RANGE_UA 20500u
#define LEVEL_DEFAULT_SPAN_MM 5000u /* mm between 4 mA and 20 mA */
#define LEVEL_DEFAULT_OFFSET_MM 0u  /* mm at 4 mA */

/* --- Smoke detector contacts --------------------------------------------- */
#define SMOKE_DEBOUNCE_MS 200u

/* --- Siren relay ----------------------------------------------------------- */
/*
 * Hard ceiling on one continuous siren run. Holding register siren_max_on_s may
 * lower it, never raise it: writes above the ceiling are refused with
 * ILLEGAL_DATA_VALUE and siren.c clamps again at run time.
 */
#define SIREN_MAX_ON_CEILING_S 180u
/* After a run was cut by the ceiling, ON requests are refused (exception 6,
 * SERVER DEVICE BUSY) for this long, so a stuck gateway cannot just re-arm it. */
#define SIREN_REST_S 30u
#define SIREN_DEFAULT_SILENCE_S 60u
#define SIREN_SILENCE_MAX_S 3600u

#endif
