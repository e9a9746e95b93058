/* log.h - pvd's leveled logging to stderr (see log.c). */
#ifndef PVD_LOG_H
#define PVD_LOG_H

#include <syslog.h>

/* verbose: 1 debug lines too, 0 notices and up, -1 errors only (the rest
 * is formatted but not written: the fuzz targets) */
void log_init(int verbose);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)     log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)    log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
