/* Names made fit to show, for the parts of vigie that never parse content (the
 * supervisor) but still show file names in logs, notices and alerts. */
#include "masker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "detect.h"

/* Escapes what must not reach a terminal, a log line or a JSON string as-is. */
char *vg_escape_name(const char *s, size_t n)
{
        struct vg_buf b;
        vg_buf_init(&b, n * 4 + 1);
        static const char hex[] = "0123456789abcdef";
        size_t i = 0;
        while (i < n) {
                unsigned char c = (unsigned char)s[i];
                size_t len = 0;
                if (c >= 0x20 && c < 0x7f && c != '\\') {
                        len = 1;
                } else if (c >= 0xc2 && c <= 0xf4) {
                        size_t want = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
                        if (i + want <= n) {
                                len = want;
                                for (size_t k = 1; k < want; k++)
                                        if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                                                len = 0;
                                /* reject overlongs and surrogates */
                                unsigned char c1 = (unsigned char)s[i + 1];
                                if (len && ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) ||
                                            (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90)))
                                        len = 0;
                        }
                }
                int e;
                if (len) {
                        e = vg_buf_append(&b, s + i, len);
                        i += len;
                } else {
                        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
                        e = vg_buf_append(&b, esc, 4);
                        i++;
                }
                if (e < 0) {
                        vg_buf_free(&b);
                        return NULL;
                }
        }
        return vg_buf_take(&b);
}

struct vg_masker {
        struct vg_rules *rules;
};

int vg_masker_new(const struct vg_custom *custom, struct vg_masker **ret)
{
        struct vg_masker *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        int e = vg_rules_new(custom, &m->rules);
        if (e < 0) {
                free(m);
                return e;
        }
        *ret = m;
        return 0;
}

void vg_masker_free(struct vg_masker *m)
{
        if (!m)
                return;
        vg_rules_free(m->rules);
        free(m);
}

char *vg_masker_display(struct vg_masker *m, const char *name)
{
        char *masked = vg_rules_mask_string(m->rules, name, strlen(name));
        if (!masked)
                return NULL;
        char *out = vg_escape_name(masked, strlen(masked));
        free(masked);
        return out;
}
