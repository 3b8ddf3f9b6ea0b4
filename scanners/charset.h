/* Bytes in some charset -> UTF-8 for the text sink. The charset of plain text is
 * guessed from a byte-order mark, else from whether the head is valid UTF-8, else
 * Windows-1252 (a superset of the printable Latin-1 that French offices use). */
#pragma once
#include <stddef.h>

enum vg_charset {
        VG_CS_UTF8,
        VG_CS_UTF16LE,
        VG_CS_UTF16BE,
        VG_CS_CP1252,
};

struct vg_text;

struct vg_decoder {
        enum vg_charset cs;
        unsigned char pend[4];
        size_t npend;
        unsigned hi_surrogate;
};

/* Guesses from the first bytes of the text; *bom is set to the bytes of a BOM to skip. */
enum vg_charset vg_charset_sniff(const unsigned char *head, size_t n, size_t *bom);
/* Looks up a charset label (as in MIME or an XML declaration); -1 if unknown. */
int vg_charset_from_name(const char *name);
void vg_decoder_init(struct vg_decoder *d, enum vg_charset cs);
int vg_decoder_push(struct vg_decoder *d, struct vg_text *t, const unsigned char *s, size_t n);
int vg_decoder_end(struct vg_decoder *d, struct vg_text *t);
