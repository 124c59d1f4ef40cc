/* Logging to stderr for commands and the collector runtime.
 *
 * Messages are single lines prefixed with "ksight: ".  Warnings and errors are
 * also kept in a small in-memory ring so the HTTP diagnostics endpoint can
 * show what went wrong recently without re-reading any file.
 */
#ifndef KS_LOG_H
#define KS_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

struct log_entry {
	int64_t time_ns;          /* wall clock, ns since the epoch */
	enum log_level level;
	char text[240];
};

/* Copies up to max of the most recent warnings/errors, oldest first, into
 * out and returns how many were copied.  Thread-safe. */
size_t log_recent(struct log_entry *out, size_t max);

#endif
