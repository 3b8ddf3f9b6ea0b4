/* Replays files (or the files of folders) through LLVMFuzzerTestOneInput(), for
 * the builds without libFuzzer: tests/fuzz/regress and a few seeds run in every
 * `make check`. A crash is the test failing. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        size_t cap = 1 << 16, n = 0;
        uint8_t *buf = malloc(cap);
        while (buf) {
                if (n == cap) {
                        uint8_t *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                                break;
                        }
                        buf = nb;
                        cap *= 2;
                }
                size_t r = fread(buf + n, 1, cap - n, f);
                if (r == 0)
                        break;
                n += r;
        }
        int bad = !buf || ferror(f);
        fclose(f);
        if (bad) {
                free(buf);
                fprintf(stderr, "%s: read failed\n", path);
                return -1;
        }
        /* A copy of exactly n bytes, so that ASan sees reads past the end. */
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) {
                free(buf);
                return -1;
        }
        memcpy(exact, buf, n);
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
        return 0;
}

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay(const char *path, unsigned *count)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*count)++;
                return replay_file(path);
        }
        DIR *d = opendir(path);
        if (!d)
                return -1;
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        int rc = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char **nn = realloc(names, (n + 1) * sizeof(*names));
                if (!nn || !(nn[n] = strdup(de->d_name))) {
                        names = nn ? nn : names;
                        rc = -1;
                        break;
                }
                names = nn;
                n++;
        }
        closedir(d);
        if (names)
                qsort(names, n, sizeof(*names), cmp);
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(path) + strlen(names[i]) + 2;
                char *p = malloc(len);
                if (p) {
                        snprintf(p, len, "%s/%s", path, names[i]);
                        if (replay(p, count) < 0)
                                rc = -1;
                        free(p);
                } else {
                        rc = -1;
                }
                free(names[i]);
        }
        free(names);
        return rc;
}

int main(int argc, char **argv)
{
        unsigned count = 0;
        int rc = 0;
        for (int i = 1; i < argc; i++)
                if (replay(argv[i], &count) < 0)
                        rc = 1;
        printf("%s: %u input(s) replayed\n", argc > 0 ? argv[0] : "replay", count);
        return rc;
}
