/* Health data, by the density of medical vocabulary in one object.
 *
 * One medical word is not health data: a newsletter mentions a pharmacy, a privacy
 * policy says "données de santé", labour law speaks of "arrêt de travail" and a
 * statute is an "ordonnance". A medical letter, a prescription or an operative
 * report pile up diagnosis, dosage, history and treatment. Each term has a weight
 * (3: clinical, 2: medical, 1: everyday); a few legal and privacy terms weigh
 * against; words used in another sense ("traitement des données", "ordonnance
 * n° 2017-1387", "diagnostic immobilier") are not counted. Per object, the
 * finish step keeps the finding when the score reaches the threshold (rules.d:
 * health = { threshold = N; }), scaled up for long texts, with at least three
 * different terms. RPPS/ADELI/FINESS numbers in context (fr_health_id) add to it. */
#include "detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_THRESHOLD 12
/* Text up to this size needs the bare threshold; longer text needs more, growing
 * with the square root of its length (a 100-page handbook mentions sick leave
 * many times and is not a medical file). */
#define SHORT_TEXT   3000.0
#define MIN_DISTINCT 3

/* Folded, sorted by strcmp (bsearch; health_pattern refuses an unsorted table).
 * Weights: 3 clinical, 2 medical, 1 everyday, negative: legal and privacy. */
struct term {
        const char *t;
        int w;
};

static const struct term terms[] = {
    {"affection de longue duree", 3},
    {"alinea", -2},
    {"allergie", 2},
    {"allergies", 2},
    {"allergique", 2},
    {"allergy", 2},
    {"anamnese", 3},
    {"anesthesie", 2},
    {"antecedents", 2},
    {"antecedents chirurgicaux", 3},
    {"antecedents familiaux", 3},
    {"antecedents medicaux", 3},
    {"arret de travail", 1},
    {"arret maladie", 1},
    {"asthme", 2},
    {"avc", 2},
    {"base legale", -2},
    {"bilan biologique", 3},
    {"bilan sanguin", 3},
    {"biopsie", 3},
    {"bpco", 2},
    {"cancer", 2},
    {"carcinome", 3},
    {"carte vitale", 1},
    {"certificat medical", 2},
    {"chemotherapy", 3},
    {"chimiotherapie", 3},
    {"chirurgical", 2},
    {"chirurgicale", 2},
    {"chirurgie", 2},
    {"cim-10", 3},
    {"cnil", -2},
    {"code de la sante publique", -2},
    {"code de la securite sociale", -2},
    {"code du travail", -2},
    {"comprime", 2},
    {"comprimes", 2},
    {"compte rendu de consultation", 3},
    {"compte rendu operatoire", 3},
    {"compte-rendu operatoire", 3},
    {"consultation", 1},
    {"convention collective", -2},
    {"decret", -2},
    {"depression", 2},
    {"diabete", 2},
    {"diabetes", 2},
    {"diabetique", 2},
    {"diagnosed", 3},
    {"diagnosis", 3},
    {"diagnostic", 3},
    {"diagnostics", 3},
    {"diagnostique", 3},
    {"docteur", 1},
    {"donnees a caractere personnel", -2},
    {"donnees de sante", -2},
    {"donnees personnelles", -2},
    {"dosage", 2},
    {"dossier medical", 3},
    {"echographie", 2},
    {"electrocardiogramme", 2},
    {"employeur", -1},
    {"epilepsie", 2},
    {"examen clinique", 3},
    {"finalites", -2},
    {"gdpr", -2},
    {"gelule", 2},
    {"gelules", 2},
    {"glycemie", 3},
    {"grossesse", 2},
    {"handicap", 1},
    {"hba1c", 3},
    {"health data", -2},
    {"hepatite", 2},
    {"hospitalisation", 3},
    {"hospitalisations", 3},
    {"hospitalise", 3},
    {"hospitalisee", 3},
    {"hospitalization", 3},
    {"hospitalized", 3},
    {"hta", 2},
    {"hypertension", 2},
    {"hypertension arterielle", 3},
    {"infarctus", 2},
    {"insuffisance cardiaque", 3},
    {"insuffisance renale", 3},
    {"insuffisance respiratoire", 3},
    {"invalidite", 1},
    {"irm", 2},
    {"jurisprudence", -2},
    {"kinesitherapie", 2},
    {"leucemie", 3},
    {"lymphome", 3},
    {"medecin", 1},
    {"medecin traitant", 3},
    {"medical history", 3},
    {"medical record", 3},
    {"medicament", 1},
    {"medicaments", 1},
    {"medication", 2},
    {"medications", 2},
    {"metastases", 3},
    {"mg", 3}, /* a dose: counted only after a number */
    {"ml", 2}, /* idem */
    {"mri", 2},
    {"mutuelle", 1},
    {"ordonnance", 2},
    {"pathologie", 3},
    {"pathologies", 3},
    {"patient", 1},
    {"patiente", 1},
    {"personal data", -2},
    {"pharmacie", 1},
    {"pharmacien", 1},
    {"politique de confidentialite", -2},
    {"posologie", 3},
    {"pregnancy", 2},
    {"prescribed", 2},
    {"prescription", 2},
    {"prescrit", 2},
    {"prescrite", 2},
    {"privacy policy", -2},
    {"psychiatrique", 2},
    {"radiographie", 2},
    {"radiotherapie", 3},
    {"responsable de traitement", -2},
    {"responsable du traitement", -2},
    {"rgpd", -2},
    {"schizophrenie", 3},
    {"sclerose en plaques", 3},
    {"seropositif", 3},
    {"seropositive", 3},
    {"sick leave", 1},
    {"sous-traitant", -2},
    {"surgery", 2},
    {"symptome", 2},
    {"symptomes", 2},
    {"symptoms", 2},
    {"tablets", 2},
    {"tension arterielle", 2},
    {"traitement", 1},
    {"traitements", 1},
    {"treatment", 1},
    {"trouble bipolaire", 3},
    {"tumeur", 2},
    {"tumor", 2},
    {"tumour", 2},
    {"urgences", 1},
    {"vaccin", 1},
    {"vaccination", 1},
    {"vih", 2},
};

#define NTERMS (sizeof(terms) / sizeof(terms[0]))

static char *health_pattern(const struct vg_custom *custom)
{
        (void)custom;
        const char *list[NTERMS];
        for (size_t i = 0; i < NTERMS; i++) {
                if (i > 0 && strcmp(terms[i - 1].t, terms[i].t) >= 0)
                        return NULL; /* a table out of order: fail loudly, at start */
                list[i] = terms[i].t;
        }
        return vg_phrases_pattern(list, NTERMS);
}

static const char **health_phrases(const struct vg_custom *custom, size_t *n)
{
        (void)custom;
        const char **list = calloc(NTERMS, sizeof(*list));
        if (!list)
                return NULL;
        for (size_t i = 0; i < NTERMS; i++)
                list[i] = terms[i].t;
        *n = NTERMS;
        return list;
}

static bool word_byte(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* The next word after `pos` (skipping spaces and punctuation but not line ends)
 * starts with one of `stems`. Looks at up to three words. */
static bool followed_by(const struct vg_match *m, const char *const *stems, int words)
{
        size_t i = m->end, hi = m->end + 80 < m->len ? m->end + 80 : m->len;
        for (int w = 0; w < words; w++) {
                while (i < hi && !word_byte((unsigned char)m->buf[i]) && m->buf[i] != '\n')
                        i++;
                if (i >= hi || m->buf[i] == '\n')
                        return false;
                for (const char *const *s = stems; *s; s++) {
                        size_t k = strlen(*s);
                        /* short stems are whole words: "n°" but not "non" */
                        if (i + k <= hi && memcmp(m->buf + i, *s, k) == 0 &&
                            (k > 3 || i + k == hi || m->buf[i + k] < 'a' || m->buf[i + k] > 'z'))
                                return true;
                }
                while (i < hi && word_byte((unsigned char)m->buf[i]))
                        i++;
        }
        return false;
}

static bool preceded_by(const struct vg_match *m, const char *w)
{
        size_t k = strlen(w), i = m->start;
        while (i > 0 && m->buf[i - 1] == ' ')
                i--;
        return i >= k && memcmp(m->buf + i - k, w, k) == 0 &&
               (i == k || !word_byte((unsigned char)m->buf[i - k - 1]));
}

/* Words used in another sense: data processing, statutes, limitation periods,
 * building surveys, the weather. */
static bool other_sense(const struct vg_match *m, const char *t)
{
        if (strncmp(t, "traitement", 10) == 0 || strcmp(t, "treatment") == 0) {
                static const char *const s[] = {
                    "donnee",      "data",      "information", "texte",      "demande",
                    "dossier",     "commande",  "salaire",     "paie",       "courrier",
                    "eau",         "eaux",      "surface",     "image",      "signal",
                    "fichier",     "requete",   "reclamation", "automatise", "informatique",
                    "comptable",   "thermique", "personnel",   "vos",        "ces",
                    "of personal", NULL,
                };
                return followed_by(m, s, 3);
        }
        if (strcmp(t, "ordonnance") == 0) {
                static const char *const s[] = {"n",       "no",
                                                "portant", "relative",
                                                "penale",  "de refere",
                                                "refere",  "de protection",
                                                "macron",  "ministerielle",
                                                "royale",  "du conseil",
                                                NULL};
                return followed_by(m, s, 1) || preceded_by(m, "par") ||
                       preceded_by(m, "la presente");
        }
        if (strcmp(t, "prescription") == 0) {
                static const char *const s[] = {
                    "quinquennale", "biennale",      "annale", "trentenaire", "acquisitive",
                    "extinctive",   "de l",          "civile", "penale",      "commerciale",
                    "des creances", "de la creance", NULL};
                return followed_by(m, s, 2) || preceded_by(m, "delai de");
        }
        if (strncmp(t, "diagnostic", 10) == 0) {
                static const char *const s[] = {
                    "immobili",    "energ",    "de performance",
                    "techni",      "amiante",  "plomb",
                    "termite",     "gaz",      "electri",
                    "financ",      "reseau",   "system",
                    "informati",   "strateg",  "territor",
                    "organisa",    "compta",   "social",
                    "du vehicule", "auto",     "moteur",
                    "panne",       "securite", "rse",
                    "flash",       "cyber",    NULL,
                };
                return followed_by(m, s, 2);
        }
        if (strcmp(t, "consultation") == 0) {
                static const char *const s[] = {
                    "publique", "juridique", "citoyenne", "des entreprises",
                    "du cse",   "du comite", NULL};
                return followed_by(m, s, 2);
        }
        if (strcmp(t, "depression") == 0) {
                static const char *const s[] = {"tropicale", "atmospherique", "economique", NULL};
                return followed_by(m, s, 1);
        }
        if (strcmp(t, "mg") == 0 || strcmp(t, "ml") == 0) {
                /* a dose: "500 mg", "2,5 mg", "10mg" */
                size_t i = m->start;
                while (i > 0 && m->buf[i - 1] == ' ')
                        i--;
                return !(i > 0 && m->buf[i - 1] >= '0' && m->buf[i - 1] <= '9');
        }
        return false;
}

static int term_cmp(const void *a, const void *b)
{
        return strcmp(((const struct term *)a)->t, ((const struct term *)b)->t);
}

static bool health_check(const struct vg_match *m, struct vg_hit *h)
{
        /* canon: the phrase with white space squeezed, as in the table */
        size_t n = m->end - m->start, o = 0;
        for (size_t i = 0; i < n && o + 1 < sizeof(h->canon); i++) {
                char c = m->buf[m->start + i];
                bool sp = c == ' ' || c == '\t' || c == '\n' || c == '\r';
                if (sp && o > 0 && h->canon[o - 1] == ' ')
                        continue;
                h->canon[o++] = sp ? ' ' : c;
        }
        h->canon[o] = '\0';
        h->canon_len = o;
        const struct term key = {.t = h->canon};
        const struct term *t = bsearch(&key, terms, NTERMS, sizeof(terms[0]), term_cmp);
        if (!t || other_sense(m, t->t))
                return false;
        h->weight = t->w;
        memcpy(h->masked, h->canon, o + 1);
        return true;
}

static bool health_finish(const struct vg_score *s)
{
        unsigned threshold = s->custom && s->custom->health_threshold ? s->custom->health_threshold
                                                                      : DEFAULT_THRESHOLD;
        if (s->distinct < MIN_DISTINCT)
                return false;
        /* variety first: repeating a word adds at most as much as the variety */
        uint64_t repeats = s->weight - s->weight_distinct;
        double score = (double)s->weight_distinct +
                       (double)(repeats < s->weight_distinct ? repeats : s->weight_distinct);
        /* practitioners' and establishments' numbers (fr_health_id) */
        uint64_t ids = vg_detect_count(s->det, "fr_health_id");
        score += 4.0 * (double)(ids < 2 ? ids : 2);
        /* legal vocabulary lowers the score, by half at most */
        double against = (double)s->against;
        score -= against < score / 2 ? against : score / 2;
        double len = (double)s->text_bytes;
        double need = threshold * (len > SHORT_TEXT ? sqrt(len / SHORT_TEXT) : 1.0);
        return score >= need;
}

const struct vg_detector vg_detectors_health[] = {
    {
        .id = "health",
        .build = health_pattern,
        .phrases = health_phrases,
        .check = health_check,
        .folded = true,
        .finish = health_finish,
    },
    {.id = NULL},
};
