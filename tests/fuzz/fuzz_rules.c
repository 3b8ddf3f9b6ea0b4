/* A rules.d file (libconfig): custom rules, dictionaries, markings, checked and
 * compiled into the rule engine as the daemon does at load and reload. The file
 * lies in a private folder beside a dictionary (clients.txt) it may name. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect.h"
#include "fuzz.h"
#include "rules_conf.h"

static char dir[] = "/tmp/vigie-fuzz-rules-XXXXXX";
static char path[sizeof(dir) + 16];

static int write_file(const char *p, const uint8_t *data, size_t size)
{
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -1;
        size_t off = 0;
        while (off < size) {
                ssize_t w = write(fd, data + off, size - off);
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        close(fd);
        return off == size ? 0 : -1;
}

static void cleanup(void)
{
        char p[sizeof(dir) + 16];
        snprintf(p, sizeof(p), "%s/clients.txt", dir);
        unlink(p);
        unlink(path);
        rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 256 * 1024)
                return 0;
        if (!path[0]) {
                if (!mkdtemp(dir))
                        abort();
                static const char dict[] = "# clients\nBoulangerie M\xc3\xa9nard\nETS DUPONT\n";
                char p[sizeof(dir) + 16];
                snprintf(p, sizeof(p), "%s/clients.txt", dir);
                snprintf(path, sizeof(path), "%s/fuzz.conf", dir);
                if (write_file(p, (const uint8_t *)dict, sizeof(dict) - 1) < 0)
                        abort();
                atexit(cleanup);
        }
        if (memmem(data, size, "@include", 8)) /* trusted, and not this subject */
                return 0;
        if (write_file(path, data, size) < 0)
                return 0;
        struct vg_custom *c = calloc(1, sizeof(*c));
        char err[512];
        if (c && vg_rules_conf_load_file(path, c, err, sizeof(err)) == 0) {
                struct vg_rules *r = NULL;
                if (vg_rules_new(c, &r) == 0)
                        vg_rules_free(r);
        }
        vg_custom_free(c);
        return 0;
}
