/* 16550 UART on COM1 (arch/x86_64/serial.c): the console's output device. */
#ifndef HV_SERIAL_H
#define HV_SERIAL_H

#include "hv/types.h"

void serial_init(void);
void serial_putc(char c);

#endif
