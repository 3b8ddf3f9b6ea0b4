/* Archives and compressed streams through libarchive. Members are streamed to the
 * layer below, never extracted to disk; every byte that comes out is charged to
 * the scan's budget as it comes out, so a bomb stops early.
 *
 * A zip is read two ways (zip_map.c): by its central directory and by its local
 * headers in file order. Each member is decompressed once:
 *  1. the map lists both readings from the headers alone (names, offsets, sizes,
 *     CRCs), decompressing nothing; if they disagree in a way that cannot be
 *     resolved by scanning more (overlapping entries, a name or size that differs
 *     between the two, bytes that belong to no member), the zip is held as
 *     `ambiguous` before anything is inflated, which also stops Fifield's
 *     overlapping bomb at no cost;
 *  2. libarchive's seekable reader decompresses the members the directory lists;
 *  3. members found only by their local header (hidden from the directory) are
 *     decompressed one by one by libarchive's streaming reader, over the exact
 *     bytes the map delimited;
 *  4. bytes before the first member (a self-extracting stub, or a whole other zip
 *     when two were concatenated) are scanned as an object of their own named
 *     "[prefix]": a zip there is read with its own directory.
 * Reading everything with the streaming reader alone would be simpler but would
 * trust local headers that a directory-based tool ignores; reading both fully
 * would inflate every member twice.
 *
 * A zip may also end a file typed as something else: unzip tools find it from
 * the end (self-extracting programs, a zip behind a picture). Programs, unknown
 * binaries and media are therefore looked at from their end too (run_probe).
 *
 * gzip goes through zlib rather than libarchive, which checks no gzip CRC
 * (run_gzip). Members of tar, cpio and ISO 9660 images are not charged to the
 * expansion budget again: their bytes were charged where they were produced. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "scan_internal.h"
#include "zip_map.h"

#define BLOCK       (64 * 1024)
#define PREFIX_NAME "[prefix]"
/* The end of a zip fits in the last 16 KiB (libarchive looks there only). */
#define ZIP_TAIL (16 * 1024 + 22)

enum kind {
        K_NONE,
        K_ZIP, /* read through the central directory: needs seeking */
        K_7Z,  /* needs seeking */
        K_TAR,
        K_STREAM, /* a compressed stream: one member, the decompressed bytes */
        K_RAR,
        K_CAB,
        K_ISO,
        K_CPIO,
        K_ZIP_LOCAL, /* one member hidden from a zip's directory: streaming reader */
        K_EXEC,      /* a program: may be a self-extracting zip */
        K_PROBE,     /* unknown binaries and media: may hide a zip at their end */
};

static const struct {
        const char *type;
        enum kind kind;
} kinds[] = {
    {"application/zip", K_ZIP},
    {"application/x-zip-compressed", K_ZIP},
    {"application/java-archive", K_ZIP},
    {"application/x-7z-compressed", K_7Z},
    {"application/x-tar", K_TAR},
    {"application/x-gtar", K_TAR},
    {"application/x-ustar", K_TAR},
    {"application/gzip", K_STREAM},
    {"application/x-gzip", K_STREAM},
    {"application/x-bzip2", K_STREAM},
    {"application/x-xz", K_STREAM},
    {"application/zstd", K_STREAM},
    {"application/x-zstd", K_STREAM},
    {"application/x-lzma", K_STREAM},
    {"application/x-lz4", K_STREAM},
    {"application/x-lzip", K_STREAM},
    {"application/x-compress", K_STREAM},
    {"application/x-rar", K_RAR},
    {"application/vnd.rar", K_RAR},
    {"application/x-rar-compressed", K_RAR},
    {"application/vnd.ms-cab-compressed", K_CAB},
    {"application/x-iso9660-image", K_ISO},
    {"application/x-cpio", K_CPIO},
    {"application/x-executable", K_EXEC},
    {"application/x-pie-executable", K_EXEC},
    {"application/x-sharedlib", K_EXEC},
    {"application/x-dosexec", K_EXEC},
    {"application/vnd.microsoft.portable-executable", K_EXEC},
    {"application/x-mach-binary", K_EXEC},
    {"application/octet-stream", K_PROBE},
};

static bool is_media(const char *type)
{
        return strncmp(type, "image/", 6) == 0 || strncmp(type, "audio/", 6) == 0 ||
               strncmp(type, "video/", 6) == 0;
}

static enum kind kind_of(const char *type)
{
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (strcmp(type, kinds[i].type) == 0)
                        return kinds[i].kind;
        /* Office Open XML and OpenDocument files are zips too (the office
         * extractor, first in the table, reads them as documents; a damaged one
         * falls back to here). Legacy binary Office types (application/vnd.ms-excel,
         * vnd.ms-powerpoint) are OLE files, not zips: the binary extractor reads
         * their printable runs. */
        if (strncmp(type, "application/vnd.openxmlformats-officedocument.", 46) == 0 ||
            strncmp(type, "application/vnd.oasis.opendocument.", 35) == 0 ||
            (strncmp(type, "application/vnd.ms-", 19) == 0 && strstr(type, "macroEnabled")))
                return K_ZIP;
        /* A picture or a sound with a zip appended is both: unzip tools read the
         * zip, so we must too (the picture itself is still not read). */
        if (is_media(type))
                return K_PROBE;
        return K_NONE;
}

static bool accepts(const char *type)
{
        return kind_of(type) != K_NONE;
}

/* Where libarchive reads from: a region [base, base + size) of a regular file
 * (seekable), or the layer's input. */
struct source {
        struct vg_input *in;
        int fd;
        off_t base;
        off_t pos;
        off_t size;
        size_t last_len; /* bytes of the last block handed to libarchive */
        int err;
        char buf[BLOCK];
};

static ssize_t pread_full(int fd, void *buf, size_t n, off_t off)
{
        ssize_t r;
        do
                r = pread(fd, buf, n, off);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : r;
}

static la_ssize_t src_read(struct archive *a, void *ctx, const void **out)
{
        (void)a;
        struct source *s = ctx;
        ssize_t r;
        if (s->fd >= 0) {
                size_t n = BLOCK;
                if (s->pos >= s->size)
                        n = 0;
                else if ((off_t)n > s->size - s->pos)
                        n = (size_t)(s->size - s->pos);
                r = n ? pread_full(s->fd, s->buf, n, s->base + s->pos) : 0;
        } else {
                r = vg_input_read(s->in, s->buf, BLOCK);
        }
        if (r < 0) {
                s->err = (int)r;
                return -1;
        }
        s->pos += r;
        s->last_len = (size_t)r;
        *out = s->buf;
        return r;
}

static la_int64_t src_seek(struct archive *a, void *ctx, la_int64_t off, int whence)
{
        (void)a;
        struct source *s = ctx;
        off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->size;
        off_t np = base + off;
        if (np < 0)
                return ARCHIVE_FATAL;
        s->pos = np;
        return np;
}

/* What one member's bytes go through on their way to the layer below. */
struct member {
        struct archive *a;
        struct vg_layer *l;
        /* Bytes that come out of a decompressor are charged to max_expanded and
         * max_ratio. A tar, cpio or ISO 9660 image only slices bytes that were
         * charged where they were produced (or are the file itself): charging
         * them again would count a 1 GB tar.gz as 2 GB. Time is checked anyway. */
        bool charge;
        int err;
};

/* Why libarchive gave up. archive_read_has_encrypted_entries() is only asked
 * once a format was chosen: libarchive 3.6 crashes when asked before. */
static int classify(struct archive *a, bool opened)
{
        const char *msg = archive_error_string(a);
        if ((opened && archive_read_has_encrypted_entries(a) > 0) ||
            (msg && (strstr(msg, "ncrypt") || strstr(msg, "assphrase"))))
                return -ENOKEY;
        return -EBADMSG;
}

static ssize_t member_read(void *ctx, void *buf, size_t n)
{
        struct member *m = ctx;
        la_ssize_t r = archive_read_data(m->a, buf, n);
        if (r < 0) {
                m->err = vg_layer_aborted(m->l) ? -ECANCELED : classify(m->a, true);
                return m->err;
        }
        int e = m->charge ? vg_layer_charge(m->l, (uint64_t)r) : vg_layer_check_time(m->l);
        if (e < 0) {
                m->err = e;
                return e;
        }
        return r;
}

static void configure(struct archive *a, enum kind k)
{
        if (k != K_ZIP_LOCAL)
                archive_read_support_filter_all(a);
        switch (k) {
        case K_ZIP:
                archive_read_support_format_zip_seekable(a);
                break;
        case K_ZIP_LOCAL:
                archive_read_support_format_zip_streamable(a);
                break;
        case K_7Z:
                archive_read_support_format_7zip(a);
                break;
        case K_TAR:
                archive_read_support_format_tar(a);
                archive_read_support_format_gnutar(a);
                break;
        case K_STREAM:
                /* Decompression only: the stream's content is one member, sniffed
                 * like any other (a tar inside is read by the tar row). Letting
                 * libarchive guess tar here would take a stream of zeros for an
                 * empty tar and pass it unread. */
                archive_read_support_format_raw(a);
                break;
        case K_RAR:
                archive_read_support_format_rar(a);
                archive_read_support_format_rar5(a);
                break;
        case K_CAB:
                archive_read_support_format_cab(a);
                break;
        case K_ISO:
                archive_read_support_format_iso9660(a);
                break;
        case K_CPIO:
                archive_read_support_format_cpio(a);
                break;
        case K_NONE:
        case K_EXEC:
        case K_PROBE:
                break;
        }
}

static bool all_zero(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* tar stops at its end-of-archive blocks and ignores what follows, so bytes
 * hidden after them would never be read. What follows may only be the zero
 * padding of the last record; anything else makes the tar ambiguous. */
static int tar_tail(struct archive *a, struct source *s, struct vg_layer *l)
{
        la_int64_t used = archive_filter_bytes(a, 0);
        off_t last_start = s->pos - (off_t)s->last_len;
        if (used < 0 || used > s->pos || used < last_start)
                return vg_layer_fail(l, VG_REASON_AMBIGUOUS);
        if (!all_zero(s->buf + (used - last_start), (size_t)(s->pos - used)))
                return vg_layer_fail(l, VG_REASON_AMBIGUOUS);
        for (;;) {
                ssize_t r;
                if (s->fd >= 0) {
                        r = s->pos < s->size ? pread_full(s->fd, s->buf, BLOCK, s->base + s->pos)
                                             : 0;
                        if (r < 0)
                                return (int)r;
                } else {
                        r = vg_input_read(s->in, s->buf, BLOCK);
                        if (r < 0)
                                return (int)r;
                }
                if (r == 0)
                        return 0;
                s->pos += r;
                if (!all_zero(s->buf, (size_t)r))
                        return vg_layer_fail(l, VG_REASON_AMBIGUOUS);
        }
}

/* The member of a lone compressed stream is named after the stream, less its
 * suffix: a.txt.gz holds a.txt. */
static char *raw_name(const char *name)
{
        static const char *const sfx[] = {".gz",   ".bz2", ".xz", ".zst", ".lz4",
                                          ".lzma", ".lz",  ".Z",  ".z"};
        static const char *const tar_sfx[] = {".tgz", ".tbz2", ".tbz", ".txz", ".tzst"};
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        size_t n = strlen(base);
        for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
                size_t k = strlen(sfx[i]);
                if (n > k && strcmp(base + n - k, sfx[i]) == 0)
                        return strndup(base, n - k);
        }
        for (size_t i = 0; i < sizeof(tar_sfx) / sizeof(tar_sfx[0]); i++) {
                size_t k = strlen(tar_sfx[i]);
                if (n > k && strcmp(base + n - k, tar_sfx[i]) == 0) {
                        char *p = malloc(n - k + 5);
                        if (p) {
                                memcpy(p, base, n - k);
                                memcpy(p + n - k, ".tar", 5);
                        }
                        return p;
                }
        }
        return strdup("data");
}

/* Entries that are not plain files. A file type libarchive cannot name (a RAR5
 * entry from an unknown system, odd mode bits) is read as a file: skipping it
 * would pass its content unread. A link has no content, but its target is text
 * of the archive. A directory or device that still declares content is one
 * thing to libarchive (which will not read it) and may be a file to another
 * tool: in a zip that member is held as ambiguous (an ISO 9660 directory has
 * a size of its own, and means no harm). Returns 1 when the entry was dealt
 * with, 0 when it is to be read as a file, or a negative errno. */
static int special_entry(struct vg_layer *l, enum kind k, struct archive_entry *ent,
                         const char *name)
{
        mode_t ft = archive_entry_filetype(ent);
        if (ft == AE_IFREG || ft == 0)
                return 0;
        if (ft == AE_IFLNK) {
                const char *t = archive_entry_symlink_utf8(ent);
                if (!t)
                        t = archive_entry_symlink(ent);
                int e = t ? vg_layer_text(l, t, strlen(t)) : 0;
                if (!e)
                        e = vg_layer_text_break(l);
                return e < 0 ? e : 1;
        }
        if ((k == K_ZIP || k == K_ZIP_LOCAL) && archive_entry_size_is_set(ent) &&
            archive_entry_size(ent) > 0) {
                int e =
                    vg_layer_child_unscannable(l, name && *name ? name : "?", VG_REASON_AMBIGUOUS);
                return e < 0 ? e : 1;
        }
        return 1;
}

/* Reads the members of an open archive, each handed to the layer below.
 * max_entries 0: all of them. */
static int read_entries(struct vg_layer *l, enum kind k, struct archive *a, struct source *src,
                        size_t max_entries)
{
        struct vg_input *min = malloc(sizeof(*min));
        char *rname = NULL;
        size_t seen = 0;
        int e = 0;
        if (!min)
                return -ENOMEM;
        struct member m = {.a = a, .l = l, .charge = k != K_TAR && k != K_CPIO && k != K_ISO};
        for (;;) {
                if (max_entries && seen == max_entries)
                        break;
                struct archive_entry *ent;
                int r = archive_read_next_header(a, &ent);
                if (r == ARCHIVE_EOF) {
                        if (k == K_TAR)
                                e = tar_tail(a, src, l);
                        else if (max_entries)
                                e = vg_layer_fail(l, VG_REASON_CORRUPT); /* the map saw one */
                        break;
                }
                if (r < ARCHIVE_WARN) {
                        e = src->err              ? src->err
                            : vg_layer_aborted(l) ? -ECANCELED
                                                  : classify(a, true);
                        break;
                }
                seen++;
                if ((e = vg_layer_count_member(l)) < 0)
                        break;
                const char *name = archive_entry_pathname_utf8(ent);
                if (!name)
                        name = archive_entry_pathname(ent);
                if ((e = special_entry(l, k, ent, name)) != 0) {
                        if (e < 0)
                                break;
                        e = 0;
                        continue;
                }
                if (archive_format(a) == ARCHIVE_FORMAT_RAW) {
                        free(rname);
                        if (!(rname = raw_name(l->name))) {
                                e = -ENOMEM;
                                break;
                        }
                        name = rname;
                }
                if (!name || !*name)
                        name = "?";
                if (archive_entry_is_data_encrypted(ent) > 0) {
                        if ((e = vg_layer_child_unscannable(l, name, VG_REASON_ENCRYPTED)) < 0)
                                break;
                        continue;
                }
                m.err = 0;
                vg_input_init_stream(min, member_read, &m);
                if ((e = vg_layer_child(l, name, min)) < 0)
                        break;
                /* A member whose data failed is recorded on its own layer; the
                 * archive goes on if libarchive can. */
        }
        free(min);
        free(rname);
        return e;
}

/* Opens an archive of kind k over src and reads its members. */
static int read_archive(struct vg_layer *l, enum kind k, struct source *src, size_t max_entries)
{
        struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        configure(a, k);
        archive_read_set_read_callback(a, src_read);
        if (src->fd >= 0 && k != K_ZIP_LOCAL)
                archive_read_set_seek_callback(a, src_seek);
        archive_read_set_callback_data(a, src);
        int e;
        if (archive_read_open1(a) != ARCHIVE_OK)
                e = src->err ? src->err : classify(a, false);
        else
                e = read_entries(l, k, a, src, max_entries);
        archive_read_free(a);
        return e;
}

static uint64_t members_left(const struct vg_layer *l)
{
        const struct vg_scan *s = l->scan;
        uint64_t max = s->engine->cfg.limits.max_members;
        return s->members >= max ? 0 : max - s->members;
}

/* Bytes of the zip's own file handed to a child (the prefix). */
struct region {
        struct vg_layer *l;
        int fd;
        uint64_t pos;
        uint64_t end;
};

static ssize_t region_read(void *ctx, void *buf, size_t n)
{
        struct region *r = ctx;
        if (r->pos >= r->end)
                return 0;
        if (n > r->end - r->pos)
                n = (size_t)(r->end - r->pos);
        ssize_t k = pread_full(r->fd, buf, n, (off_t)r->pos);
        if (k == 0)
                k = -EBADMSG; /* the file shrank under us */
        if (k < 0)
                return k;
        /* The zip's own bytes, charged where they were produced: time only. */
        int e = vg_layer_check_time(r->l);
        if (e < 0)
                return e;
        r->pos += (uint64_t)k;
        return k;
}

static int scan_prefix(struct vg_layer *l, int fd, uint64_t len)
{
        struct vg_input *in = malloc(sizeof(*in));
        if (!in)
                return -ENOMEM;
        struct region rg = {.l = l, .fd = fd, .pos = 0, .end = len};
        vg_input_init_stream(in, region_read, &rg);
        int e = vg_layer_child(l, PREFIX_NAME, in);
        free(in);
        return e;
}

/* A zip open on fd (see the top of this file). With `probe`, the file was typed
 * as something else (a program, a picture): when no zip ends it, *not_zip is set
 * and nothing is recorded. */
static int run_zip(struct vg_layer *l, int fd, bool probe, bool *not_zip)
{
        struct vg_zip_map map;
        struct source *src = NULL;
        int e = vg_zip_map_read(fd, members_left(l), &map);
        if (e < 0)
                return e;
        if (probe && (map.verdict == VG_ZIP_CORRUPT || !map.exact_end)) {
                *not_zip = true;
                goto out;
        }
        switch (map.verdict) {
        case VG_ZIP_OK:
                break;
        case VG_ZIP_AMBIGUOUS:
                e = vg_layer_fail(l, VG_REASON_AMBIGUOUS);
                goto out;
        case VG_ZIP_CORRUPT:
                e = vg_layer_fail(l, VG_REASON_CORRUPT);
                goto out;
        case VG_ZIP_TOO_MANY:
                e = vg_layer_fail(l, VG_REASON_LIMIT_MEMBERS);
                goto out;
        }
        if (map.prefix && (e = scan_prefix(l, fd, map.prefix)) < 0)
                goto out;
        if (!(src = calloc(1, sizeof(*src)))) {
                e = -ENOMEM;
                goto out;
        }
        *src = (struct source){.fd = fd, .size = (off_t)map.size};
        if ((e = read_archive(l, K_ZIP, src, 0)) < 0)
                goto out;
        for (size_t i = 0; i < map.nhidden; i++) {
                const struct vg_zip_hidden *h = &map.hidden[i];
                *src = (struct source){
                    .fd = fd, .base = (off_t)h->off, .size = (off_t)(h->end - h->off)};
                if ((e = read_archive(l, K_ZIP_LOCAL, src, 1)) < 0)
                        goto out;
        }
out:
        free(src);
        vg_zip_map_free(&map);
        return e;
}

/* The input read through, its last bytes kept: a stream typed as something else
 * whose end is a zip's end. On the way, a run of zero bytes longer than two is
 * passed on as two: runs of printable text, in ASCII or UTF-16LE, are cut by two
 * zeros as by a thousand, so the text found is the same, and a gigabyte of zeros
 * out of a decompression bomb is not walked through byte by byte. */
struct tee {
        struct vg_input *in;
        unsigned char tail[ZIP_TAIL];
        size_t len;
        uint64_t total;
        uint64_t zeros; /* length of the run of zeros at the end of what was read */
};

static void keep_tail(struct tee *t, const unsigned char *p, size_t k)
{
        t->total += k;
        if (k >= ZIP_TAIL) {
                memcpy(t->tail, p + k - ZIP_TAIL, ZIP_TAIL);
                t->len = ZIP_TAIL;
                return;
        }
        if (t->len + k > ZIP_TAIL) {
                size_t drop = t->len + k - ZIP_TAIL;
                memmove(t->tail, t->tail + drop, t->len - drop);
                t->len -= drop;
        }
        memcpy(t->tail + t->len, p, k);
        t->len += k;
}

/* The number of zero bytes p starts with. */
static size_t skip_zeros(const unsigned char *p, size_t n)
{
        static const unsigned char zero[256];
        size_t i = 0;
        while (n - i >= sizeof(zero) && memcmp(p + i, zero, sizeof(zero)) == 0)
                i += sizeof(zero);
        while (i < n && !p[i])
                i++;
        return i;
}

static ssize_t tee_read(void *ctx, void *buf, size_t n)
{
        struct tee *t = ctx;
        unsigned char *p = buf;
        for (;;) {
                ssize_t r = vg_input_read(t->in, buf, n);
                if (r <= 0)
                        return r;
                keep_tail(t, p, (size_t)r);
                size_t out = 0;
                for (size_t i = 0; i < (size_t)r;) {
                        if (t->zeros >= 2) {
                                /* inside a long run: skip it a block at a time */
                                size_t k = skip_zeros(p + i, (size_t)r - i);
                                i += k;
                                if (i == (size_t)r)
                                        break;
                        }
                        if (p[i])
                                t->zeros = 0;
                        else
                                t->zeros++;
                        if (t->zeros <= 2)
                                p[out++] = p[i];
                        i++;
                }
                if (out)
                        return (ssize_t)out;
                /* all zeros, already cut: read on (the producer charges and checks
                 * the time, so this ends) */
        }
}

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An end of central directory record that ends the stream exactly, with a
 * directory that fits before it: what unzip tools look for. */
static bool ends_like_zip(const struct tee *t)
{
        if (t->len < 22)
                return false;
        for (size_t i = t->len - 22 + 1; i-- > 0;) {
                const unsigned char *q = t->tail + i;
                if (q[0] != 'P' || q[1] != 'K' || q[2] != 5 || q[3] != 6)
                        continue;
                uint64_t pos = t->total - (t->len - i);
                size_t clen = (size_t)(q[20] | q[21] << 8);
                uint64_t cd = (uint64_t)le32(q + 12) + le32(q + 16);
                if (i + 22 + clen == t->len && cd <= pos)
                        return true;
        }
        return false;
}

/* Programs, unknown binaries and media: a zip may be appended to them
 * (self-extracting archives, a zip behind a picture). When one ends the file,
 * it is read as a zip and the rest as its prefix; else the object goes to the
 * extractor its type names. */
static int run_probe(struct vg_layer *l, struct vg_input *in, enum kind k)
{
        const struct vg_extractor *x = is_media(l->type) ? &vg_extract_media : &vg_extract_binary;
        int e;
        if (in->fd >= 0) {
                /* pread only: the input's position is untouched for x. */
                bool not_zip = false;
                e = run_zip(l, in->fd, true, &not_zip);
                return e == 0 && not_zip ? x->run(l, in) : e;
        }
        if (k == K_EXEC) {
                /* A self-extracting archive inside an archive: spooled, rarely big. */
                int fd;
                bool own = false, not_zip = false;
                if ((e = vg_input_as_fd(in, vg_layer_tmpdir(l), &fd, &own)) < 0)
                        return e;
                e = run_zip(l, fd, true, &not_zip);
                if (e == 0 && not_zip) {
                        struct vg_input *fin = malloc(sizeof(*fin));
                        if (fin) {
                                vg_input_init_fd(fin, fd);
                                e = x->run(l, fin);
                                free(fin);
                        } else {
                                e = -ENOMEM;
                        }
                }
                if (own)
                        close(fd);
                return e;
        }
        /* Any other stream is read once, as its type says, keeping its end: a zip
         * found there cannot be read again from a stream, so it is held. */
        struct tee *t = calloc(1, sizeof(*t));
        struct vg_input *w = malloc(sizeof(*w));
        unsigned char *buf = malloc(BLOCK);
        if (!t || !w || !buf) {
                e = -ENOMEM;
                goto out;
        }
        t->in = in;
        vg_input_init_stream(w, tee_read, t);
        e = x->run(l, w);
        for (ssize_t r = 1; e == 0 && r > 0;) {
                r = vg_input_read(w, buf, BLOCK);
                if (r < 0)
                        e = (int)r;
        }
        if (e == 0 && ends_like_zip(t))
                e = vg_layer_fail(l, VG_REASON_AMBIGUOUS);
out:
        free(t);
        free(w);
        free(buf);
        return e;
}

/* gzip is inflated with zlib rather than libarchive, whose gzip filter checks
 * neither the CRC nor the length of a member: a bit flipped inside the data
 * would then come out as silently altered text, and an identifier in the
 * altered part would pass as clean. zlib checks both at the end of each member.
 * Members are concatenated (RFC 1952 2.2), as gunzip reads them; after the last
 * one only zeros (padding) may follow, anything else is read by no tool and
 * makes the stream ambiguous, as with a tar. */
struct gz {
        struct vg_input *in;
        struct vg_layer *l;
        z_stream zs;
        bool between; /* at the end of a member */
        bool done;
        bool trailing; /* non-zero bytes after the last member */
        int err;
        unsigned char ibuf[BLOCK];
};

static ssize_t gz_read(void *ctx, void *buf, size_t n)
{
        struct gz *g = ctx;
        if (g->err)
                return g->err;
        if (g->done || n == 0)
                return 0;
        if (n > UINT_MAX)
                n = UINT_MAX;
        g->zs.next_out = buf;
        g->zs.avail_out = (uInt)n;
        while (g->zs.avail_out == n && !g->done) {
                if (g->zs.avail_in == 0) {
                        ssize_t r = vg_input_read(g->in, g->ibuf, BLOCK);
                        if (r < 0)
                                return g->err = (int)r;
                        if (r == 0) {
                                if (!g->between)
                                        return g->err = -EBADMSG; /* cut short */
                                g->done = true;
                                break;
                        }
                        g->zs.next_in = g->ibuf;
                        g->zs.avail_in = (uInt)r;
                }
                if (g->between) {
                        if (g->zs.next_in[0] == 0x1f) {
                                /* the next member; zlib checks its header */
                                if (inflateReset(&g->zs) != Z_OK)
                                        return g->err = -EBADMSG;
                                g->between = false;
                                continue;
                        }
                        if (!all_zero((const char *)g->zs.next_in, g->zs.avail_in)) {
                                g->trailing = true;
                                g->done = true;
                                break;
                        }
                        g->zs.avail_in = 0;
                        continue;
                }
                int z = inflate(&g->zs, Z_NO_FLUSH);
                if (z == Z_STREAM_END)
                        g->between = true;
                else if (z == Z_MEM_ERROR)
                        return g->err = -ENOMEM;
                else if (z != Z_OK && !(z == Z_BUF_ERROR && g->zs.avail_in == 0))
                        return g->err = -EBADMSG;
        }
        size_t got = n - g->zs.avail_out;
        int e = vg_layer_charge(g->l, got);
        if (e < 0)
                return g->err = e;
        return (ssize_t)got;
}

static int run_gzip(struct vg_layer *l, struct vg_input *in)
{
        struct gz *g = calloc(1, sizeof(*g));
        struct vg_input *min = malloc(sizeof(*min));
        char *name = raw_name(l->name);
        unsigned char *scratch = NULL;
        int e = -ENOMEM;
        bool init = false;
        if (!g || !min || !name)
                goto out;
        g->in = in;
        g->l = l;
        in->head_pos = 0;
        /* 16 + MAX_WBITS: a gzip wrapper, whose CRC-32 and length are checked */
        if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK)
                goto out;
        init = true;
        if ((e = vg_layer_count_member(l)) < 0)
                goto out;
        vg_input_init_stream(min, gz_read, g);
        if ((e = vg_layer_child(l, name, min)) < 0)
                goto out;
        /* What the member's reader left (a picture is not read) is still
         * inflated, so a damaged or padded end is seen and the budget charged. */
        if (!(scratch = malloc(BLOCK))) {
                e = -ENOMEM;
                goto out;
        }
        while (vg_input_read(min, scratch, BLOCK) > 0)
                ;
        if (g->err == -ECANCELED || vg_layer_aborted(l))
                e = -ECANCELED;
        else if (g->err)
                e = vg_layer_fail(l, VG_REASON_CORRUPT);
        else if (g->trailing)
                e = vg_layer_fail(l, VG_REASON_AMBIGUOUS);
out:
        if (init)
                inflateEnd(&g->zs);
        free(g);
        free(min);
        free(name);
        free(scratch);
        return e;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        enum kind k = kind_of(l->type);
        if (k == K_EXEC || k == K_PROBE)
                return run_probe(l, in, k);
        if (k == K_STREAM && in->head_len >= 2 && in->head[0] == 0x1f && in->head[1] == 0x8b)
                return run_gzip(l, in);
        bool seek = k == K_ZIP || k == K_7Z;
        struct source *src = calloc(1, sizeof(*src));
        bool own_fd = false;
        int e = 0;
        if (!src)
                return -ENOMEM;
        src->in = in;
        src->fd = -1;
        if (seek) {
                /* A member that needs seeking is spooled to an unlinked temporary
                 * file; its bytes were charged on their way out of the parent. */
                if ((e = vg_input_as_fd(in, vg_layer_tmpdir(l), &src->fd, &own_fd)) < 0)
                        goto out;
                src->size = lseek(src->fd, 0, SEEK_END);
                if (src->size < 0) {
                        e = -errno;
                        goto out;
                }
        } else {
                in->head_pos = 0;
        }
        if (k == K_ZIP) {
                bool not_zip = false;
                e = run_zip(l, src->fd, false, &not_zip);
        } else {
                e = read_archive(l, k, src, 0);
        }
out:
        if (own_fd)
                close(src->fd);
        free(src);
        return e;
}

const struct vg_extractor vg_extract_archive = {
    .name = "archive",
    .accepts = accepts,
    .run = run,
};
