/* The bytes of one object, read once from the front: a top-level file, an archive
 * member, a decoded mail part. The first bytes are kept (`head`) for sniffing and
 * replayed to the extractor, so nothing is read twice from a stream. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VG_HEAD_MAX (64 * 1024)

struct vg_layer;

struct vg_input {
        /* Reads up to n bytes; returns the count (0 at the end) or a negative errno. */
        ssize_t (*read)(void *ctx, void *buf, size_t n);
        void *ctx;
        /* A regular file holding exactly this object, or -1 (a stream). Not owned. */
        int fd;
        unsigned char head[VG_HEAD_MAX];
        size_t head_len;
        size_t head_pos;
        bool head_filled;
        bool eof;
        uint64_t consumed; /* bytes handed to the extractor */
};

/* An input over fd (a regular file, read from offset 0). */
void vg_input_init_fd(struct vg_input *in, int fd);
void vg_input_init_stream(struct vg_input *in, ssize_t (*read)(void *, void *, size_t), void *ctx);
/* Fills the head (up to VG_HEAD_MAX bytes) without consuming it. */
int vg_input_fill_head(struct vg_input *in);
ssize_t vg_input_read(struct vg_input *in, void *buf, size_t n);
/* A descriptor of a regular file with the whole object from offset 0: in->fd
 * itself when there is one, else the rest of the stream spooled to an unlinked
 * temporary file under tmpdir (O_TMPFILE). Spooling must start before the first
 * read past the head. On success, *owned is set when the caller must close it. */
int vg_input_as_fd(struct vg_input *in, const char *tmpdir, int *ret_fd, bool *owned);
