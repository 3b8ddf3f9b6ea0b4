/* Content typing with libmagic: by the bytes, never by the name. */
#pragma once
#include <stddef.h>

struct vg_sniffer;

/* Loads the magic database now, so nothing is loaded lazily once sandboxed. */
int vg_sniffer_new(struct vg_sniffer **ret);
void vg_sniffer_free(struct vg_sniffer *s);
/* Writes the MIME type of head[0,n) into out (e.g. "application/zip"). */
int vg_sniff(struct vg_sniffer *s, const void *head, size_t n, char *out, size_t outsz);
