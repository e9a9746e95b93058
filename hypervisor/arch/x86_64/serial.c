/* 16550 UART driver, the hypervisor's only one: 115200 baud, 8N1, FIFOs
 * on (1-byte receive trigger), polled output with a bounded wait.
 * COM1 is the console's output (serial_*, common/console.c); COM2 is the
 * control interface's doorbell (uart_*, common/control.c), whose bytes
 * carry no data. Owns the I/O ports of the UARTs it is given; callers
 * serialize per UART (the console lock, ctl_lock / interrupt context). */
#include "asm/cpu.h"
#include "hv/serial.h"

#define UART_RBR   0   /* receive buffer (read) */
#define UART_THR   0   /* transmit holding (write) */
#define UART_IER   1
#define UART_IIR   2   /* interrupt identification (read) */
#define UART_FCR   2   /* FIFO control (write) */
#define UART_LCR   3
#define UART_MCR   4
#define UART_LSR   5
#define UART_SCR   7
#define UART_DLL   0
#define UART_DLM   1
#define LSR_DR     0x01
#define LSR_THRE   0x20
#define LCR_DLAB   0x80
#define MCR_DTR_RTS 0x03
#define MCR_OUT2   0x08   /* gates the UART's interrupt line on PCs */
#define IER_RDA    0x01   /* interrupt on received data */

bool uart_present(uint16_t base)
{
    outb(base + UART_SCR, 0xa5);
    if (inb(base + UART_SCR) != 0xa5)
        return false;
    outb(base + UART_SCR, 0x5a);
    return inb(base + UART_SCR) == 0x5a;
}

void uart_init(uint16_t base, bool irq_line)
{
    outb(base + UART_IER, 0x00);          /* no interrupts yet */
    outb(base + UART_LCR, LCR_DLAB);
    outb(base + UART_DLL, 1);             /* 115200 = 115200 / 1 */
    outb(base + UART_DLM, 0);
    outb(base + UART_LCR, 0x03);          /* 8N1 */
    outb(base + UART_FCR, 0x07);          /* FIFOs on and cleared */
    outb(base + UART_MCR, MCR_DTR_RTS | (irq_line ? MCR_OUT2 : 0));
}

void uart_enable_rx_interrupt(uint16_t base)
{
    outb(base + UART_IER, IER_RDA);
}

void uart_putc(uint16_t base, uint8_t c)
{
    /* Bounded wait: a missing or stuck UART must not hang the machine. */
    for (unsigned int i = 0; i < 100000 && !(inb(base + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(base + UART_THR, c);
}

unsigned int uart_drain_rx(uint16_t base, unsigned int max)
{
    unsigned int n = 0;
    while (n < max && (inb(base + UART_LSR) & LSR_DR)) {
        inb(base + UART_RBR);
        n++;
    }
    return n;
}

void uart_ack_interrupt(uint16_t base)
{
    (void)inb(base + UART_IIR);
}

void serial_init(void)
{
    uart_init(COM1, false);
}

void serial_putc(char c)
{
    uart_putc(COM1, (uint8_t)c);
}
