/*
 * log.h: one line per event on stderr, with time, level and thread-safe
 * writes (each line is written with one stdio call, which locks the stream).
 * The level is process-wide and set once at startup, before threads exist.
 */
#ifndef CMPCA_UTIL_LOG_H
#define CMPCA_UTIL_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* log_set_level sets the most verbose level printed (default LOG_LVL_INFO).
 * Call before starting threads. */
void log_set_level(enum log_level lvl);

/* log_level_from_name parses "error|warn|info|debug"; -1 if unknown. */
int log_level_from_name(const char *name);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
