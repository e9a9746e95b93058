/* The hypervisor console: serial output with log levels (common/console.c).
 * Every printk line starts with a timestamp once the clock is calibrated.
 * The boot option loglevel=err|warn|info|debug (or 0-3) selects what is
 * printed; errors are always printed. */
#ifndef HV_PRINTK_H
#define HV_PRINTK_H

#include <stdarg.h>
#include "hv/types.h"

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void console_init(void);
void console_set_level(enum log_level lvl);
bool console_parse_level(const char *s, enum log_level *out);
/* Print without level filtering or prefixes (fault dumps, guest consoles). */
void console_write(const char *s, size_t n);
/* Break the console lock: used by the fatal path, which may interrupt a
 * printk on this CPU. */
void console_force_unlock(void);

void vprintk(enum log_level lvl, const char *fmt, va_list ap);
void printk(enum log_level lvl, const char *fmt, ...) __printf(2, 3);

#define pr_err(...)   printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

/* Stop the machine after an internal invariant broke. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;
#define BUG_ON(c) do { if (unlikely(c)) panic("BUG at %s:%d: %s", __FILE__, __LINE__, #c); } while (0)
/* Checked only in the debug build (make HV_DEBUG=1: build/hypervisor-debug/),
 * which also poisons every freed frame (mm/frame.c). */
#ifdef HV_DEBUG
#define ASSERT(c) do { if (unlikely(!(c))) panic("assertion failed at %s:%d: %s", \
                                                  __FILE__, __LINE__, #c); } while (0)
#else
#define ASSERT(c) do { (void)sizeof(c); } while (0)
#endif

#endif
