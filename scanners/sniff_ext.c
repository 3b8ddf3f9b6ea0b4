/* Does a name's extension contradict the content's type? A docx renamed .jpg
 * or a zip renamed .txt is scanned by its content anyway (sniff.c); this only
 * says that the two disagree, for the report's "type_mismatch". One table row
 * per extension family: the types (exact, or a prefix ending in '/', '.' or '-')
 * that content with that extension may be sniffed as. Content libmagic cannot
 * name (octet-stream, empty) never contradicts anything. */
#include "sniff.h"

#include <ctype.h>
#include <string.h>

#define EXT_MAX 8

static const char *const t_text[] = {"text/",           "application/json", "application/xml",
                                     "application/csv", "message/rfc822",   NULL};
static const char *const t_xml[] = {"text/", "application/xml", "image/svg+xml", NULL};
static const char *const t_json[] = {"application/json", "text/", NULL};
static const char *const t_rtf[] = {"text/rtf", "application/rtf", "text/", NULL};
static const char *const t_eml[] = {"message/", "text/", NULL};
static const char *const t_pdf[] = {"application/pdf", NULL};
static const char *const t_jpeg[] = {"image/jpeg", NULL};
static const char *const t_png[] = {"image/png", NULL};
static const char *const t_gif[] = {"image/gif", NULL};
static const char *const t_bmp[] = {"image/bmp", "image/x-ms-bmp", NULL};
static const char *const t_tiff[] = {"image/tiff", NULL};
static const char *const t_webp[] = {"image/webp", NULL};
static const char *const t_heic[] = {"image/heic", "image/heif", "image/avif", NULL};
static const char *const t_svg[] = {"image/svg+xml", "text/", "application/xml", NULL};
static const char *const t_ico[] = {"image/vnd.microsoft.icon", "image/x-icon", NULL};
/* A zip may be any zip-based format; libmagic names some OOXML files plain zips. */
static const char *const t_zip[] = {"application/zip",
                                    "application/x-zip-compressed",
                                    "application/java-archive",
                                    "application/vnd.openxmlformats-officedocument.",
                                    "application/vnd.oasis.opendocument.",
                                    "application/vnd.ms-",
                                    "application/epub+zip",
                                    NULL};
static const char *const t_ooxml[] = {"application/vnd.openxmlformats-officedocument.",
                                      "application/vnd.ms-", "application/zip", NULL};
static const char *const t_odf[] = {"application/vnd.oasis.opendocument.", "application/zip", NULL};
/* Legacy Office files are OLE2 compound files, which libmagic names several ways. */
static const char *const t_ole[] = {"application/msword", "application/vnd.ms-",
                                    "application/x-ole-storage", "application/CDFV2", NULL};
static const char *const t_7z[] = {"application/x-7z-compressed", NULL};
static const char *const t_rar[] = {"application/x-rar", "application/vnd.rar", NULL};
static const char *const t_tar[] = {"application/x-tar", "application/x-gtar",
                                    "application/x-ustar", NULL};
static const char *const t_gz[] = {"application/gzip", "application/x-gzip", NULL};
static const char *const t_bz2[] = {"application/x-bzip2", NULL};
static const char *const t_xz[] = {"application/x-xz", NULL};
static const char *const t_zst[] = {"application/zstd", "application/x-zstd", NULL};
static const char *const t_cab[] = {"application/vnd.ms-cab-compressed", NULL};
static const char *const t_iso[] = {"application/x-iso9660-image", NULL};
static const char *const t_cpio[] = {"application/x-cpio", NULL};
static const char *const t_mp3[] = {"audio/mpeg", NULL};
static const char *const t_wav[] = {"audio/x-wav", "audio/wav", "audio/vnd.wave", NULL};
static const char *const t_av[] = {"video/", "audio/", "application/ogg", NULL};
static const char *const t_exe[] = {"application/x-dosexec",
                                    "application/vnd.microsoft.portable-executable", NULL};

static const struct {
        const char *ext;
        const char *const *types;
} table[] = {
    {"txt", t_text},   {"text", t_text},  {"log", t_text},   {"md", t_text},    {"csv", t_text},
    {"tsv", t_text},   {"ini", t_text},   {"yaml", t_text},  {"yml", t_text},   {"html", t_text},
    {"htm", t_text},   {"xml", t_xml},    {"json", t_json},  {"rtf", t_rtf},    {"eml", t_eml},
    {"pdf", t_pdf},    {"jpg", t_jpeg},   {"jpeg", t_jpeg},  {"jpe", t_jpeg},   {"png", t_png},
    {"gif", t_gif},    {"bmp", t_bmp},    {"tif", t_tiff},   {"tiff", t_tiff},  {"webp", t_webp},
    {"heic", t_heic},  {"heif", t_heic},  {"svg", t_svg},    {"ico", t_ico},    {"zip", t_zip},
    {"docx", t_ooxml}, {"docm", t_ooxml}, {"dotx", t_ooxml}, {"xlsx", t_ooxml}, {"xlsm", t_ooxml},
    {"xltx", t_ooxml}, {"pptx", t_ooxml}, {"pptm", t_ooxml}, {"ppsx", t_ooxml}, {"odt", t_odf},
    {"ods", t_odf},    {"odp", t_odf},    {"odg", t_odf},    {"doc", t_ole},    {"dot", t_ole},
    {"xls", t_ole},    {"ppt", t_ole},    {"msg", t_ole},    {"7z", t_7z},      {"rar", t_rar},
    {"tar", t_tar},    {"gz", t_gz},      {"tgz", t_gz},     {"bz2", t_bz2},    {"tbz", t_bz2},
    {"tbz2", t_bz2},   {"xz", t_xz},      {"txz", t_xz},     {"zst", t_zst},    {"tzst", t_zst},
    {"cab", t_cab},    {"iso", t_iso},    {"cpio", t_cpio},  {"mp3", t_mp3},    {"wav", t_wav},
    {"mp4", t_av},     {"m4a", t_av},     {"mov", t_av},     {"avi", t_av},     {"mkv", t_av},
    {"webm", t_av},    {"ogg", t_av},     {"exe", t_exe},    {"dll", t_exe},
};

static bool type_matches(const char *pattern, const char *type)
{
        size_t n = strlen(pattern);
        char last = n ? pattern[n - 1] : '\0';
        if (last == '/' || last == '.' || last == '-')
                return strncmp(type, pattern, n) == 0;
        return strcmp(type, pattern) == 0;
}

bool vg_sniff_ext_mismatch(const char *name, const char *type)
{
        if (!name || !type || strcmp(type, "application/octet-stream") == 0 ||
            strcmp(type, "application/x-empty") == 0 || strncmp(type, "inode/", 6) == 0)
                return false;
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        const char *dot = strrchr(base, '.');
        if (!dot || dot == base) /* no extension, or a hidden file's name */
                return false;
        size_t n = strlen(dot + 1);
        if (n == 0 || n > EXT_MAX)
                return false;
        char ext[EXT_MAX + 1];
        for (size_t i = 0; i < n; i++)
                ext[i] = (char)tolower((unsigned char)dot[1 + i]);
        ext[n] = '\0';
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                if (strcmp(table[i].ext, ext) != 0)
                        continue;
                for (const char *const *t = table[i].types; *t; t++)
                        if (type_matches(*t, type))
                                return false;
                return true;
        }
        return false; /* an extension we have no opinion on */
}
