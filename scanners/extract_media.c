/* Images, audio and video: typed, not read (no OCR). Their names are still scanned. */
#include <string.h>

#include "scan_internal.h"

static bool accepts(const char *type)
{
        return strncmp(type, "image/", 6) == 0 || strncmp(type, "audio/", 6) == 0 ||
               strncmp(type, "video/", 6) == 0;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        (void)l;
        (void)in;
        return 0;
}

const struct vg_extractor vg_extract_media = {
    .name = "media",
    .accepts = accepts,
    .run = run,
};
