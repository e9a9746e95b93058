/* COM1 16550 UART driver: 115200 baud, 8N1, FIFOs on, polled output.
 * Owns the COM1 I/O ports. Callers serialize (the console lock). */
#include "asm/cpu.h"
#include "hv/serial.h"

#define COM1       0x3f8
#define UART_THR   0   /* transmit holding */
#define UART_IER   1
#define UART_FCR   2
#define UART_LCR   3
#define UART_MCR   4
#define UART_LSR   5
#define UART_DLL   0
#define UART_DLM   1
#define LSR_THRE   0x20
#define LCR_DLAB   0x80

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);          /* no interrupts */
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1);             /* 115200 = 115200 / 1 */
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, 0x03);          /* 8N1 */
    outb(COM1 + UART_FCR, 0xc7);          /* FIFO on, cleared, 14-byte level */
    outb(COM1 + UART_MCR, 0x03);          /* DTR, RTS */
}

void serial_putc(char c)
{
    /* Bounded wait: a missing UART must not hang the machine. */
    for (unsigned int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(COM1 + UART_THR, (uint8_t)c);
}
