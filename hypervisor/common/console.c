/* The hypervisor console.
 *
 * Owns: the console lock, the log level, the line buffer of printk.
 * Output goes to the COM1 serial port, one complete line at a time under
 * console_lock, so lines from different CPUs never interleave.
 * Lock order: console_lock is a leaf lock (taken with interrupts off). */
#include "hv/control.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/serial.h"
#include "hv/shutdown.h"
#include "hv/spinlock.h"
#include "hv/time.h"

static spinlock_t console_lock = SPINLOCK_INIT;
static enum log_level console_level = LOG_INFO;

static const char *const level_names[] = { "err", "warn", "info", "debug" };

void console_init(void)
{
    serial_init();
}

void console_set_level(enum log_level lvl)
{
    console_level = lvl;
}

bool console_parse_level(const char *s, enum log_level *out)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (!strcmp(s, level_names[i]) || (s[0] == (char)('0' + i) && !s[1])) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

static void write_locked(const char *s, size_t n)
{
    control_console_append(s, n);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}

void console_write(const char *s, size_t n)
{
    uint64_t f = spin_lock_irqsave(&console_lock);
    write_locked(s, n);
    spin_unlock_irqrestore(&console_lock, f);
}

void console_force_unlock(void)
{
    console_lock.owner = console_lock.next;
}

void vprintk(enum log_level lvl, const char *fmt, va_list ap)
{
    char line[512];
    int n = 0;

    if (lvl > console_level)
        return;
    if (time_ready()) {
        uint64_t ns = now_ns();
        n = snprintf(line, sizeof(line), "[%5lu.%06lu] ",
                     ns / 1000000000UL, (ns / 1000UL) % 1000000UL);
    }
    if (lvl == LOG_ERR || lvl == LOG_WARN)
        n += snprintf(line + n, sizeof(line) - n, "%s: ", level_names[lvl]);
    int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    if (len == 0 || line[len - 1] != '\n')
        line[len++] = '\n';

    console_write(line, len);
}

void printk(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(lvl, fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    char msg[256];

    local_irq_disable();
    console_force_unlock();
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk(LOG_ERR, "*** PANIC: %s", msg);
    machine_exit(false);
}
