#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
        int fd = *(int *)ctx;
        for (;;) {
                ssize_t r = read(fd, buf, n);
                if (r >= 0)
                        return r;
                if (errno != EINTR)
                        return -errno;
        }
}

void vg_input_init_fd(struct vg_input *in, int fd)
{
        in->read = fd_read;
        in->fd = fd;
        in->ctx = &in->fd;
        in->head_len = in->head_pos = 0;
        in->head_filled = in->eof = false;
        in->consumed = 0;
        (void)lseek(fd, 0, SEEK_SET);
}

void vg_input_init_stream(struct vg_input *in, ssize_t (*rd)(void *, void *, size_t), void *ctx)
{
        in->read = rd;
        in->ctx = ctx;
        in->fd = -1;
        in->head_len = in->head_pos = 0;
        in->head_filled = in->eof = false;
        in->consumed = 0;
}

int vg_input_fill_head(struct vg_input *in)
{
        if (in->head_filled)
                return 0;
        while (in->head_len < VG_HEAD_MAX && !in->eof) {
                ssize_t r = in->read(in->ctx, in->head + in->head_len, VG_HEAD_MAX - in->head_len);
                if (r < 0)
                        return (int)r;
                if (r == 0)
                        in->eof = true;
                in->head_len += (size_t)r;
        }
        in->head_filled = true;
        return 0;
}

ssize_t vg_input_read(struct vg_input *in, void *buf, size_t n)
{
        if (in->head_pos < in->head_len) {
                size_t k = in->head_len - in->head_pos;
                if (k > n)
                        k = n;
                memcpy(buf, in->head + in->head_pos, k);
                in->head_pos += k;
                in->consumed += k;
                return (ssize_t)k;
        }
        if (in->eof)
                return 0;
        ssize_t r = in->read(in->ctx, buf, n);
        if (r == 0)
                in->eof = true;
        if (r > 0)
                in->consumed += (uint64_t)r;
        return r;
}

static int write_all(int fd, const void *p, size_t n)
{
        const char *c = p;
        while (n > 0) {
                ssize_t w = write(fd, c, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                c += w;
                n -= (size_t)w;
        }
        return 0;
}

int vg_input_as_fd(struct vg_input *in, const char *tmpdir, int *ret_fd, bool *owned)
{
        if (in->fd >= 0) {
                if (lseek(in->fd, 0, SEEK_SET) < 0)
                        return -errno;
                in->head_pos = in->head_len; /* the extractor reads the fd itself */
                *ret_fd = in->fd;
                *owned = false;
                return 0;
        }
        if (in->head_pos != 0)
                return -EINVAL;
        int fd = open(tmpdir ? tmpdir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        enum { SPOOL_BUF = 64 * 1024 };
        char *buf = malloc(SPOOL_BUF);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        int e = 0;
        for (;;) {
                ssize_t r = vg_input_read(in, buf, SPOOL_BUF);
                if (r < 0) {
                        e = (int)r;
                        break;
                }
                if (r == 0)
                        break;
                if ((e = write_all(fd, buf, (size_t)r)) < 0)
                        break;
        }
        free(buf);
        if (e == 0 && lseek(fd, 0, SEEK_SET) < 0)
                e = -errno;
        if (e < 0) {
                close(fd);
                return e;
        }
        *ret_fd = fd;
        *owned = true;
        return 0;
}
