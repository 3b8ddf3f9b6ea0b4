#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "policy.h"
#include "report.h"
#include "report_json.h"
#include "scan.h"

static struct vg_engine *engine;

static void engine_free(void)
{
        vg_engine_free(engine);
        engine = NULL;
}

struct vg_engine *fuzz_engine(void)
{
        if (engine)
                return engine;
        struct vg_engine_config cfg = {
            .limits =
                {
                    .max_file_size = 64u << 20,
                    .max_expanded = 64u << 20,
                    .max_ratio = 1000,
                    .max_depth = 16,
                    .max_members = 10000,
                    .max_scan_time = 10,
                },
        };
        int e = vg_engine_new(&cfg, &engine);
        if (e < 0) {
                fprintf(stderr, "fuzz: vg_engine_new: %s\n", strerror(-e));
                abort();
        }
        atexit(engine_free);
        return engine;
}

int fuzz_memfd(const uint8_t *data, size_t size)
{
        int fd = memfd_create("fuzz", MFD_CLOEXEC);
        if (fd < 0)
                return -1;
        size_t off = 0;
        while (off < size) {
                ssize_t w = write(fd, data + off, size - off);
                if (w <= 0) {
                        close(fd);
                        return -1;
                }
                off += (size_t)w;
        }
        return fd;
}

void fuzz_scan(const uint8_t *data, size_t size, const char *name)
{
        struct vg_engine *e = fuzz_engine();
        int fd = fuzz_memfd(data, size);
        if (fd < 0)
                return;
        struct vg_report *r = NULL;
        int rc = vg_scan_fd(e, fd, name, &r);
        close(fd);
        if (rc == -ENOMEM)
                return;
        if (rc < 0) {
                fprintf(stderr, "fuzz: vg_scan_fd: %s\n", strerror(-rc));
                abort();
        }
        /* What the worker sends the supervisor, read back as the supervisor does,
         * then judged by the default policy. */
        char *line = vg_report_to_json_line(r);
        json_t *j = line ? json_loads(line, 0, NULL) : NULL;
        struct vg_report *back = NULL;
        if (j && vg_report_from_json(j, &back) < 0) {
                fprintf(stderr, "fuzz: report does not read back: %s\n", line);
                abort();
        }
        struct vg_policy p;
        if (back && vg_policy_init(&p, "default") == 0) {
                (void)vg_policy_apply(&p, back);
                vg_policy_clear(&p);
        }
        vg_report_free(back);
        json_decref(j);
        free(line);
        vg_report_free(r);
}
