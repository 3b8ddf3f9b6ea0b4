/* Custom rules, dictionaries and markings from rules.d (libconfig).
 *
 * Every *.conf of the folders in `rules.dirs` is read, folder by folder in the
 * order given and by name inside a folder; a rule with the id of an earlier one
 * replaces it (the admin's /etc/vigie/rules.d overrides /usr/share), and
 * `enabled = false` removes it. A missing folder is skipped. A file:
 *
 *   rules = (
 *     { id = "matricule"; pattern = "MAT-[0-9]{6}"; context = [ "matricule" ];
 *       window = 64; threshold = 1; show = "masked"; },
 *     { id = "carte_fidelite"; pattern = "\\b[0-9]{16}\\b"; validator = "luhn"; },
 *     { id = "clients"; dictionary = "clients.txt"; },      # next to this file
 *     { id = "projets"; terms = [ "Phénix", "Projet Orion" ]; }
 *   );
 *   markings = [ "Projet Orion - diffusion limitée" ];
 *   health = { threshold = 12; };
 *
 * Errors are "FILE:LINE: message", like the configuration's. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "detect.h"

/* Limits on what one admin file may hold: a dictionary is for code names and
 * client names, not for a phone book. */
#define VG_DICT_MAX_BYTES (4u << 20)
#define VG_DICT_MAX_TERMS 50000u
#define VG_TERM_MAX_BYTES 100u

/* Loads every rules file of dirs (NULL entries ignored) into a new set. */
int vg_rules_conf_load(const struct vg_strlist *dirs, struct vg_custom **ret, char *err,
                       size_t errsz);
/* Loads one file into c, replacing rules by id. */
int vg_rules_conf_load_file(const char *path, struct vg_custom *c, char *err, size_t errsz);
/* Whether id is shaped like a detector id (a-z, 0-9, '_', starting with a letter). */
bool vg_rules_conf_valid_id(const char *id);
/* The custom rule of that id, or NULL. */
const struct vg_custom_rule *vg_rules_conf_find(const struct vg_custom *c, const char *id);
/* Gives every custom id the rule's own threshold and "quarantine" in p, unless p
 * names it already. */
int vg_rules_conf_policy_defaults(const struct vg_custom *c, struct vg_policy *p);
