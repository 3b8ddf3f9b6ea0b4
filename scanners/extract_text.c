/* Plain text (and text-like formats not yet parsed: XML, JSON, CSV, source code):
 * decoded to UTF-8 and scanned as is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "scan_internal.h"
#include "text.h"

#define READ_BUF (64 * 1024)

static bool accepts(const char *type)
{
        static const char *const exact[] = {
            "application/json",    "application/xml",      "application/javascript",
            "application/x-empty", "inode/x-empty",        "application/x-ndjson",
            "application/csv",     "application/x-subrip", "application/x-wine-extension-ini",
        };
        if (strncmp(type, "text/", 5) == 0)
                return true;
        for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
                if (strcmp(type, exact[i]) == 0)
                        return true;
        return false;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        size_t bom;
        struct vg_decoder dec;
        vg_decoder_init(&dec, vg_charset_sniff(in->head, in->head_len, &bom));
        in->head_pos = bom;
        unsigned char *buf = malloc(READ_BUF);
        if (!buf)
                return -ENOMEM;
        int e = vg_layer_text(l, "", 0);
        while (e == 0) {
                ssize_t r = vg_input_read(in, buf, READ_BUF);
                if (r <= 0) {
                        e = (int)r;
                        break;
                }
                if ((e = vg_layer_check_time(l)) < 0)
                        break;
                e = vg_decoder_push(&dec, l->text, buf, (size_t)r);
        }
        if (e == 0)
                e = vg_decoder_end(&dec, l->text);
        free(buf);
        return e;
}

const struct vg_extractor vg_extract_text = {
    .name = "text",
    .accepts = accepts,
    .run = run,
};
