/* Pure checksum functions. Inputs are compact (no separators); none of these
 * functions allocate, log or keep state, so they are safe to fuzz and to table-test. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Luhn (ISO/IEC 7812-1) over ASCII digits. */
bool vg_luhn_valid(const char *digits, size_t n);
/* Length of an IBAN for a country code (two upper-case letters), 0 if unknown. */
unsigned vg_iban_country_length(const char *cc);
/* ISO 13616 IBAN: known country, the country's length, ISO 7064 mod 97-10 == 1,
 * and for French-format IBANs the RIB key of the BBAN. Upper-case letters. */
bool vg_iban_valid(const char *iban, size_t n);
/* French RIB key: 97 - ((89*bank + 15*branch + 3*account) mod 97), letters of the
 * account mapped to digits (A,J->1 ... I,R->9; S->2 ... Z->9). bank 5, branch 5,
 * account 11, key 2 characters. */
bool vg_rib_valid(const char *bank, const char *branch, const char *account, const char *key);
/* NIR (French social security number), 15 characters: 13 + 2-digit key.
 * key = 97 - (N mod 97) where N is the 13 first characters with 2A -> 19, 2B -> 18. */
bool vg_nir_valid(const char *nir, size_t n);
/* The key for a 13-character NIR body, or -1 when the body is malformed. */
int vg_nir_key(const char *body13);
