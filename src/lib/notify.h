/* The systemd notify protocol, without libsystemd: one datagram per
 * message to the socket named by $NOTIFY_SOCKET (a path, or an abstract
 * name when it starts with '@'), as sd_notify(3) does.
 *
 * A service of Type=notify says READY=1 once it can do its job, WATCHDOG=1
 * at least every half of $WATCHDOG_USEC when the unit sets WatchdogSec=,
 * STATUS=... for `systemctl status`, RELOADING=1 / STOPPING=1 around a
 * reload or a stop.  Outside systemd ($NOTIFY_SOCKET unset) every call is
 * a no-op that returns 0.
 */
#ifndef KS_NOTIFY_H
#define KS_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Sends state (newline-separated "KEY=value" lines) to $NOTIFY_SOCKET.
 * Returns 1 when sent, 0 when there is no socket to send to, or a negative
 * errno (the socket name is too long, the send failed). */
int notify__send(const char *state);

/* printf-style notify__send(). */
int notify__sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog period systemd expects pings within ($WATCHDOG_USEC in ns,
 * when $WATCHDOG_PID is unset or this process), or 0 when there is none. */
int64_t notify__watchdog_ns(void);

#endif
