/* Formats that hold their text in a way the engine cannot read yet (PDF content
 * streams are compressed): unscannable `unsupported`, so they are held, never
 * waved through as if they had been read. */
#include <string.h>

#include "scan_internal.h"

static bool accepts(const char *type)
{
        return strcmp(type, "application/pdf") == 0;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        (void)in;
        return vg_layer_fail(l, VG_REASON_UNSUPPORTED);
}

const struct vg_extractor vg_extract_unsupported = {
    .name = "unsupported",
    .accepts = accepts,
    .run = run,
};
