/* 16550 UARTs (arch/x86_64/serial.c): COM1 is the console's output
 * device, COM2 the control interface's doorbell. */
#ifndef HV_SERIAL_H
#define HV_SERIAL_H

#include "hv/types.h"

#define COM1 0x3f8
#define COM2 0x2f8

/* The console on COM1. */
void serial_init(void);
void serial_putc(char c);

/* Any UART at base. */
bool uart_present(uint16_t base);
/* 115200 8N1, FIFOs on, no interrupts; irq_line: raise its IRQ line (OUT2). */
void uart_init(uint16_t base, bool irq_line);
void uart_enable_rx_interrupt(uint16_t base);
void uart_putc(uint16_t base, uint8_t c);
/* Read and drop up to max received bytes; how many there were. */
unsigned int uart_drain_rx(uint16_t base, unsigned int max);
/* Read the interrupt identification register (acknowledges it). */
void uart_ack_interrupt(uint16_t base);

#endif
