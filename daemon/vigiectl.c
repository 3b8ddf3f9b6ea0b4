/* vigiectl: the admin's command line. Its verbs are rows of a table. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl_client.h"
#include "redact_cli.h"
#include "scan_cli.h"

struct verb {
        const char *name;
        const char *usage;
        const char *help;
        int (*run)(const char *config, int argc, char **argv);
};

static const struct verb verbs[] = {
    {"status", "status [--json]", "the daemon: uptime, routes, workers, counters", vg_ctl_status},
    {"list", "list [--route R] [--since DATE|7d] [--json]", "held items", vg_ctl_list},
    {"show", "show ID [--json]", "one item: findings (masked), origin, owner, events", vg_ctl_show},
    {"release", "release ID --reason TEXT [--to FOLDER] [--allow]",
     "put a held item back (--allow: let this content pass from now on)", vg_ctl_release},
    {"delete", "delete ID --reason TEXT", "discard a held item", vg_ctl_delete},
    {"purge", "purge [--older-than 30d]", "remove items older than the retention", vg_ctl_purge},
    {"reload", "reload", "reread the configuration (a broken one is refused)", vg_ctl_reload},
    {"test-alert", "test-alert [--json]",
     "send a test alert through every channel (journal, mail, webhooks) and say which worked",
     vg_ctl_test_alert},
    {"scan", "scan [-c CONFIG] [--json] [--policy NAME] PATH...",
     "scan files and folders once, without the daemon", vg_cli_scan},
    {"redact", "redact [-c CONFIG] [--format text|same] [-o OUT] FILE",
     "write a copy with personal data replaced by placeholders", vg_cli_redact},
};

static void usage(FILE *f)
{
        fputs("Usage: vigiectl [-c CONFIG] VERB [ARGS...]\n\nVerbs:\n", f);
        for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                fprintf(f, "  %-52s %s\n", verbs[i].usage, verbs[i].help);
        fputs("\nOptions:\n"
              "  -c, --config FILE   configuration (default: /etc/vigie/vigie.conf if it\n"
              "                      exists, else the built-in defaults)\n"
              "  -h, --help          this help\n"
              "  --version           the version\n",
              f);
}

int main(int argc, char **argv)
{
        const char *config = NULL;
        int i = 1;
        while (i < argc && argv[i][0] == '-') {
                if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
                    i + 1 < argc) {
                        config = argv[i + 1];
                        i += 2;
                } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        return 0;
                } else if (strcmp(argv[i], "--version") == 0) {
                        puts("vigiectl " VIGIE_VERSION);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (i >= argc) {
                usage(stderr);
                return 2;
        }
        for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
                if (strcmp(verbs[k].name, argv[i]) == 0)
                        return verbs[k].run(config, argc - i, argv + i);
        fprintf(stderr, "vigiectl: unknown verb '%s'\n\n", argv[i]);
        usage(stderr);
        return 2;
}
