/* vigiectl's verbs that talk to vigied over the control socket. */
#pragma once

int vg_ctl_status(const char *config, int argc, char **argv);
int vg_ctl_list(const char *config, int argc, char **argv);
int vg_ctl_show(const char *config, int argc, char **argv);
int vg_ctl_release(const char *config, int argc, char **argv);
int vg_ctl_delete(const char *config, int argc, char **argv);
int vg_ctl_purge(const char *config, int argc, char **argv);
int vg_ctl_reload(const char *config, int argc, char **argv);
/* `vigiectl test-alert`: a test alert through every channel; exit 1 if one failed. */
int vg_ctl_test_alert(const char *config, int argc, char **argv);
/* Parses "2026-11-01", "2026-11-01 14:30", "7d", "12h", "30m": seconds since the
 * epoch for dates, a duration in seconds for the others (is_duration set). */
int vg_parse_when(const char *s, long long *ret, int *is_duration);
