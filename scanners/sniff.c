#include "sniff.h"

#include <errno.h>
#include <magic.h>
#include <stdlib.h>
#include <string.h>

struct vg_sniffer {
        magic_t magic;
};

int vg_sniffer_new(struct vg_sniffer **ret)
{
        struct vg_sniffer *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        /* MAGIC_NO_CHECK_COMPRESS: we unpack ourselves, under our limits;
         * MAGIC_NO_CHECK_ENCODING: charsets are our business (charset.c). */
        s->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ENCODING |
                              MAGIC_ERROR);
        if (!s->magic || magic_load(s->magic, NULL) != 0) {
                vg_sniffer_free(s);
                return -ENOENT;
        }
        *ret = s;
        return 0;
}

void vg_sniffer_free(struct vg_sniffer *s)
{
        if (!s)
                return;
        if (s->magic)
                magic_close(s->magic);
        free(s);
}

/* Container signatures. libmagic needs more than the signature to name some of
 * them and calls a truncated zip "application/octet-stream"; read as a mere
 * binary, its members would never be looked at. When libmagic has no name, the
 * signature decides, so a damaged container is reported corrupt, not clean. */
static const struct {
        size_t off;
        size_t len;
        const char *magic;
        const char *type;
} signatures[] = {
    {0, 4, "PK\x03\x04", "application/zip"},
    {0, 4, "PK\x05\x06", "application/zip"},
    {0, 4, "PK\x07\x08", "application/zip"},
    {0, 2, "\x1f\x8b", "application/gzip"},
    {0, 3, "BZh", "application/x-bzip2"},
    {0, 6,
     "\xfd"
     "7zXZ\0",
     "application/x-xz"},
    {0, 6, "7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"},
    {0, 4, "\x28\xb5\x2f\xfd", "application/zstd"},
    {0, 6, "Rar!\x1a\x07", "application/x-rar"},
    {0, 4, "MSCF", "application/vnd.ms-cab-compressed"},
    {0, 5, "%PDF-", "application/pdf"},
    {257, 5, "ustar", "application/x-tar"},
};

static const char *by_signature(const unsigned char *h, size_t n)
{
        for (size_t i = 0; i < sizeof(signatures) / sizeof(signatures[0]); i++)
                if (n >= signatures[i].off + signatures[i].len &&
                    memcmp(h + signatures[i].off, signatures[i].magic, signatures[i].len) == 0)
                        return signatures[i].type;
        return NULL;
}

int vg_sniff(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz)
{
        const char *t = n ? magic_buffer(s->magic, head, n) : "application/x-empty";
        if (!t || strcmp(t, "application/octet-stream") == 0) {
                const char *sig = by_signature(head, n);
                t = sig ? sig : "application/octet-stream";
        }
        size_t len = strlen(t);
        if (len >= outsz)
                len = outsz - 1;
        memcpy(out, t, len);
        out[len] = '\0';
        return 0;
}
