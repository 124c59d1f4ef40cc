/* Logging: stderr lines plus a ring of recent warnings (see log.h). */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RECENT_MAX 64

static enum log_level current_level = LOG_INFO;
static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_entry recent[RECENT_MAX];
static size_t recent_next, recent_count;

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: ", "trace: " };
	char line[sizeof(recent[0].text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (level <= LOG_WARN) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		pthread_mutex_lock(&recent_lock);
		recent[recent_next].time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		recent[recent_next].level = level;
		memcpy(recent[recent_next].text, line, sizeof(line));
		recent_next = (recent_next + 1) % RECENT_MAX;
		if (recent_count < RECENT_MAX)
			recent_count++;
		pthread_mutex_unlock(&recent_lock);
	}
	if (level <= current_level)
		fprintf(stderr, "ksight: %s%s\n", prefix[level], line);
}

size_t log_recent(struct log_entry *out, size_t max)
{
	size_t n, first, i;

	pthread_mutex_lock(&recent_lock);
	n = recent_count < max ? recent_count : max;
	first = (recent_next + RECENT_MAX - n) % RECENT_MAX;
	for (i = 0; i < n; i++)
		out[i] = recent[(first + i) % RECENT_MAX];
	pthread_mutex_unlock(&recent_lock);
	return n;
}
