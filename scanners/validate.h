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
/* Payment card brand ("visa", "mastercard", "amex", "discover", "jcb", "diners")
 * from the leading digits, when the length is one that brand issues; else NULL. */
const char *vg_card_brand(const char *digits, size_t n);
/* A card number: known brand and length, and Luhn. */
bool vg_card_valid(const char *digits, size_t n);
/* French tax number (SPI): 13 digits, the first 0-3, the last three equal to the
 * first ten mod 511. */
bool vg_spi_valid(const char *digits, size_t n);
/* RPPS (health professionals): 11 digits, Luhn. */
bool vg_rpps_valid(const char *digits, size_t n);
/* ADELI (health professionals): 9 digits, a department 01-95 or 97, Luhn. */
bool vg_adeli_valid(const char *digits, size_t n);
/* FINESS (health establishments): 9 characters, department 01-95, 2A/2B or 9A-9F,
 * six digits, key (Luhn; not checkable for the lettered departments). Upper case. */
bool vg_finess_valid(const char *s, size_t n);
