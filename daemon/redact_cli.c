/* `vigiectl redact`: a redacted copy of one file the admin names. It runs the
 * engine in this process (one file, the admin's own: no pool needed), under the
 * configuration's limits, and writes the copy only once its second scan passes. */
#include "redact_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "i18n.h"
#include "policy.h"
#include "redact.h"
#include "scan.h"

enum {
        EXIT_DONE = 0,
        EXIT_USAGE = 2,
        EXIT_REFUSED = 3, /* not redactable, or unreadable: the original stays held */
        EXIT_STILL = 4,   /* the copy still holds what the policy flags: no copy */
};

static void usage(FILE *f)
{
        fputs("Usage: vigiectl redact [-c CONFIG] [--format text|same] [--policy NAME]\n"
              "                       [--lang fr|en] [-o OUT] FILE\n"
              "Writes a copy of FILE with its personal data replaced by placeholders\n"
              "([NIR-1], [IBAN-1], [PERSONNE-1]...) and says on standard error what was\n"
              "replaced (masked). Default OUT: NAME.expurge.EXT next to FILE (.txt when\n"
              "the copy is text). The copy is scanned again and kept only if the policy\n"
              "no longer flags it.\n"
              "Exit status: 0 copy written, 2 usage or configuration error, 3 not\n"
              "redactable (markings, health data, an unreadable part), 4 the copy still\n"
              "holds what the policy flags (no copy written).\n",
              f);
}

/* NAME.expurge.EXT (or .txt), next to the file. */
static char *default_out(const char *path, bool as_text)
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        const char *dot = strrchr(base, '.');
        size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
        const char *ext = as_text ? ".txt" : dot && dot != base ? dot : "";
        size_t n = stem + strlen(".expurge") + strlen(ext) + 1;
        char *out = malloc(n);
        if (out)
                snprintf(out, n, "%.*s.expurge%s", (int)stem, path, ext);
        return out;
}

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t)(slash - path));
}

static void print_entries(const struct vg_redact_result *res, bool en)
{
        for (size_t i = 0; i < res->nentries; i++) {
                const struct vg_redact_entry *e = &res->entries[i];
                fprintf(stderr, "  %s: %llu %s, %llu %s\n", e->detector,
                        (unsigned long long)e->count, en ? "replaced" : "remplacé(s)",
                        (unsigned long long)e->distinct, en ? "value(s)" : "valeur(s)");
                for (size_t k = 0; k < e->nsamples; k++)
                        fprintf(stderr, "    %s\n", e->samples[k]);
        }
        if (!res->nentries)
                fputs(en ? "  nothing to replace\n" : "  rien à remplacer\n", stderr);
}

int vg_cli_redact(const char *config_path, int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'},
            {"format", required_argument, NULL, 'f'},
            {"policy", required_argument, NULL, 'p'},
            {"lang", required_argument, NULL, 'l'},
            {"output", required_argument, NULL, 'o'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *policy_name = "default", *out_path = NULL, *lang = NULL;
        struct vg_redact_opts ro = {.format = VG_REDACT_SAME};
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "c:f:p:l:o:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'f':
                        if (strcmp(optarg, "text") == 0) {
                                ro.format = VG_REDACT_TEXT;
                        } else if (strcmp(optarg, "same") != 0) {
                                usage(stderr);
                                return EXIT_USAGE;
                        }
                        break;
                case 'p':
                        policy_name = optarg;
                        break;
                case 'l':
                        lang = optarg;
                        break;
                case 'o':
                        out_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                usage(stderr);
                return EXIT_USAGE;
        }
        const char *path = argv[optind];
        char err[1024];
        struct vg_config *cfg = NULL;
        if (vg_config_load(config_path, &cfg, err, sizeof(err)) < 0) {
                fprintf(stderr, "vigiectl: %s\n", err);
                return EXIT_USAGE;
        }
        int status = EXIT_USAGE;
        struct vg_engine *eng = NULL;
        struct vg_redact_result *res = NULL;
        char *tmp = NULL, *dir = NULL, *out = NULL;
        int in = -1, fd = -1;
        enum vg_lang l = vg_lang_from_name(lang ? lang : cfg->language);
        bool en = l == VG_LANG_EN;
        ro.english = en;
        const struct vg_policy *pol = vg_config_policy(cfg, policy_name);
        if (!pol) {
                fprintf(stderr, "vigiectl: %s: no policy named '%s'\n", cfg->path, policy_name);
                goto done;
        }
        struct vg_engine_config ec = {
            .limits = cfg->limits, .tmpdir = cfg->workers_tmpdir, .custom = cfg->custom};
        ec.hold_images = cfg->images && strcmp(cfg->images, "hold") == 0;
        int e = vg_engine_new(&ec, &eng);
        if (e < 0) {
                fprintf(stderr, "vigiectl: cannot load the scan engine: %s\n", strerror(-e));
                goto done;
        }
        in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
                fprintf(stderr, "vigiectl: %s: %s\n", path,
                        in < 0 ? strerror(errno) : "not a regular file");
                goto done;
        }
        /* the copy is written beside its destination, then renamed in place */
        char *guess = out_path ? strdup(out_path) : default_out(path, ro.format == VG_REDACT_TEXT);
        dir = guess ? dir_of(guess) : NULL;
        free(guess);
        size_t tn = dir ? strlen(dir) + 32 : 0;
        if (!dir || !(tmp = malloc(tn))) {
                fputs("vigiectl: out of memory\n", stderr);
                goto done;
        }
        snprintf(tmp, tn, "%s/.vigie-redact.XXXXXX", dir);
        if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
                fprintf(stderr, "vigiectl: %s: %s\n", dir, strerror(errno));
                free(tmp);
                tmp = NULL;
                goto done;
        }
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if ((e = vg_redact_fd(eng, pol, in, base, &ro, fd, &res)) < 0) {
                fprintf(stderr, "vigiectl: %s: redaction failed: %s\n", path, strerror(-e));
                goto done;
        }
        switch (res->status) {
        case VG_REDACT_UNREADABLE:
                fprintf(stderr,
                        en ? "vigiectl: %s: not redacted: part of it cannot be read (%s)\n"
                           : "vigiectl: %s : non expurgé : une partie est illisible (%s)\n",
                        path, res->why);
                status = EXIT_REFUSED;
                goto done;
        case VG_REDACT_NOT_REDACTABLE:
                fprintf(stderr,
                        en ? "vigiectl: %s: not redacted: flagged for %s, which cannot be "
                             "replaced (what the document is about, not a value in it); it "
                             "stays held\n"
                           : "vigiectl: %s : non expurgé : retenu pour %s, qui ne se remplace "
                             "pas (le sujet du document, pas une valeur) ; il reste retenu\n",
                        path, res->why);
                status = EXIT_REFUSED;
                goto done;
        case VG_REDACT_STILL_FLAGGED:
                fprintf(stderr,
                        en ? "vigiectl: %s: no copy: the redacted copy still holds %s\n"
                           : "vigiectl: %s : pas de copie : la copie expurgée contient encore "
                             "%s\n",
                        path, res->why);
                print_entries(res, en);
                status = EXIT_STILL;
                goto done;
        case VG_REDACT_DONE:
                break;
        }
        out = out_path ? strdup(out_path) : default_out(path, res->as_text);
        mode_t um = umask(0);
        umask(um);
        if (!out || fchmod(fd, 0666 & ~um) < 0 || rename(tmp, out) < 0) {
                fprintf(stderr, "vigiectl: %s: %s\n", out ? out : path, strerror(errno));
                goto done;
        }
        free(tmp);
        tmp = NULL;
        fprintf(stderr, en ? "vigiectl: %s -> %s%s\n" : "vigiectl: %s -> %s%s\n", path, out,
                res->as_text ? (en ? " (text)" : " (texte)") : "");
        print_entries(res, en);
        status = EXIT_DONE;
done:
        if (tmp)
                unlink(tmp);
        if (fd >= 0)
                close(fd);
        if (in >= 0)
                close(in);
        free(tmp);
        free(dir);
        free(out);
        vg_redact_result_free(res);
        vg_engine_free(eng);
        vg_config_free(cfg);
        return status;
}
