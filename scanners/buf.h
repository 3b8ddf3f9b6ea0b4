/* Growable byte buffer with a ceiling fixed at creation (curl's dynbuf idea):
 * nothing grows without bound, and going past the ceiling is an error the
 * caller must handle, never a silent truncation. */
#pragma once
#include <stddef.h>

struct vg_buf {
        char *data;
        size_t len;
        size_t cap;
        size_t max;
};

void vg_buf_init(struct vg_buf *b, size_t max);
/* Appends n bytes; -ENOBUFS past the ceiling, -ENOMEM when allocation fails.
 * The buffer is always NUL-terminated after a successful append. */
int vg_buf_append(struct vg_buf *b, const void *p, size_t n);
int vg_buf_appendc(struct vg_buf *b, char c);
int vg_buf_appends(struct vg_buf *b, const char *s);
/* Drops the first n bytes, keeping the rest. */
void vg_buf_consume(struct vg_buf *b, size_t n);
void vg_buf_reset(struct vg_buf *b);
void vg_buf_free(struct vg_buf *b);
/* Hands the data over to the caller (NUL-terminated, never NULL on success). */
char *vg_buf_take(struct vg_buf *b);
