/* The PDF fast path (pdf_fast.c): the text of the common PDFs read directly,
 * poppler (extract_pdf.c) for everything else. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct vg_layer;

/* Reads the PDF held in data[0..len) (the whole file, which ends with %%EOF).
 * Returns 1 when the fast path read all of it and pushed its text (info strings,
 * then each page as a paragraph of its own, as extract_pdf.c does); 0 when it is
 * unsure, in which case nothing was pushed or charged and the caller must read
 * the file through poppler; or a negative errno (-ENOMEM, or -ECANCELED when a
 * scan limit stopped it: the scan is aborted with the reason). */
int vg_pdf_fast(struct vg_layer *l, const unsigned char *data, size_t len);

/* Tables (pdf_fast_tables.c). */
#define VG_PDF_BASE14_N 12
struct vg_pdf_base14 {
        const char *name;
        uint16_t width[224]; /* thousandths of the font size, WinAnsi codes 32-255 */
};
extern const struct vg_pdf_base14 vg_pdf_base14[VG_PDF_BASE14_N];

struct vg_pdf_glyph {
        const char *name;
        uint32_t unicode;
};
extern const struct vg_pdf_glyph vg_pdf_winansi[224];
