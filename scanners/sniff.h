/* Content typing with libmagic: by the bytes, never by the name. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct vg_sniffer;

/* Loads the magic database now, so nothing is loaded lazily once sandboxed.
 * VIGIE_SNIFF_NO_FAST in the environment turns the fast path off (to measure
 * libmagic alone); the types are the same either way. */
int vg_sniffer_new(struct vg_sniffer **ret);
void vg_sniffer_free(struct vg_sniffer *s);
/* Writes the MIME type of head[0,n) into out (e.g. "application/zip"): the
 * fast path when it is certain, else libmagic; the same answer either way. */
int vg_sniff(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz);
/* The two halves, for the tests: libmagic alone (with the signature fallback),
 * and the fast path alone (false when it leaves the head to libmagic). */
int vg_sniff_magic(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz);
bool vg_sniff_fast(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz);
/* True when the name's extension says one type and the content is a recognised
 * type that extension never has (a docx renamed .jpg, a zip renamed .txt).
 * Unknown extensions and unrecognised content never mismatch (sniff_ext.c). */
bool vg_sniff_ext_mismatch(const char *name, const char *type);
