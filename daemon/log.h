/* Logging: one line per event, `key=value` fields, untrusted names escaped and
 * identifiers masked before they get here. Under systemd the line carries a
 * <N> priority prefix that journald understands. */
#pragma once
#include <syslog.h>

void vg_log_init(const char *ident);
__attribute__((format(printf, 2, 3))) void vg_log(int prio, const char *fmt, ...);
