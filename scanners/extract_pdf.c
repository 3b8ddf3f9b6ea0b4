/* PDF through poppler-glib: the document's info strings, the text of every page in
 * page order (pages never joined into one identifier), the text of annotations,
 * and embedded files scanned as objects of their own.
 *
 * Most PDFs never reach poppler: the fast path (pdf_fast.c) reads the common ones
 * directly, about ten times cheaper, and hands the file back here whenever it is
 * unsure; everything below is then done exactly as before it existed.
 *
 * Fail closed where poppler would quietly read less than the file holds:
 * - a user password: `encrypted` (an owner password alone only restricts
 *   permissions: the file opens and is read);
 * - a file poppler cannot open: `corrupt`; a file that does not end with %%EOF
 *   (truncated, or more than 1 KiB appended after its end) is read as far as
 *   poppler can reconstruct it and held as `corrupt` all the same, because the lost
 *   part may be what mattered; a few bytes appended after %%EOF are scanned as
 *   text, since poppler never reads them;
 * - text poppler could not decode because a predefined CMap or a character
 *   collection is missing (poppler-data absent, or hidden by a sandbox): `charset`;
 * - a page or an embedded file poppler gives up on: `corrupt`.
 * poppler reports these only through its error callback, which poppler-glib sends
 * to g_log (domain "Poppler"); vg_pdf_preload() installs the handler that both
 * silences it (the engine does not log) and records what it says about the object
 * being read. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pdf_fast.h"
#include "scan_internal.h"

/* Acrobat looks for %%EOF in the last 1024 bytes; so do we. */
#define TAIL_MAX 1024
/* Larger PDFs are left to poppler: the fast path holds the whole file (and, at
 * worst, 32 MiB of parsed objects, a 32 MiB stream and 16 MiB of text). */
#define FAST_MAX_FILE (32u << 20)

/* Which path reads PDFs (pdf_fast.c), from VIGIE_PDF_FAST read once when the
 * first engine is created (vg_pdf_preload): unset or "auto", the fast path with
 * poppler as its fall-back; "off", poppler alone (the slow path, as before the
 * fast path existed); "only", the fast path alone, a PDF it is unsure of being
 * unscannable `unsupported` (tests use it to see which PDFs it takes). */
enum fast_mode { FAST_AUTO, FAST_OFF, FAST_ONLY };
static enum fast_mode fast_mode;

/* What poppler said while one object was read. */
struct pdf_trouble {
        bool charset; /* a CMap or collection missing: some text was not decoded */
        bool no_font; /* text shown with a font poppler could not build: dropped */
        bool damaged; /* poppler-glib warned (a part it could not build) */
};

/* poppler's error callback is process-wide and carries no per-call data, so the
 * object being read is named by a thread-local pointer, set only while poppler
 * runs on its behalf. */
static __thread struct pdf_trouble *current_trouble;

static void on_poppler_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                           gpointer data)
{
        (void)domain;
        (void)data;
        struct pdf_trouble *t = current_trouble;
        if (!t || !msg)
                return;
        if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
                t->damaged = true;
                return;
        }
        /* poppler's own messages (GlobalParams.cc, CMap.cc, GfxFont.cc, Gfx.cc),
         * stable for years and covered by test_pdf.py: the font's codes cannot be
         * turned into text without the named table (poppler-data missing, or a
         * name poppler does not know), and the text drawn with that font is then
         * dropped without any other sign. */
        if (strstr(msg, "Missing language pack") || strstr(msg, "Unknown CMap") ||
            (strstr(msg, "CMap file") && strstr(msg, "find")) ||
            strstr(msg, "Unknown character collection") ||
            strstr(msg, "Unknown CID font collection"))
                t->charset = true;
        else if (strstr(msg, "No font in show"))
                t->no_font = true;
}

/* A tiny, valid PDF, read once by vg_pdf_preload() (its xref offsets are exact). */
static const char preload_pdf[] = "%PDF-1.4\n"
                                  "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                                  "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
                                  "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] "
                                  "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>\n"
                                  "endobj\n"
                                  "4 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                                  "/Encoding /WinAnsiEncoding >>\nendobj\n"
                                  "5 0 obj\n<< /Length 36 >>\nstream\n"
                                  "BT /F1 12 Tf 20 100 Td (vigie) Tj ET"
                                  "\nendstream\nendobj\n"
                                  "xref\n0 6\n"
                                  "0000000000 65535 f \n"
                                  "0000000009 00000 n \n"
                                  "0000000058 00000 n \n"
                                  "0000000115 00000 n \n"
                                  "0000000241 00000 n \n"
                                  "0000000338 00000 n \n"
                                  "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n424\n%%EOF\n";

/* ---- poppler-data from memory ----------------------------------------------
 * poppler reads a predefined CMap (cMap/<collection>/<name>) or a collection's
 * CID-to-Unicode table (cidToUnicode/<collection>) with fopen() the first time a
 * font needs it, and caches only the last four of each. A confined worker may not
 * open anything by name (its seccomp filter), and poppler has no API to be handed
 * these tables, so they are mapped here, before confinement (read-only and shared
 * with the page cache: about 12 MB of address space of which only the pages read
 * become resident), and poppler's fopen() of one of those paths is answered from
 * the mapping with fmemopen(), which makes no system call of its own. Any other
 * fopen() goes to the C library untouched. Without poppler-data nothing is mapped
 * and such fonts make the PDF unscannable `charset` (see on_poppler_log). */
#ifndef VG_POPPLER_DATADIR
#define VG_POPPLER_DATADIR "/usr/share/poppler" /* POPPLER_DATADIR of Debian's poppler */
#endif
#define PDATA_MAX_FILES 4096       /* poppler-data 0.4.12 has 246 such files */
#define PDATA_MAX_SIZE  (8u << 20) /* the largest is under 1 MB */

struct pdata_file {
        char *path;
        void *map;
        size_t len;
};

/* Written once by vg_pdf_preload(), then read-only; published with release/acquire
 * so an fopen() in another thread sees a complete table or none. */
static struct pdata_file *pdata;
static size_t pdata_n;

static int pdata_map(struct pdata_file *t, size_t *n, const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        int e = 0;
        if (fstat(fd, &st) < 0)
                e = -errno;
        else if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PDATA_MAX_SIZE ||
                 *n >= PDATA_MAX_FILES)
                e = -EFBIG; /* skipped: poppler opens it itself, as it would anyway */
        void *m = MAP_FAILED;
        if (!e && (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED)
                e = -errno;
        close(fd);
        if (e < 0)
                return e;
        char *p = strdup(path);
        if (!p) {
                munmap(m, (size_t)st.st_size);
                return -ENOMEM;
        }
        t[(*n)++] = (struct pdata_file){.path = p, .map = m, .len = (size_t)st.st_size};
        return 0;
}

/* Maps the regular files of dir, and those one level below when deep. */
static void pdata_walk(struct pdata_file *t, size_t *n, const char *dir, bool deep)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char *path = g_build_filename(dir, de->d_name, NULL);
                struct stat st;
                if (stat(path, &st) == 0) {
                        if (S_ISDIR(st.st_mode) && deep)
                                pdata_walk(t, n, path, false);
                        else if (S_ISREG(st.st_mode))
                                (void)pdata_map(t, n, path);
                }
                g_free(path);
        }
        closedir(d);
}

static void pdata_load(void)
{
        struct pdata_file *t = calloc(PDATA_MAX_FILES, sizeof(*t));
        if (!t)
                return; /* poppler opens the files itself, as it would anyway */
        size_t n = 0;
        pdata_walk(t, &n, VG_POPPLER_DATADIR "/cMap", true);
        pdata_walk(t, &n, VG_POPPLER_DATADIR "/cidToUnicode", false);
        __atomic_store_n(&pdata, t, __ATOMIC_RELEASE);
        __atomic_store_n(&pdata_n, n, __ATOMIC_RELEASE);
}

static FILE *(*libc_fopen)(const char *, const char *);

/* Interposes the C library's fopen() for the whole process (see above). */
FILE *fopen(const char *restrict path, const char *restrict mode)
{
        static const char prefix[] = VG_POPPLER_DATADIR "/";
        if (path && mode && mode[0] == 'r' && !strchr(mode, '+') &&
            strncmp(path, prefix, sizeof(prefix) - 1) == 0) {
                size_t n = __atomic_load_n(&pdata_n, __ATOMIC_ACQUIRE);
                const struct pdata_file *t = __atomic_load_n(&pdata, __ATOMIC_ACQUIRE);
                for (size_t i = 0; t && i < n; i++)
                        if (strcmp(t[i].path, path) == 0)
                                return fmemopen(t[i].map, t[i].len, "r");
        }
        FILE *(*real)(const char *, const char *) = __atomic_load_n(&libc_fopen, __ATOMIC_ACQUIRE);
        if (!real) {
                real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
                if (!real) {
                        errno = ENOSYS;
                        return NULL;
                }
                __atomic_store_n(&libc_fopen, real, __ATOMIC_RELEASE);
        }
        return real(path, mode);
}

/* poppler builds its global state (GlobalParams: the poppler-data tables, the
 * CMap and CID-to-Unicode caches) when the first document opens and tears it down
 * when the last one closes. Keeping one document open for the life of the process
 * means that state is built once, up front: no per-PDF rebuild, and nothing of it
 * loaded lazily after a worker has confined itself. */
/* volatile: never read, so the compiler would drop the store, and leak checkers
 * would see the document as lost (likewise utf16_pins). */
static PopplerDocument *volatile keepalive;
/* poppler-glib turns UTF-16 info and annotation strings into UTF-8 with
 * g_convert(), which makes glibc load its UTF-16 converter module on first use.
 * Converters held open keep that module loaded. */
static GIConv volatile utf16_pins[2];

int vg_pdf_preload(void)
{
        static gsize done;
        static int result;
        if (g_once_init_enter(&done)) {
                pdata_load();
                g_log_set_handler("Poppler",
                                  G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                                  on_poppler_log, NULL);
                GBytes *b = g_bytes_new_static(preload_pdf, sizeof(preload_pdf) - 1);
                GError *err = NULL;
                PopplerDocument *doc = poppler_document_new_from_bytes(b, NULL, &err);
                g_bytes_unref(b);
                result = -EIO;
                if (doc) {
                        /* Reading a page builds the text machinery (types, the
                         * built-in fonts and encodings) too. */
                        PopplerPage *page = poppler_document_get_page(doc, 0);
                        char *text = page ? poppler_page_get_text(page) : NULL;
                        if (text && strstr(text, "vigie"))
                                result = 0;
                        g_free(text);
                        if (page)
                                g_object_unref(page);
                        keepalive = doc;
                }
                g_clear_error(&err);
                const char *m = getenv("VIGIE_PDF_FAST");
                fast_mode = !m || !*m || strcmp(m, "auto") == 0 ? FAST_AUTO
                            : strcmp(m, "only") == 0            ? FAST_ONLY
                                                                : FAST_OFF;
                utf16_pins[0] = g_iconv_open("UTF-8", "UTF-16BE");
                utf16_pins[1] = g_iconv_open("UTF-8", "UTF-16LE");
                if (utf16_pins[0] == (GIConv)-1 || utf16_pins[1] == (GIConv)-1)
                        result = -EIO;
                g_once_init_leave(&done, 1);
        }
        return result;
}

static bool accepts(const char *type)
{
        return strcmp(type, "application/pdf") == 0;
}

/* Pushes one piece of text (NULL allowed) as a paragraph of its own. */
static int push(struct vg_layer *l, const char *s)
{
        if (!s || !*s)
                return 0;
        size_t n = strlen(s);
        int e = vg_layer_charge(l, n);
        if (!e)
                e = vg_layer_text(l, s, n);
        if (!e)
                e = vg_layer_text_break(l);
        return e;
}

static int push_owned(struct vg_layer *l, char *s)
{
        int e = push(l, s);
        g_free(s);
        return e;
}

static ssize_t pread_full(int fd, void *buf, size_t n, off_t off)
{
        size_t got = 0;
        while (got < n) {
                ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        break;
                got += (size_t)r;
        }
        return (ssize_t)got;
}

/* The end of the file: %%EOF must be in the last TAIL_MAX bytes. Returns 0 when it
 * is (bytes after it, other than white space, are pushed as text), 1 when it is
 * not, or a negative errno. */
static int check_tail(struct vg_layer *l, int fd)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        size_t n = st.st_size < TAIL_MAX ? (size_t)st.st_size : TAIL_MAX;
        char buf[TAIL_MAX];
        ssize_t r = pread_full(fd, buf, n, st.st_size - (off_t)n);
        if (r < 0)
                return (int)r;
        n = (size_t)r;
        const char *eof = NULL;
        for (const char *p = buf; (p = memmem(p, n - (size_t)(p - buf), "%%EOF", 5)); p += 5)
                eof = p;
        if (!eof)
                return 1;
        const char *after = eof + 5;
        size_t rest = n - (size_t)(after - buf);
        for (size_t i = 0; i < rest; i++) {
                unsigned char c = (unsigned char)after[i];
                if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != 0) {
                        int e = vg_layer_text(l, after, rest);
                        return e < 0 ? e : vg_layer_text_break(l);
                }
        }
        return 0;
}

struct spool {
        struct vg_layer *l;
        int fd;
        int err;
};

static gboolean spool_write(const gchar *buf, gsize count, gpointer data, GError **error)
{
        (void)error;
        struct spool *s = data;
        if ((s->err = vg_layer_charge(s->l, count)) < 0)
                return FALSE;
        while (count > 0) {
                ssize_t w = write(s->fd, buf, count);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        s->err = -errno;
                        return FALSE;
                }
                buf += w;
                count -= (size_t)w;
        }
        return TRUE;
}

/* An embedded file, spooled to an unlinked temporary file as poppler decodes it
 * (every byte charged), then scanned as a member of its own. */
static int scan_attachment(struct vg_layer *l, PopplerAttachment *att, unsigned index)
{
        int e = vg_layer_count_member(l);
        if (e < 0)
                return e;
        const char *name = poppler_attachment_get_name(att);
        char fallback[32];
        if (!name || !*name) {
                snprintf(fallback, sizeof(fallback), "attachment-%u", index);
                name = fallback;
        }
        struct spool s = {.l = l, .fd = -1};
        struct vg_input *in = NULL;
        s.fd = open(vg_layer_tmpdir(l), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (s.fd < 0)
                return -errno;
        GError *err = NULL;
        if (!poppler_attachment_save_to_callback(att, spool_write, &s, &err)) {
                e = s.err;
                if (!e) /* poppler could not decode it */
                        e = vg_layer_child_unscannable(l, name, VG_REASON_CORRUPT);
                goto out;
        }
        in = malloc(sizeof(*in));
        if (!in) {
                e = -ENOMEM;
                goto out;
        }
        vg_input_init_fd(in, s.fd);
        e = vg_layer_child(l, name, in);
out:
        g_clear_error(&err);
        free(in);
        close(s.fd);
        return e;
}

static int scan_annots(struct vg_layer *l, PopplerPage *page, unsigned *n_attached)
{
        GList *map = poppler_page_get_annot_mapping(page);
        int e = 0;
        for (GList *it = map; it && !e; it = it->next) {
                PopplerAnnot *a = ((PopplerAnnotMapping *)it->data)->annot;
                e = push_owned(l, poppler_annot_get_contents(a));
                if (!e && POPPLER_IS_ANNOT_MARKUP(a)) {
                        PopplerAnnotMarkup *m = POPPLER_ANNOT_MARKUP(a);
                        e = push_owned(l, poppler_annot_markup_get_label(m));
                        if (!e)
                                e = push_owned(l, poppler_annot_markup_get_subject(m));
                }
                if (!e && POPPLER_IS_ANNOT_FILE_ATTACHMENT(a)) {
                        PopplerAttachment *att = poppler_annot_file_attachment_get_attachment(
                            POPPLER_ANNOT_FILE_ATTACHMENT(a));
                        if (att) {
                                e = scan_attachment(l, att, ++*n_attached);
                                g_object_unref(att);
                        } else {
                                e = vg_layer_child_unscannable(l, "attachment", VG_REASON_CORRUPT);
                        }
                }
        }
        poppler_page_free_annot_mapping(map);
        return e;
}

static int scan_document(struct vg_layer *l, PopplerDocument *doc)
{
        int e = push_owned(l, poppler_document_get_title(doc));
        if (!e)
                e = push_owned(l, poppler_document_get_author(doc));
        if (!e)
                e = push_owned(l, poppler_document_get_subject(doc));
        if (!e)
                e = push_owned(l, poppler_document_get_keywords(doc));
        unsigned n_attached = 0;
        int pages = poppler_document_get_n_pages(doc);
        /* The time limit is checked between pages, so millions of pages stop at it;
         * one page is read whole by poppler (it cannot be interrupted inside). */
        for (int i = 0; i < pages && !e; i++) {
                if ((e = vg_layer_check_time(l)) < 0)
                        break;
                PopplerPage *page = poppler_document_get_page(doc, i);
                if (!page) {
                        vg_layer_fail(l, VG_REASON_CORRUPT);
                        continue;
                }
                e = push_owned(l, poppler_page_get_text(page));
                if (!e)
                        e = scan_annots(l, page, &n_attached);
                g_object_unref(page);
        }
        if (e)
                return e;
        GList *atts = poppler_document_get_attachments(doc);
        for (GList *it = atts; it; it = it->next) {
                if (!e)
                        e = scan_attachment(l, it->data, ++n_attached);
                g_object_unref(it->data);
        }
        g_list_free(atts);
        return e;
}

/* A descriptor for poppler, which takes ownership of it (and treats fd 0 as
 * standard input: keep clear of 0-2). */
static int fd_for_poppler(struct vg_input *in, const char *tmpdir, int *ret_fd)
{
        int fd = -1;
        bool owned;
        int e = vg_input_as_fd(in, tmpdir, &fd, &owned);
        if (e < 0)
                return e;
        int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int saved = errno;
        if (owned)
                close(fd);
        if (d < 0)
                return -saved;
        *ret_fd = d;
        return 0;
}

/* The fast path on the whole file: 1 when it read it, 0 when poppler must, or a
 * negative errno. */
static int try_fast(struct vg_layer *l, int fd)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || (uint64_t)st.st_size > FAST_MAX_FILE)
                return 0;
        size_t n = (size_t)st.st_size;
        unsigned char *buf = malloc(n);
        if (!buf)
                return -ENOMEM;
        ssize_t r = pread_full(fd, buf, n, 0);
        int e = r < 0 ? (int)r : (size_t)r != n ? 0 : vg_pdf_fast(l, buf, n);
        free(buf);
        return e;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        int e = vg_pdf_preload();
        if (e < 0)
                return e;
        int fd = -1;
        if ((e = fd_for_poppler(in, vg_layer_tmpdir(l), &fd)) < 0)
                return e;
        int tail = check_tail(l, fd);
        if (tail < 0) {
                close(fd);
                return tail;
        }
        /* The fast path, for a file that ends as it should; poppler for the rest
         * and whenever the fast path is unsure. */
        if (fast_mode != FAST_OFF) {
                int f = tail == 0 ? try_fast(l, fd) : 0;
                if (f != 0 || fast_mode == FAST_ONLY) {
                        close(fd);
                        if (f < 0)
                                return f;
                        return f == 0 ? vg_layer_fail(l, VG_REASON_UNSUPPORTED) : 0;
                }
        }
        struct pdf_trouble trouble = {0};
        struct pdf_trouble *outer = current_trouble; /* an embedded PDF nests */
        current_trouble = &trouble;
        GError *err = NULL;
        PopplerDocument *doc = poppler_document_new_from_fd(fd, NULL, &err); /* takes fd */
        if (!doc) {
                if (g_error_matches(err, POPPLER_ERROR, POPPLER_ERROR_ENCRYPTED))
                        e = vg_layer_fail(l, VG_REASON_ENCRYPTED);
                else if (err && err->domain == G_FILE_ERROR)
                        e = vg_layer_fail(l, VG_REASON_IO_ERROR);
                else
                        e = vg_layer_fail(l, VG_REASON_CORRUPT);
        } else {
                e = scan_document(l, doc);
                g_object_unref(doc);
        }
        current_trouble = outer;
        g_clear_error(&err);
        if (e < 0)
                return e;
        /* What was read was scanned; what was lost keeps the object held. */
        if (trouble.charset)
                return vg_layer_fail(l, VG_REASON_CHARSET);
        if (tail == 1 || trouble.damaged || trouble.no_font)
                return vg_layer_fail(l, VG_REASON_CORRUPT);
        return 0;
}

const struct vg_extractor vg_extract_pdf = {
    .name = "pdf",
    .accepts = accepts,
    .run = run,
};
