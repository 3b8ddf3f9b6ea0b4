/* `vigiectl redact`: a redacted copy of one file, without the daemon. */
#pragma once

int vg_cli_redact(const char *config_path, int argc, char **argv);
