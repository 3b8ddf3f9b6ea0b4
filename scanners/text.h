/* The text sink of one object: normalises UTF-8 and hands it to the detectors in
 * chunks that overlap, so an identifier cut across two reads, two XML runs or two
 * chunks is still seen whole, and counted once. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct vg_detect;
struct vg_text;

/* chunk: bytes scanned at a time (the overlap is added on top). */
int vg_text_new(struct vg_detect *det, size_t chunk, struct vg_text **ret);
void vg_text_free(struct vg_text *t);
/* Appends UTF-8 (invalid bytes pass through untouched). Returns -ELOOP when a
 * detector hits a PCRE2 limit, -ENOMEM. */
int vg_text_push(struct vg_text *t, const char *s, size_t n);
/* Separates two pieces of text (paragraphs, cells, names): never joined into one
 * identifier. */
int vg_text_break(struct vg_text *t);
/* Redaction: every byte pushed is also appended to tap (NULL: none); past the
 * tap's ceiling, pushes fail with -ENOBUFS. */
struct vg_buf;
void vg_text_set_tap(struct vg_text *t, struct vg_buf *tap);
/* Scans what is left. */
int vg_text_end(struct vg_text *t);
/* Nanoseconds spent in the detectors so far (the benchmark's detect stage). */
unsigned long long vg_text_detect_ns(const struct vg_text *t);
/* Bytes of normalised text seen so far. */
unsigned long long vg_text_bytes(const struct vg_text *t);

/* What the sink does to one UTF-8 sequence s[0,n) (n from vg_utf8_seq_len()):
 * the replacement (possibly empty) or NULL to keep it. Exposed so that redaction
 * sees the text exactly as the detectors do, and can map it back. */
const char *vg_text_fold_seq(const unsigned char *s, size_t n, char tmp[2]);
/* How many bytes s[0,n) starts with that are ASCII (below 0x80), sixteen at a
 * time (most text is ASCII: the byte loops of the sniff, the decoders and the
 * sink were a quarter of the plain-text detection time). */
static inline size_t vg_ascii_prefix(const unsigned char *s, size_t n)
{
        size_t i = 0;
#if defined(__SSE2__)
        for (; i + 16 <= n; i += 16) {
                unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(s + i)));
                if (m)
                        return i + (size_t)__builtin_ctz(m);
        }
#else
        for (; i + 8 <= n; i += 8) {
                uint64_t v;
                memcpy(&v, s + i, 8);
                if (v & 0x8080808080808080ull)
                        break;
        }
#endif
        while (i < n && s[i] < 0x80)
                i++;
        return i;
}
/* Length of the UTF-8 sequence led by c (1 for an invalid byte). */
size_t vg_utf8_seq_len(unsigned char c);
