/* The zip layout reader (both readings: central directory and local headers). */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "zip_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        int fd = fuzz_memfd(data, size);
        if (fd < 0)
                return 0;
        struct vg_zip_map m;
        if (vg_zip_map_read(fd, 1000, &m) == 0) {
                /* What the map claims must lie inside the file. */
                if (m.size != size || m.prefix > size)
                        abort();
                for (size_t i = 0; i < m.nhidden; i++)
                        if (m.hidden[i].off >= m.hidden[i].end || m.hidden[i].end > size)
                                abort();
                vg_zip_map_free(&m);
        }
        close(fd);
        return 0;
}
