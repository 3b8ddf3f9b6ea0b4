#include "i18n.h"

#include <string.h>

enum vg_lang vg_lang_from_name(const char *name)
{
        return name && strcmp(name, "en") == 0 ? VG_LANG_EN : VG_LANG_FR;
}

const char *vg_i18n_verdict(enum vg_lang l, enum vg_verdict v)
{
        static const char *const fr[] = {"propre", "signalé", "illisible"};
        static const char *const en[] = {"clean", "flagged", "unscannable"};
        if ((unsigned)v > VG_VERDICT_UNSCANNABLE)
                return "?";
        return l == VG_LANG_EN ? en[v] : fr[v];
}

const char *vg_i18n_action(enum vg_lang l, enum vg_action a)
{
        static const char *const fr[] = {"laisser passer", "alerter", "expurger",
                                         "mettre en quarantaine"};
        static const char *const en[] = {"pass", "alert", "redact", "quarantine"};
        if ((unsigned)a > VG_ACTION_QUARANTINE)
                return "?";
        return l == VG_LANG_EN ? en[a] : fr[a];
}

const char *vg_i18n_reason(enum vg_lang l, enum vg_reason r)
{
        static const char *const fr[VG_REASON_COUNT_] = {
            [VG_REASON_NONE] = "",
            [VG_REASON_ENCRYPTED] = "chiffré (mot de passe requis)",
            [VG_REASON_CORRUPT] = "fichier abîmé ou tronqué",
            [VG_REASON_AMBIGUOUS] = "archive ambiguë (deux lectures différentes)",
            [VG_REASON_UNSUPPORTED] = "format non pris en charge",
            [VG_REASON_CHARSET] = "encodage de caractères illisible",
            [VG_REASON_SPECIAL_FILE] = "pas un fichier ordinaire (lien, tube, périphérique)",
            [VG_REASON_IO_ERROR] = "erreur de lecture",
            [VG_REASON_WORKER_CRASH] = "l'analyse a échoué",
            [VG_REASON_LIMIT_SIZE] = "fichier trop gros",
            [VG_REASON_LIMIT_EXPANDED] = "trop de données une fois décompressé",
            [VG_REASON_LIMIT_RATIO] = "taux de compression suspect (bombe ?)",
            [VG_REASON_LIMIT_DEPTH] = "trop d'archives imbriquées",
            [VG_REASON_LIMIT_MEMBERS] = "trop de fichiers dans l'archive",
            [VG_REASON_LIMIT_TIME] = "analyse trop longue",
            [VG_REASON_LIMIT_MEMORY] = "analyse trop gourmande en mémoire",
        };
        static const char *const en[VG_REASON_COUNT_] = {
            [VG_REASON_NONE] = "",
            [VG_REASON_ENCRYPTED] = "encrypted (password needed)",
            [VG_REASON_CORRUPT] = "damaged or truncated file",
            [VG_REASON_AMBIGUOUS] = "ambiguous archive (two readings disagree)",
            [VG_REASON_UNSUPPORTED] = "unsupported format",
            [VG_REASON_CHARSET] = "unreadable character encoding",
            [VG_REASON_SPECIAL_FILE] = "not a regular file (link, pipe, device)",
            [VG_REASON_IO_ERROR] = "read error",
            [VG_REASON_WORKER_CRASH] = "the scan failed",
            [VG_REASON_LIMIT_SIZE] = "file too large",
            [VG_REASON_LIMIT_EXPANDED] = "too much data once unpacked",
            [VG_REASON_LIMIT_RATIO] = "suspicious compression ratio (bomb?)",
            [VG_REASON_LIMIT_DEPTH] = "archives nested too deep",
            [VG_REASON_LIMIT_MEMBERS] = "too many files in the archive",
            [VG_REASON_LIMIT_TIME] = "scan took too long",
            [VG_REASON_LIMIT_MEMORY] = "scan needed too much memory",
        };
        if ((unsigned)r >= VG_REASON_COUNT_)
                return "?";
        return l == VG_LANG_EN ? en[r] : fr[r];
}

const char *vg_i18n_in(enum vg_lang l)
{
        return l == VG_LANG_EN ? "in" : "dans";
}

const char *vg_i18n_detector(enum vg_lang l, const char *id)
{
        static const struct {
                const char *id, *fr, *en;
        } names[] = {
            {"fr_nir", "numéro de sécurité sociale", "social security number"},
            {"iban", "coordonnées bancaires (IBAN)", "bank account (IBAN)"},
            {"fr_rib", "relevé d'identité bancaire (RIB)", "bank details (RIB)"},
            {"credit_card", "numéro de carte bancaire", "payment card number"},
            {"fr_cni", "numéro de carte d'identité", "identity card number"},
            {"fr_passport", "numéro de passeport", "passport number"},
            {"fr_tax_id", "numéro fiscal", "tax number"},
            {"fr_driving_licence", "numéro de permis de conduire", "driving licence number"},
            {"fr_health_id", "identifiant de professionnel de santé", "health professional id"},
            {"email", "adresses e-mail (liste de contacts)", "e-mail addresses (contact list)"},
            {"phone_fr", "numéros de téléphone (liste de contacts)",
             "phone numbers (contact list)"},
            {"secret_key", "clé privée", "private key"},
            {"api_token", "jeton d'accès ou clé d'API", "access token or API key"},
            {"password", "mot de passe", "password"},
            {"marking", "mention de confidentialité", "confidentiality marking"},
            {"health", "données de santé", "health data"},
            {"person_name", "nom de personne", "person's name"},
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(names[i].id, id) == 0)
                        return l == VG_LANG_EN ? names[i].en : names[i].fr;
        return id;
}
