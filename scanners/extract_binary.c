/* Unknown binaries and legacy formats (.doc, .xls, .ppt): runs of printable
 * characters, in ASCII and in UTF-16LE, as `strings` would find them, so an
 * identifier stored as text in a binary is still seen. */
#include <errno.h>
#include <stdlib.h>

#include "scan_internal.h"

#define READ_BUF (64 * 1024)
#define MIN_RUN  4
#define RUN_MAX  4096

static bool accepts(const char *type)
{
        (void)type;
        return true;
}

static bool printable(unsigned char c)
{
        return (c >= 0x20 && c < 0x7f) || c == '\t';
}

struct runs {
        char ascii[RUN_MAX];
        size_t na;
        char wide[RUN_MAX];
        size_t nw;
        unsigned char prev;
        bool have_prev;
};

static int flush(struct vg_layer *l, char *run, size_t *n)
{
        int e = 0;
        if (*n >= MIN_RUN) {
                e = vg_layer_text(l, run, *n);
                if (!e)
                        e = vg_layer_text_break(l);
        }
        *n = 0;
        return e;
}

/* A run longer than RUN_MAX is handed over in pieces without a break: the text
 * sink joins them, so a long line stays one line. */
static int add(struct vg_layer *l, char *run, size_t *n, char c)
{
        if (*n == RUN_MAX) {
                int e = vg_layer_text(l, run, *n);
                if (e < 0)
                        return e;
                *n = 0;
        }
        run[(*n)++] = c;
        return 0;
}

static int feed(struct vg_layer *l, struct runs *r, const unsigned char *b, size_t n)
{
        int e = 0;
        for (size_t i = 0; i < n && e == 0; i++) {
                unsigned char c = b[i];
                e = printable(c) ? add(l, r->ascii, &r->na, (char)c) : flush(l, r->ascii, &r->na);
                if (e)
                        break;
                /* UTF-16LE: a printable byte then a zero byte, at either alignment. */
                if (!r->have_prev) {
                        r->prev = c;
                        r->have_prev = true;
                } else if (c == 0 && printable(r->prev)) {
                        e = add(l, r->wide, &r->nw, (char)r->prev);
                        r->have_prev = false;
                } else {
                        if (r->nw)
                                e = flush(l, r->wide, &r->nw);
                        r->prev = c;
                }
        }
        return e;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        unsigned char *buf = malloc(READ_BUF);
        struct runs *r = calloc(1, sizeof(*r));
        int e = 0;
        if (!buf || !r) {
                e = -ENOMEM;
                goto out;
        }
        for (;;) {
                ssize_t n = vg_input_read(in, buf, READ_BUF);
                if (n <= 0) {
                        e = (int)n;
                        break;
                }
                if ((e = vg_layer_check_time(l)) < 0 || (e = feed(l, r, buf, (size_t)n)) < 0)
                        break;
        }
        if (e == 0)
                e = flush(l, r->ascii, &r->na);
        if (e == 0)
                e = flush(l, r->wide, &r->nw);
out:
        free(buf);
        free(r);
        return e;
}

const struct vg_extractor vg_extract_binary = {
    .name = "binary",
    .accepts = accepts,
    .run = run,
};
