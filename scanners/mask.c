#include "mask.h"

size_t vg_mask_groups(const char *s, size_t n, const unsigned char *groups, size_t head,
                      size_t tail, char *out, size_t outsz)
{
        size_t o = 0, g = 0, in_group = 0;
        if (outsz == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                size_t gsize = groups[g] ? groups[g] : 1;
                if (in_group == gsize) {
                        if (o + 1 >= outsz)
                                return 0;
                        out[o++] = ' ';
                        in_group = 0;
                        if (groups[g + 1])
                                g++;
                }
                if (o + 1 >= outsz)
                        return 0;
                int visible = i < head || i + tail >= n;
                out[o++] = visible ? s[i] : '*';
                in_group++;
        }
        out[o] = '\0';
        return o;
}
