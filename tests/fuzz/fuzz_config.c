/* vigie.conf: libconfig text -> struct vg_config (every option's type and range
 * checks, routes, policies, alert channels). The rules.d folders it names are
 * read from the file system as usual; the fuzz input is the file itself.
 * vigie.conf belongs to root: fuzzing it finds crashes and leaks in the loader,
 * not a privilege boundary. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 256 * 1024)
                return 0;
        /* @include reads any file the admin names: trusted, and not this test's
         * subject (an include of /dev/zero would only measure /dev/zero). */
        if (memmem(data, size, "@include", 8))
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        struct vg_config *c = NULL;
        char err[512];
        if (vg_config_load_string(text, "fuzz.conf", &c, err, sizeof(err)) == 0) {
                if (!c)
                        abort();
                vg_config_free(c);
        }
        free(text);
        return 0;
}
