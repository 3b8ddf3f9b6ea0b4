/* Archives and compressed streams through libarchive. Members are streamed to the
 * layer below, never extracted to disk; every byte that comes out is charged to
 * the scan's budget as it comes out, so a bomb stops early. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan_internal.h"

#define BLOCK (64 * 1024)

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
};

static const struct {
        const char *type;
        enum kind kind;
} kinds[] = {
    {"application/zip", K_ZIP},
    {"application/java-archive", K_ZIP},
    {"application/x-7z-compressed", K_7Z},
    {"application/x-tar", K_TAR},
    {"application/x-gtar", K_TAR},
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
};

static enum kind kind_of(const char *type)
{
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (strcmp(type, kinds[i].type) == 0)
                        return kinds[i].kind;
        /* Office Open XML and OpenDocument files are zips too; until they have an
         * extractor of their own, their XML parts are scanned as text. */
        if (strncmp(type, "application/vnd.openxmlformats-officedocument.", 46) == 0 ||
            strncmp(type, "application/vnd.oasis.opendocument.", 35) == 0 ||
            strncmp(type, "application/vnd.ms-", 19) == 0 /* xlsm, docm, pptm */)
                return K_ZIP;
        return K_NONE;
}

static bool accepts(const char *type)
{
        return kind_of(type) != K_NONE;
}

/* Where libarchive reads from: a regular file (seekable), or the layer's input. */
struct source {
        struct vg_input *in;
        int fd;
        off_t pos;
        off_t size;
        size_t last_len; /* bytes of the last block handed to libarchive */
        int err;
        char buf[BLOCK];
};

static la_ssize_t src_read(struct archive *a, void *ctx, const void **out)
{
        (void)a;
        struct source *s = ctx;
        ssize_t r;
        if (s->fd >= 0) {
                do
                        r = pread(s->fd, s->buf, BLOCK, s->pos);
                while (r < 0 && errno == EINTR);
                if (r < 0)
                        r = -errno;
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
        int e = vg_layer_charge(m->l, (uint64_t)r);
        if (e < 0) {
                m->err = e;
                return e;
        }
        return r;
}

static void configure(struct archive *a, enum kind k)
{
        archive_read_support_filter_all(a);
        switch (k) {
        case K_ZIP:
                archive_read_support_format_zip_seekable(a);
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
                        do
                                r = pread(s->fd, s->buf, BLOCK, s->pos);
                        while (r < 0 && errno == EINTR);
                        if (r < 0)
                                return -errno;
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

static int run(struct vg_layer *l, struct vg_input *in)
{
        enum kind k = kind_of(l->type);
        bool seek = k == K_ZIP || k == K_7Z;
        struct source *src = calloc(1, sizeof(*src));
        struct vg_input *min = malloc(sizeof(*min));
        struct archive *a = archive_read_new();
        char *rname = NULL;
        bool own_fd = false;
        int e = 0;
        if (!src || !min || !a) {
                e = -ENOMEM;
                goto out;
        }
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
        configure(a, k);
        archive_read_set_read_callback(a, src_read);
        if (seek)
                archive_read_set_seek_callback(a, src_seek);
        archive_read_set_callback_data(a, src);
        if (archive_read_open1(a) != ARCHIVE_OK) {
                e = src->err ? src->err : classify(a, false);
                goto out;
        }
        struct member m = {.a = a, .l = l};
        for (;;) {
                struct archive_entry *ent;
                int r = archive_read_next_header(a, &ent);
                if (r == ARCHIVE_EOF) {
                        if (k == K_TAR)
                                e = tar_tail(a, src, l);
                        break;
                }
                if (r < ARCHIVE_WARN) {
                        e = src->err              ? src->err
                            : vg_layer_aborted(l) ? -ECANCELED
                                                  : classify(a, true);
                        break;
                }
                if ((e = vg_layer_count_member(l)) < 0)
                        break;
                if (archive_entry_filetype(ent) != AE_IFREG)
                        continue; /* directories, links, devices: no content of their own */
                const char *name = archive_entry_pathname_utf8(ent);
                if (!name)
                        name = archive_entry_pathname(ent);
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
out:
        if (a)
                archive_read_free(a);
        if (own_fd)
                close(src->fd);
        free(src);
        free(min);
        free(rname);
        return e;
}

const struct vg_extractor vg_extract_archive = {
    .name = "archive",
    .accepts = accepts,
    .run = run,
};
