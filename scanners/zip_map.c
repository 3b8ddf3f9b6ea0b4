/* The two readings of a zip (see zip_map.h). Field offsets follow PKWARE's
 * APPNOTE.TXT (4.3.7 local header, 4.3.9 data descriptor, 4.3.12 central
 * directory header, 4.3.14-16 zip64 end records, 4.5.3 zip64 extra field).
 *
 * The directory reading mirrors what libarchive's seekable reader (which the
 * extractor uses to decompress) does, so that what this map calls "covered" is
 * what libarchive will actually read:
 *  - the end record is the last "PK\5\6" within the last 16 KiB;
 *  - a valid zip64 locator 20 bytes before it takes precedence;
 *  - the directory is looked for from (end record - directory size) onwards and
 *    the difference with the recorded offset corrects every member offset, which
 *    is how prepended data (self-extracting stubs, a zip appended to another) is
 *    read;
 *  - the directory ends at the first "PK\5\6" or "PK\6\6", whatever the count
 *    says.
 * Where libarchive and other tools may differ (the count, the recorded size, a
 * zip64 record without its signature, bytes nobody reads), the map says
 * ambiguous rather than guess which one the receiving tool uses. */
#include "zip_map.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A window large enough for the largest header: 46 fixed bytes plus a name, an
 * extra field and a comment of at most 65535 bytes each. */
#define WIN       (256u * 1024)
#define READAHEAD (16u * 1024)
#define EOCD_LEN  22u
#define EOCD_TAIL (16u * 1024) /* libarchive looks for the end record there */
#define CDH_LEN   46u
#define LFH_LEN   30u
#define LOC64_LEN 20u
#define REC64_MIN 56u
#define REC64_MAX 16384u /* libarchive's bound on the zip64 end record */
#define U32_MAX   0xffffffffu

#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DESCR     0x0008u /* sizes and CRC follow the data */
#define FLAG_STRONG    0x0040u

/* Our own verdict travels as this positive value; errors are negative errno. */
#define STOP 1

struct rd {
        int fd;
        uint64_t size;
        unsigned char *buf;
        uint64_t off;
        size_t len;
};

struct ent {
        uint64_t lho;
        uint64_t csize;
        uint64_t usize;
        uint64_t name_off; /* of the name inside the central directory */
        uint32_t crc;
        uint16_t flags;
        uint16_t method;
        uint16_t nlen;
        bool zip64;
};

struct zm {
        struct vg_zip_map *map;
        uint64_t size;
        uint64_t max_entries;
        struct rd cd; /* the directory and the end records */
        struct rd lo; /* the local headers, in file order */
        struct ent *ents;
        size_t nents;
        size_t ents_cap;
        size_t hidden_cap;
};

static uint16_t u16(const unsigned char *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t u32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64(const unsigned char *p)
{
        return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

static bool sig(const unsigned char *p, unsigned char a, unsigned char b)
{
        return p[0] == 'P' && p[1] == 'K' && p[2] == a && p[3] == b;
}

static int verdict(struct zm *z, enum vg_zip_verdict v, const char *why)
{
        z->map->verdict = v;
        z->map->why = why;
        return STOP;
}

/* Points *p at bytes [off, off + n) of the file. -ERANGE when they are not all
 * in the file: the caller decides whether that is corrupt or merely "not a
 * header here". */
static int view(struct rd *r, uint64_t off, size_t n, const unsigned char **p)
{
        if (n > WIN || off > r->size || n > r->size - off)
                return -ERANGE;
        if (off >= r->off && off - r->off + n <= r->len) {
                *p = r->buf + (off - r->off);
                return 0;
        }
        size_t want = n > READAHEAD ? n : READAHEAD;
        if (want > r->size - off)
                want = (size_t)(r->size - off);
        size_t got = 0;
        while (got < want) {
                ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r->len = 0;
                        return -errno;
                }
                if (k == 0)
                        break;
                got += (size_t)k;
        }
        r->off = off;
        r->len = got;
        if (got < n)
                return -ERANGE; /* the file shrank under us */
        *p = r->buf;
        return 0;
}

/* The zip64 extended information field (APPNOTE 4.5.3), read the way libarchive
 * reads it: a value is present only for a field that holds 0xffffffff, in the
 * order uncompressed size, compressed size, local header offset. Returns false
 * when the extra field is malformed (libarchive then refuses the whole zip). */
static bool zip64_extra(const unsigned char *x, size_t xlen, uint64_t *usize, uint64_t *csize,
                        uint64_t *lho, bool *used)
{
        size_t off = 0;
        while (off + 4 <= xlen) {
                uint16_t id = u16(x + off);
                size_t ds = u16(x + off + 2);
                off += 4;
                if (ds > xlen - off)
                        return false;
                if (id == 0x0001) {
                        const unsigned char *d = x + off;
                        size_t left = ds;
                        uint64_t *fields[3] = {usize, csize, lho};
                        *used = true;
                        for (int i = 0; i < 3; i++) {
                                if (!fields[i] || *fields[i] != U32_MAX)
                                        continue;
                                if (left < 8)
                                        return false;
                                uint64_t v = u64(d);
                                if (v > INT64_MAX)
                                        return false;
                                *fields[i] = v;
                                d += 8;
                                left -= 8;
                        }
                }
                off += ds;
        }
        return true;
}

struct eocd {
        uint64_t pos;
        uint64_t cd_off;   /* as recorded */
        uint64_t adjusted; /* where libarchive starts looking for the directory */
        uint64_t count;
        uint64_t cd_size;
        bool zip64;
        uint64_t rec64; /* the zip64 end record */
        uint64_t rec64_len;
};

/* The zip64 locator and record before the end record at e->pos, as
 * libarchive's read_zip64_eocd() accepts them. */
static int find_zip64(struct zm *z, struct eocd *e)
{
        const unsigned char *p;
        int r = view(&z->cd, e->pos - LOC64_LEN, LOC64_LEN, &p);
        if (r < 0)
                return r == -ERANGE ? 0 : r;
        if (!sig(p, 6, 7) || u32(p + 4) != 0 || u32(p + 16) != 1)
                return 0;
        uint64_t rec = u64(p + 8);
        if ((r = view(&z->cd, rec, REC64_MIN, &p)) < 0)
                return r == -ERANGE ? 0 : r;
        uint64_t len = u64(p + 4);
        if (len > REC64_MAX || len + 12 < REC64_MIN || len + 12 > REC64_MAX)
                return 0;
        if (u32(p + 16) != 0 || u32(p + 20) != 0 || u64(p + 24) != u64(p + 32))
                return 0;
        if (rec + len + 12 > z->size)
                return 0;
        /* libarchive reads the record without checking its signature; a tool
         * that checks it would not see the same directory. */
        if (!sig(p, 6, 6))
                return verdict(z, VG_ZIP_AMBIGUOUS, "zip64 end record without its signature");
        e->zip64 = true;
        e->rec64 = rec;
        e->rec64_len = len + 12;
        e->count = u64(p + 32);
        e->cd_size = u64(p + 40);
        e->cd_off = e->adjusted = u64(p + 48);
        return 0;
}

static int find_eocd(struct zm *z, struct eocd *e)
{
        if (z->size < EOCD_LEN)
                return verdict(z, VG_ZIP_CORRUPT, "too short for an end record");
        size_t tail = z->size < EOCD_TAIL ? (size_t)z->size : EOCD_TAIL;
        uint64_t base = z->size - tail;
        const unsigned char *p;
        int r = view(&z->cd, base, tail, &p);
        if (r < 0)
                return r == -ERANGE ? verdict(z, VG_ZIP_CORRUPT, "unreadable end") : r;
        size_t i = tail - EOCD_LEN + 1;
        bool found = false;
        while (i-- > 0)
                if (sig(p + i, 5, 6)) {
                        found = true;
                        break;
                }
        if (!found)
                return verdict(z, VG_ZIP_CORRUPT, "no end of central directory record");
        const unsigned char *q = p + i;
        e->pos = base + i;
        uint16_t disk = u16(q + 4), cd_disk = u16(q + 6);
        uint16_t n_disk = u16(q + 8), n_total = u16(q + 10);
        uint32_t cd_size = u32(q + 12), cd_off = u32(q + 16);
        uint16_t clen = u16(q + 20);
        bool ok32 =
            disk == 0 && cd_disk == 0 && n_disk == n_total && (uint64_t)cd_off + cd_size <= e->pos;
        e->count = n_total;
        e->cd_size = cd_size;
        e->cd_off = cd_off;
        e->adjusted = ok32 ? e->pos - cd_size : 0;
        /* libarchive looks for the locator inside its 16 KiB window only. */
        if (i >= LOC64_LEN && (r = find_zip64(z, e)) != 0)
                return r;
        if (!ok32 && !e->zip64)
                return verdict(z, VG_ZIP_CORRUPT, "inconsistent end record");
        /* Anything after the end record (or a comment running past the end of
         * the file) is read by no unzip tool: bytes nobody reads are not passed
         * unread, and the tar extractor holds its trailing bytes the same way. */
        if (e->pos + EOCD_LEN + clen != z->size)
                return verdict(z, VG_ZIP_AMBIGUOUS, "bytes after the end record");
        z->map->exact_end = true;
        return 0;
}

/* The first "PK\1\2", "PK\5\6" or "PK\6\6" at or after `from`, as libarchive's
 * slurp_central_directory() looks for it. The end record itself stops the
 * search, so it always ends at or before e->pos. */
static int find_cd_start(struct zm *z, uint64_t from, uint64_t *ret)
{
        uint64_t pos = from;
        while (pos + 4 <= z->size) {
                size_t n = READAHEAD;
                if (n > z->size - pos)
                        n = (size_t)(z->size - pos);
                const unsigned char *p;
                int r = view(&z->cd, pos, n, &p);
                if (r < 0)
                        return r;
                for (size_t i = 0; i + 4 <= n; i++)
                        if (p[i] == 'P' && p[i + 1] == 'K' &&
                            ((p[i + 2] == 1 && p[i + 3] == 2) || (p[i + 2] == 5 && p[i + 3] == 6) ||
                             (p[i + 2] == 6 && p[i + 3] == 6))) {
                                *ret = pos + i;
                                return 0;
                        }
                if (n < 4)
                        break;
                pos += n - 3; /* a signature may straddle two windows */
        }
        return -ERANGE;
}

static int add_ent(struct zm *z, const struct ent *e)
{
        if (z->nents + z->map->nhidden >= z->max_entries)
                return verdict(z, VG_ZIP_TOO_MANY, "more entries than allowed");
        if (z->nents == z->ents_cap) {
                size_t cap = z->ents_cap ? z->ents_cap * 2 : 64;
                struct ent *n = reallocarray(z->ents, cap, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                z->ents = n;
                z->ents_cap = cap;
        }
        z->ents[z->nents++] = *e;
        return 0;
}

static int read_cd(struct zm *z, struct eocd *e)
{
        if (e->adjusted > e->pos)
                return verdict(z, VG_ZIP_CORRUPT, "directory after the end record");
        uint64_t start;
        int r = find_cd_start(z, e->adjusted, &start);
        if (r < 0)
                return r == -ERANGE ? verdict(z, VG_ZIP_CORRUPT, "no central directory") : r;
        /* Recorded offset and size disagree with where the directory is:
         * readers that trust the offset and readers that search differ. */
        if (start != e->adjusted)
                return verdict(z, VG_ZIP_AMBIGUOUS, "directory not where the end record says");
        if (start < e->cd_off)
                return verdict(z, VG_ZIP_AMBIGUOUS, "directory before its recorded offset");
        uint64_t correction = start - e->cd_off;
        uint64_t pos = start;
        for (;;) {
                const unsigned char *p;
                if ((r = view(&z->cd, pos, 4, &p)) < 0)
                        return r == -ERANGE ? verdict(z, VG_ZIP_CORRUPT, "directory cut short") : r;
                if (sig(p, 5, 6) || sig(p, 6, 6))
                        break;
                if (!sig(p, 1, 2))
                        return verdict(z, VG_ZIP_CORRUPT, "bad directory entry signature");
                if ((r = view(&z->cd, pos, CDH_LEN, &p)) < 0)
                        return r == -ERANGE ? verdict(z, VG_ZIP_CORRUPT, "directory cut short") : r;
                size_t nlen = u16(p + 28), xlen = u16(p + 30), clen = u16(p + 32);
                struct ent en = {
                    .flags = u16(p + 8),
                    .method = u16(p + 10),
                    .crc = u32(p + 16),
                    .csize = u32(p + 20),
                    .usize = u32(p + 24),
                    .lho = u32(p + 42),
                    .name_off = pos + CDH_LEN,
                    .nlen = (uint16_t)nlen,
                };
                if ((r = view(&z->cd, pos, CDH_LEN + nlen + xlen + clen, &p)) < 0)
                        return r == -ERANGE ? verdict(z, VG_ZIP_CORRUPT, "directory cut short") : r;
                bool wide = en.csize == U32_MAX || en.usize == U32_MAX || en.lho == U32_MAX;
                /* libarchive corrects the offset before it looks for 0xffffffff in
                 * it: with prepended data the two would disagree. */
                if (wide && correction)
                        return verdict(z, VG_ZIP_AMBIGUOUS, "zip64 fields with prepended data");
                if (!zip64_extra(p + CDH_LEN + nlen, xlen, &en.usize, &en.csize, &en.lho,
                                 &en.zip64))
                        return verdict(z, VG_ZIP_CORRUPT, "malformed extra field");
                if (!wide)
                        en.lho += correction;
                if ((r = add_ent(z, &en)) != 0)
                        return r;
                pos += CDH_LEN + nlen + xlen + clen;
        }
        if (e->zip64) {
                if (pos != e->rec64 || e->rec64 + e->rec64_len != e->pos - LOC64_LEN)
                        return verdict(z, VG_ZIP_AMBIGUOUS, "bytes around the zip64 end records");
                if (e->cd_size != pos - start)
                        return verdict(z, VG_ZIP_AMBIGUOUS, "zip64 directory size disagrees");
        } else if (pos != e->pos) {
                return verdict(z, VG_ZIP_AMBIGUOUS, "bytes between the directory and its end");
        }
        /* Readers that trust the count and readers that walk the directory would
         * list different members. */
        if (e->count != z->nents)
                return verdict(z, VG_ZIP_AMBIGUOUS, "entry count disagrees with the directory");
        z->map->entries = z->nents;
        return 0;
}

static int cmp_lho(const void *a, const void *b)
{
        const struct ent *x = a, *y = b;
        return x->lho < y->lho ? -1 : x->lho > y->lho;
}

/* A data descriptor (APPNOTE 4.3.9) at `at`: with or without its optional
 * signature, sizes on 4 or 8 bytes. It must repeat the expected values. */
static int descriptor(struct zm *z, uint64_t at, uint32_t crc, bool check_crc, uint64_t csize,
                      uint64_t usize, bool wide, uint64_t *len)
{
        static const struct {
                unsigned len;
                bool sig;
                bool wide;
        } forms[] = {{16, true, false}, {24, true, true}, {12, false, false}, {20, false, true}};
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                        /* zip64 entries try 8-byte sizes first */
                        if (forms[i].wide != (pass == 0 ? wide : !wide))
                                continue;
                        const unsigned char *p;
                        int r = view(&z->lo, at, forms[i].len, &p);
                        if (r == -ERANGE)
                                continue;
                        if (r < 0)
                                return r;
                        if (forms[i].sig) {
                                if (!sig(p, 7, 8))
                                        continue;
                                p += 4;
                        }
                        uint64_t c = forms[i].wide ? u64(p + 4) : u32(p + 4);
                        uint64_t u = forms[i].wide ? u64(p + 12) : u32(p + 8);
                        if ((!check_crc || u32(p) == crc) && c == csize && u == usize) {
                                *len = forms[i].len;
                                return 0;
                        }
                }
        return -ENOENT;
}

struct local {
        uint64_t end; /* one past the data and descriptor */
        bool ok;      /* a local header that reads as one (for hidden entries) */
};

/* The local header at `off`. With `cd`, it must agree with that directory entry;
 * without, it is a candidate hidden member that must end by `limit`. */
static int local_at(struct zm *z, uint64_t off, uint64_t limit, const struct ent *cd,
                    struct local *ret)
{
        const unsigned char *p;
        ret->ok = false;
        int r = view(&z->lo, off, LFH_LEN, &p);
        if (r < 0 && r != -ERANGE)
                return r;
        if (r == -ERANGE || !sig(p, 3, 4))
                return cd ? verdict(z, VG_ZIP_CORRUPT, "directory entry points at no local header")
                          : 0;
        uint16_t flags = u16(p + 6), method = u16(p + 8);
        uint32_t crc = u32(p + 14);
        uint64_t csize = u32(p + 18), usize = u32(p + 22);
        size_t nlen = u16(p + 26), xlen = u16(p + 28);
        if ((r = view(&z->lo, off, LFH_LEN + nlen + xlen, &p)) < 0) {
                if (r != -ERANGE)
                        return r;
                return cd ? verdict(z, VG_ZIP_CORRUPT, "local header cut short") : 0;
        }
        bool wide = false;
        if (!zip64_extra(p + LFH_LEN + nlen, xlen, &usize, &csize, NULL, &wide))
                return cd ? verdict(z, VG_ZIP_CORRUPT, "malformed local extra field") : 0;
        uint64_t hdr = LFH_LEN + nlen + xlen;
        uint64_t want_c = csize, want_u = usize;
        uint32_t want_crc = crc;
        bool check_crc = crc != 0;
        if (cd) {
                /* libarchive names a member after its local header; other tools
                 * after the directory: both names must be the same bytes. */
                if (nlen != cd->nlen)
                        return verdict(z, VG_ZIP_AMBIGUOUS, "local and directory names differ");
                /* p stays valid: the directory has a window of its own */
                const unsigned char *q;
                if ((r = view(&z->cd, cd->name_off, nlen, &q)) < 0)
                        return r == -ERANGE ? verdict(z, VG_ZIP_CORRUPT, "directory cut short") : r;
                if (memcmp(p + LFH_LEN, q, nlen) != 0)
                        return verdict(z, VG_ZIP_AMBIGUOUS, "local and directory names differ");
                if (method != cd->method || (flags & (FLAG_ENCRYPTED | FLAG_STRONG)) !=
                                                (cd->flags & (FLAG_ENCRYPTED | FLAG_STRONG)))
                        return verdict(z, VG_ZIP_AMBIGUOUS, "local and directory methods differ");
                bool agree = (flags & FLAG_DESCR)
                                 ? (crc == 0 || crc == cd->crc) &&
                                       (csize == 0 || csize == cd->csize) &&
                                       (usize == 0 || usize == cd->usize)
                                 : crc == cd->crc && csize == cd->csize && usize == cd->usize;
                if (!agree)
                        return verdict(z, VG_ZIP_AMBIGUOUS, "local and directory sizes differ");
                want_c = cd->csize;
                want_u = cd->usize;
                want_crc = cd->crc;
                check_crc = true;
                wide = wide || cd->zip64;
        } else if ((flags & FLAG_DESCR) && csize == 0) {
                /* Its length is known only by decompressing it: a streaming
                 * reader would, we cannot delimit it without doing so. */
                return 0;
        }
        if (want_c > z->size || off + hdr > z->size - want_c)
                return cd ? verdict(z, VG_ZIP_CORRUPT, "member data past the end") : 0;
        uint64_t end = off + hdr + want_c;
        if (flags & FLAG_DESCR) {
                uint64_t dlen = 0;
                r = descriptor(z, end, want_crc, check_crc, want_c, want_u, wide, &dlen);
                if (r == -ENOENT)
                        return cd ? verdict(z, VG_ZIP_AMBIGUOUS, "data descriptor disagrees") : 0;
                if (r < 0)
                        return r;
                end += dlen;
        }
        if (!cd && end > limit)
                return 0;
        ret->end = end;
        ret->ok = true;
        return 0;
}

static int add_hidden(struct zm *z, uint64_t off, uint64_t end)
{
        struct vg_zip_map *m = z->map;
        if (z->nents + m->nhidden >= z->max_entries)
                return verdict(z, VG_ZIP_TOO_MANY, "more entries than allowed");
        if (m->nhidden == z->hidden_cap) {
                size_t cap = z->hidden_cap ? z->hidden_cap * 2 : 8;
                struct vg_zip_hidden *n = reallocarray(m->hidden, cap, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                m->hidden = n;
                z->hidden_cap = cap;
        }
        m->hidden[m->nhidden++] = (struct vg_zip_hidden){.off = off, .end = end};
        return 0;
}

/* Local members that the directory does not list, chained from `from` exactly
 * to `to`. *chained tells whether they fill the gap; when not, the caller
 * decides (and the hidden entries found on the way are dropped). */
static int chain(struct zm *z, uint64_t from, uint64_t to, bool *chained)
{
        size_t keep = z->map->nhidden;
        uint64_t pos = from;
        *chained = false;
        while (pos < to) {
                struct local lh;
                int r = local_at(z, pos, to, NULL, &lh);
                if (r != 0)
                        return r;
                if (!lh.ok) {
                        z->map->nhidden = keep;
                        return 0;
                }
                if ((r = add_hidden(z, pos, lh.end)) != 0)
                        return r;
                pos = lh.end;
        }
        *chained = true;
        return 0;
}

static bool has_local_sig(struct zm *z, uint64_t from, uint64_t to, int *err)
{
        uint64_t pos = from;
        *err = 0;
        while (pos + 4 <= to) {
                size_t n = READAHEAD;
                if (n > to - pos)
                        n = (size_t)(to - pos);
                const unsigned char *p;
                int r = view(&z->lo, pos, n, &p);
                if (r < 0) {
                        *err = r;
                        return false;
                }
                for (size_t i = 0; i + 4 <= n; i++)
                        if (sig(p + i, 3, 4))
                                return true;
                if (n < 4)
                        break;
                pos += n - 3;
        }
        return false;
}

/* The local reading: every byte from the first member to the directory must
 * belong to exactly one member, in file order. */
static int walk(struct zm *z, uint64_t cd_start)
{
        /* an empty directory has no array at all (qsort's base must not be NULL) */
        if (z->nents > 1)
                qsort(z->ents, z->nents, sizeof(*z->ents), cmp_lho);
        for (size_t i = 1; i < z->nents; i++)
                if (z->ents[i].lho == z->ents[i - 1].lho)
                        return verdict(z, VG_ZIP_AMBIGUOUS,
                                       "two directory entries share one local header");
        uint64_t first = z->nents ? z->ents[0].lho : cd_start;
        if (first > cd_start)
                return verdict(z, VG_ZIP_AMBIGUOUS, "member inside the central directory");
        int r;
        if (first > 0) {
                const unsigned char *p;
                bool chained = false;
                if ((r = view(&z->lo, 0, 4, &p)) < 0 && r != -ERANGE)
                        return r;
                if (r == 0 && sig(p, 3, 4)) {
                        /* Members before the first listed one: hidden members
                         * if they chain up to it, else another zip (scanned as
                         * the prefix, with its own directory). */
                        if ((r = chain(z, 0, first, &chained)) != 0)
                                return r;
                } else {
                        /* A stub (self-extracting program, picture): a streaming
                         * reader would take a local header inside it for a member. */
                        bool found = has_local_sig(z, 0, first, &r);
                        if (r < 0)
                                return r;
                        if (found)
                                return verdict(z, VG_ZIP_AMBIGUOUS,
                                               "local header inside the data before the zip");
                }
                if (!chained)
                        z->map->prefix = first;
        }
        uint64_t pos = first;
        for (size_t i = 0; i < z->nents; i++) {
                const struct ent *e = &z->ents[i];
                if (pos < e->lho) {
                        bool chained;
                        if ((r = chain(z, pos, e->lho, &chained)) != 0)
                                return r;
                        if (!chained)
                                return verdict(z, VG_ZIP_AMBIGUOUS, "bytes between members");
                } else if (pos > e->lho) {
                        return verdict(z, VG_ZIP_AMBIGUOUS, "overlapping members");
                }
                struct local lh;
                if ((r = local_at(z, e->lho, z->size, e, &lh)) != 0)
                        return r;
                pos = lh.end;
        }
        if (pos < cd_start) {
                bool chained;
                if ((r = chain(z, pos, cd_start, &chained)) != 0)
                        return r;
                if (!chained)
                        return verdict(z, VG_ZIP_AMBIGUOUS, "bytes before the directory");
        } else if (pos > cd_start) {
                return verdict(z, VG_ZIP_AMBIGUOUS, "a member overlaps the directory");
        }
        return 0;
}

int vg_zip_map_read(int fd, uint64_t max_entries, struct vg_zip_map *ret)
{
        memset(ret, 0, sizeof(*ret));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size < 0)
                return -EINVAL;
        struct zm z = {
            .map = ret,
            .size = (uint64_t)st.st_size,
            .max_entries = max_entries,
            .cd = {.fd = fd, .size = (uint64_t)st.st_size},
            .lo = {.fd = fd, .size = (uint64_t)st.st_size},
        };
        ret->size = z.size;
        int r = -ENOMEM;
        z.cd.buf = malloc(WIN);
        z.lo.buf = malloc(WIN);
        if (!z.cd.buf || !z.lo.buf)
                goto out;
        struct eocd e = {0};
        if ((r = find_eocd(&z, &e)) == 0 && (r = read_cd(&z, &e)) == 0)
                r = walk(&z, e.adjusted);
        if (r == -ERANGE)
                r = verdict(&z, VG_ZIP_CORRUPT, "a structure runs past the end");
        if (r == STOP)
                r = 0;
out:
        free(z.cd.buf);
        free(z.lo.buf);
        free(z.ents);
        if (r < 0)
                vg_zip_map_free(ret);
        else if (ret->verdict != VG_ZIP_OK)
                ret->nhidden = 0; /* nothing to scan separately: the zip is held */
        return r;
}

void vg_zip_map_free(struct vg_zip_map *m)
{
        if (!m)
                return;
        free(m->hidden);
        m->hidden = NULL;
        m->nhidden = 0;
}
