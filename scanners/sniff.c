#include "sniff.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The text fast path. libmagic (5.44, full database, our flags) costs 0.49 ms
 * of CPU on a 1 KB text head and 0.8 ms on an average corpus head: 0.20 ms in
 * its binary rules, the rest in its text rules (glibc's regexec was 38 % of a
 * profile), to answer "text/plain" for 1478 of the corpus's 2625 files. A head
 * made of text bytes that no rule chain leading to a MIME type can match gets
 * "text/plain" from libmagic: its encoding check calls it text (ASCII, UTF-8,
 * ISO-8859 or extended ASCII), none of its soft magic names it (chains without
 * a MIME type print nothing in MIME mode and leave the answer to the text
 * check), and is_json, is_tar and the CDF check need what we test below
 * (is_csv needs the encoding check, which our flags turn off). sniff_guards.h,
 * generated from the database itself by tests/tools/sniff_guards.py, holds for
 * every chain that ends in a MIME type one test it cannot match without:
 * bytes at an offset, or a literal in the head. A guard that fires, or any
 * other byte, sends the head to libmagic. The guards hold for that database
 * only: another one (size, rule counts, version, rules in /etc/magic) turns
 * the fast path off. tests/unit/test_sniff.c compares both halves on every
 * fixture, on generated files (tests/integration/test_sniff.py) and on heads
 * built around every guard and every rule value.
 *
 * Measured (CPU, 2-core VM): 1 KB text heads 0.64 -> 0.019 ms (99.5 % taken);
 * the corpus's 2625 heads 2.79 -> 0.97 s (44 % taken: all its plain text but
 * the mails); the 1724 members of its archives 0.84 -> 0.15 s. Not done, by
 * measurement: binary formats (PDF 0.04 ms, OOXML/ODF 0.11 ms, zip 0.14 ms in
 * libmagic: too little to pay for a second proof); mails (1.8 ms: libmagic's
 * "From:" rule chain can name them, and it calls 2 of the corpus's 320 mails
 * text/x-c, so they stay with libmagic); a shorter head or extra
 * MAGIC_NO_CHECK_* flags (they change answers: the text rules read up to 64
 * KiB, and NO_CHECK_TEXT turns text into octet-stream); a cache (heads differ). */
#include "sniff_guards.h"

#define N_NEEDLES  (sizeof(sniff_needles) / sizeof(sniff_needles[0]))
#define PAIR_SLOTS 1024 /* open hash of the needles' first two bytes, folded */

struct vg_sniffer {
        magic_t magic;
        bool fast;
        uint8_t pairs[65536 / 8]; /* bitmap: a needle starts with this folded pair */
        struct {
                uint16_t pair, first, count; /* into order[] */
        } slot[PAIR_SLOTS];
        uint16_t order[N_NEEDLES]; /* needles that are not line-anchored, by pair */
        uint16_t lines[N_NEEDLES]; /* line-anchored needles */
        size_t nlines;
};

static unsigned char fold(unsigned char c)
{
        return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static unsigned needle_pair(const struct sniff_needle *n)
{
        return (unsigned)fold((unsigned char)n->s[0]) << 8 | fold((unsigned char)n->s[1]);
}

static size_t slot_of(const struct vg_sniffer *s, unsigned pair)
{
        size_t h = (pair * 40503u) % PAIR_SLOTS;
        while (s->slot[h].count && s->slot[h].pair != pair)
                h = (h + 1) % PAIR_SLOTS;
        return h;
}

static int by_pair(const void *a, const void *b)
{
        unsigned x = needle_pair(&sniff_needles[*(const uint16_t *)a]);
        unsigned y = needle_pair(&sniff_needles[*(const uint16_t *)b]);
        return x < y ? -1 : x > y;
}

static bool build_index(struct vg_sniffer *s)
{
        size_t n = 0;
        for (size_t i = 0; i < N_NEEDLES; i++) {
                if (sniff_needles[i].line)
                        s->lines[s->nlines++] = (uint16_t)i;
                else if (sniff_needles[i].len < 2)
                        return false; /* the generator never makes these */
                else
                        s->order[n++] = (uint16_t)i;
        }
        qsort(s->order, n, sizeof(s->order[0]), by_pair);
        for (size_t i = 0; i < n; i++) {
                unsigned p = needle_pair(&sniff_needles[s->order[i]]);
                size_t h = slot_of(s, p);
                if (!s->slot[h].count) {
                        s->slot[h].pair = (uint16_t)p;
                        s->slot[h].first = (uint16_t)i;
                }
                s->slot[h].count++;
                s->pairs[p >> 3] |= (uint8_t)(1u << (p & 7));
        }
        return true;
}

/* Is every component of libmagic's search path the database the guards were
 * made from, or a file without rules (Debian's /etc/magic holds comments)? */
static bool same_database(void)
{
        if (magic_version() != 544)
                return false;
        const char *path = magic_getpath(NULL, 0);
        if (!path)
                return false;
        int found = 0;
        char comp[4096];
        while (*path) {
                size_t len = strcspn(path, ":");
                if (len + 5 > sizeof(comp))
                        return false;
                memcpy(comp, path, len);
                comp[len] = '\0';
                path += len + (path[len] == ':');
                char mgc[4096 + 8];
                memcpy(mgc, comp, len);
                memcpy(mgc + len, ".mgc", 5);
                struct stat st;
                const char *use = stat(mgc, &st) == 0 ? mgc : comp;
                if (stat(use, &st) != 0)
                        continue; /* libmagic skips it too */
                if (!S_ISREG(st.st_mode))
                        return false;
                FILE *f = fopen(use, "re");
                if (!f)
                        return false;
                uint32_t h[4];
                bool ok;
                if (fread(h, sizeof(h), 1, f) == 1 && h[0] == 0xF11E041C) {
                        ok = h[1] == 18 && h[2] == SNIFF_DB_NMAGIC0 && h[3] == SNIFF_DB_NMAGIC1 &&
                             (uint64_t)st.st_size == SNIFF_DB_SIZE;
                        found += ok;
                } else {
                        /* A magic source file: only comments and blank lines. */
                        char line[1024];
                        ok = true;
                        rewind(f);
                        while (ok && fgets(line, sizeof(line), f)) {
                                size_t k = strspn(line, " \t\r\n");
                                ok = line[k] == '\0' || line[k] == '#';
                        }
                }
                fclose(f);
                if (!ok)
                        return false;
        }
        return found == 1 && SNIFF_DB_UNGUARDED == 0;
}

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
        s->fast = getenv("VIGIE_SNIFF_NO_FAST") == NULL && same_database() && build_index(s);
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

static bool fixed_fires(const unsigned char *h, size_t n)
{
        for (size_t i = 0; i < sizeof(sniff_fixed) / sizeof(sniff_fixed[0]); i++) {
                const struct sniff_fixed *g = &sniff_fixed[i];
                size_t k = 0;
                /* Past the end libmagic compares zeros. */
                for (; k < g->len; k++) {
                        unsigned char b = g->off + k < n ? h[g->off + k] : 0;
                        if ((b & (unsigned char)g->mask[k]) != (unsigned char)g->val[k])
                                break;
                }
                if (k == g->len)
                        return true;
        }
        return false;
}

static bool needle_at(const struct sniff_needle *nd, const unsigned char *h, size_t n, size_t i)
{
        if (i + nd->len > n || (nd->hi && i + nd->len > nd->hi))
                return false;
        if (!nd->icase)
                return memcmp(h + i, nd->s, nd->len) == 0;
        for (size_t k = 0; k < nd->len; k++)
                if (fold(h[i + k]) != fold((unsigned char)nd->s[k]))
                        return false;
        return true;
}

static bool needles_fire(const struct vg_sniffer *s, const unsigned char *h, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (i == 0 || h[i - 1] == '\n') {
                        /* [[:space:]]* may span lines: skip every blank. */
                        size_t b = i;
                        while (b < n &&
                               (h[b] == ' ' || h[b] == '\t' || h[b] == '\r' || h[b] == '\n'))
                                b++;
                        for (size_t k = 0; k < s->nlines; k++) {
                                const struct sniff_needle *nd = &sniff_needles[s->lines[k]];
                                if (needle_at(nd, h, n, nd->line == 2 ? b : i))
                                        return true;
                        }
                }
                if (i + 1 >= n)
                        break;
                unsigned p = (unsigned)fold(h[i]) << 8 | fold(h[i + 1]);
                if (!(s->pairs[p >> 3] & (1u << (p & 7))))
                        continue;
                size_t slot = slot_of(s, p);
                for (size_t k = 0; k < s->slot[slot].count; k++)
                        if (needle_at(&sniff_needles[s->order[s->slot[slot].first + k]], h, n, i))
                                return true;
        }
        return false;
}

/* is_tar: libmagic calls a 512-byte block tar when the octal number in its
 * checksum field (148-155, after blanks) is the sum of its bytes, the field
 * counted as blanks. Its parser's bounds differ from ours by at most one digit:
 * both readings are tried. */
static bool tar_like(const unsigned char *h)
{
        unsigned long sum = 0;
        for (size_t k = 0; k < 512; k++)
                sum += k >= 148 && k < 156 ? ' ' : h[k];
        size_t k = 148;
        while (k < 156 && (h[k] == ' ' || h[k] == '\t' || h[k] == '\n' || h[k] == '\r'))
                k++;
        unsigned long value = 0, shorter = 0;
        for (; k < 157 && h[k] >= '0' && h[k] <= '7'; k++) {
                shorter = value;
                value = value << 3 | (unsigned long)(h[k] - '0');
                if (value == sum || shorter == sum)
                        return true;
        }
        return false;
}

/* "text/plain" when libmagic is certain to say so (see the top of the file). */
static const char *sniff_fast(const struct vg_sniffer *s, const unsigned char *h, size_t n)
{
        if (!s->fast || n < 2)
                return NULL; /* libmagic calls one byte "very short", not text */
        for (size_t i = 0; i < n; i++)
                if ((h[i] < 0x20 && h[i] != '\t' && h[i] != '\n' && h[i] != '\r') || h[i] == 0x7f)
                        return NULL;
        /* Byte order marks and UTF-7 make libmagic re-encode the head before its
         * text rules, which would move the offsets the guards rely on. */
        if ((h[0] == 0xff && h[1] == 0xfe) || (h[0] == 0xfe && h[1] == 0xff) ||
            (n >= 3 && ((h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf) ||
                        (h[0] == '+' && h[1] == '/' && h[2] == 'v'))))
                return NULL;
        /* is_json: libmagic 5.44 names JSON an object or an array at the top. */
        size_t j = 0;
        while (j < n && (h[j] == ' ' || h[j] == '\t' || h[j] == '\r' || h[j] == '\n'))
                j++;
        if (j < n && (h[j] == '{' || h[j] == '['))
                return NULL;
        if (n >= 512 && tar_like(h))
                return NULL;
        if (fixed_fires(h, n) || needles_fire(s, h, n))
                return NULL;
        return "text/plain";
}

static void copy_type(const char *t, char *out, size_t outsz)
{
        size_t len = strlen(t);
        if (len >= outsz)
                len = outsz - 1;
        memcpy(out, t, len);
        out[len] = '\0';
}

bool vg_sniff_fast(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz)
{
        const char *t = sniff_fast(s, head, n);
        if (t)
                copy_type(t, out, outsz);
        return t != NULL;
}

int vg_sniff(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz)
{
        if (vg_sniff_fast(s, head, n, out, outsz))
                return 0;
        return vg_sniff_magic(s, head, n, out, outsz);
}

int vg_sniff_magic(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz)
{
        const char *t = n ? magic_buffer(s->magic, head, n) : "application/x-empty";
        if (!t || strcmp(t, "application/octet-stream") == 0) {
                const char *sig = by_signature(head, n);
                t = sig ? sig : "application/octet-stream";
        }
        copy_type(t, out, outsz);
        return 0;
}
