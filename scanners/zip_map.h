/* The layout of a zip read two ways, without decompressing anything: by its
 * central directory (as the seekable readers and most unzip tools see it) and by
 * its local headers in file order (as streaming readers see it). When the two
 * readings disagree, a zip can show one content to vigie and another to the tool
 * that unpacks it: concatenated zips, members hidden from the directory,
 * overlapping entries (Fifield's zip bomb). The map says which bytes each
 * reading covers, so the extractor can scan what the directory does not list or
 * hold the zip as ambiguous. Pure file parsing over pread: no libarchive, no
 * allocation proportional to anything but the (capped) number of entries. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vg_zip_verdict {
        VG_ZIP_OK,
        VG_ZIP_AMBIGUOUS, /* the two readings disagree, or bytes belong to neither */
        VG_ZIP_CORRUPT,   /* no end record, or a structure runs past the end */
        VG_ZIP_TOO_MANY,  /* more entries than the caller allows */
};

/* A member present as a local header but absent from the central directory. */
struct vg_zip_hidden {
        uint64_t off; /* its local header */
        uint64_t end; /* one past its data (and data descriptor) */
};

struct vg_zip_map {
        enum vg_zip_verdict verdict;
        const char *why;  /* a short static explanation, for tests and debugging */
        uint64_t size;    /* of the file */
        uint64_t prefix;  /* bytes before the first member: a stub, or another zip */
        uint64_t entries; /* entries of the central directory */
        bool exact_end;   /* an end record that ends the file was found */
        struct vg_zip_hidden *hidden;
        size_t nhidden;
};

/* Maps the zip open on fd (a regular file, read with pread only). At most
 * max_entries entries (directory and hidden ones together) are accepted; past
 * that the verdict is VG_ZIP_TOO_MANY. Returns 0 (the verdict says how it went)
 * or a negative errno (I/O, memory). */
int vg_zip_map_read(int fd, uint64_t max_entries, struct vg_zip_map *ret);
void vg_zip_map_free(struct vg_zip_map *m);
