/* Host shim for asm/cpu.h in fuzz_ctl: tests/unit/evtchn's shim (no
 * cli/sti, CR3 and INVLPG recorded), with port I/O (privileged in a host
 * process) reduced to a machine without a second UART: reads float high,
 * writes go nowhere, so control.c finds no doorbell. */
#ifndef FUZZ_SHIM_ASM_CPU_H
#define FUZZ_SHIM_ASM_CPU_H

#define outb hv_outb
#define inb hv_inb
#include "../../../tests/unit/evtchn/shim/asm/cpu.h"
#undef outb
#undef inb

static inline void outb(uint16_t port, uint8_t v) { (void)port; (void)v; }
static inline uint8_t inb(uint16_t port) { (void)port; return 0xff; }

#endif
