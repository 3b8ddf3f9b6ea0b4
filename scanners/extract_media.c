/* Images, audio and video: typed, not read (no OCR). Their names are still scanned.
 * With rules.images = "hold", an image is unscannable (`unsupported`): what vigie
 * cannot read is then held like any other unreadable object, never passed. */
#include <string.h>

#include "scan_internal.h"

static bool accepts(const char *type)
{
        return strncmp(type, "image/", 6) == 0 || strncmp(type, "audio/", 6) == 0 ||
               strncmp(type, "video/", 6) == 0;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        (void)in;
        if (l->scan->engine->cfg.hold_images && strncmp(l->type, "image/", 6) == 0)
                return vg_layer_fail(l, VG_REASON_UNSUPPORTED);
        return 0;
}

const struct vg_extractor vg_extract_media = {
    .name = "media",
    .accepts = accepts,
    .run = run,
};
