/* Pieces of the office extractor that are worth testing on their own. */
#pragma once
#include <stddef.h>

/* Writes the decimal number s[0,n) ("185057800608491", "1.85057800608491E+14",
 * " -2.5e-3 ") in plain positional digits, as a person reads it in the cell:
 * no exponent, no trailing fractional zeros. Exact: digits are moved, never
 * rounded through a double. Returns the length written (NUL-terminated), or 0
 * when s is not a number or the result does not fit in outsz. */
size_t vg_office_number(const char *s, size_t n, char *out, size_t outsz);
