#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void vg_buf_init(struct vg_buf *b, size_t max)
{
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
        b->max = max;
}

static int grow(struct vg_buf *b, size_t need)
{
        if (need <= b->cap)
                return 0;
        if (need > b->max + 1)
                return -ENOBUFS;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap > b->max + 1)
                cap = b->max + 1;
        char *p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

int vg_buf_append(struct vg_buf *b, const void *p, size_t n)
{
        if (n > b->max - b->len && b->len <= b->max)
                return -ENOBUFS;
        int r = grow(b, b->len + n + 1);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int vg_buf_appendc(struct vg_buf *b, char c)
{
        return vg_buf_append(b, &c, 1);
}

int vg_buf_appends(struct vg_buf *b, const char *s)
{
        return vg_buf_append(b, s, strlen(s));
}

void vg_buf_consume(struct vg_buf *b, size_t n)
{
        if (n >= b->len) {
                b->len = 0;
        } else {
                memmove(b->data, b->data + n, b->len - n);
                b->len -= n;
        }
        if (b->data)
                b->data[b->len] = '\0';
}

void vg_buf_reset(struct vg_buf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

void vg_buf_free(struct vg_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

char *vg_buf_take(struct vg_buf *b)
{
        if (!b->data && vg_buf_append(b, "", 0) < 0)
                return NULL;
        char *p = b->data;
        b->data = NULL;
        b->len = b->cap = 0;
        return p;
}
