/* `vigiectl scan`: the one-shot scan of files and folders. */
#pragma once

int vg_cli_scan(const char *config_path, int argc, char **argv);
