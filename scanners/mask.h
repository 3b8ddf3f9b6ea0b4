/* Masked samples: enough for an admin to recognise an item, never enough to
 * rebuild it. Raw values never leave scanners/; only these strings do. */
#pragma once
#include <stddef.h>

/* Writes s[0,n) in groups (sizes from `groups`, 0-terminated; the last size repeats)
 * separated by spaces, keeping the first `head` and the last `tail` characters and
 * replacing the others by '*'. Returns the length written, or 0 if out is too small. */
size_t vg_mask_groups(const char *s, size_t n, const unsigned char *groups, size_t head,
                      size_t tail, char *out, size_t outsz);
