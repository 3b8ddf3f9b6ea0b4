/* Secrets, passwords, markings, health data and custom rules through the real
 * path (text sink -> rules -> checks -> counts and masked samples), with the
 * hard negatives a careful reviewer would not call sensitive: documented example
 * keys, placeholders, "secret" in prose, "password" in documentation, mail
 * disclaimers, newsletters, privacy policies and labour law.
 *
 * The tokens and key bodies below were drawn at random (Python, random.choice over
 * the token's alphabet, seed 2024); none is a real credential. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "detect.h"
#include "policy.h"
#include "report.h"
#include "rules_conf.h"
#include "text.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct vg_rules *rules;

static int setup(void **state)
{
        (void)state;
        return vg_rules_new(NULL, &rules);
}

static int teardown(void **state)
{
        (void)state;
        vg_rules_free(rules);
        return 0;
}

static struct vg_report *scan_with(struct vg_rules *rs, const char *text, size_t len, size_t step,
                                   size_t chunk)
{
        struct vg_detect *d;
        struct vg_text *t;
        assert_int_equal(vg_detect_new(rs, &d), 0);
        assert_int_equal(vg_text_new(d, chunk, &t), 0);
        for (size_t i = 0; i < len; i += step) {
                size_t n = len - i < step ? len - i : step;
                assert_int_equal(vg_text_push(t, text + i, n), 0);
        }
        assert_int_equal(vg_text_end(t), 0);
        struct vg_report *r = vg_report_new("t");
        assert_non_null(r);
        assert_int_equal(vg_detect_report(d, r, "t"), 0);
        vg_text_free(t);
        vg_detect_free(d);
        return r;
}

static const struct vg_finding *finding(const struct vg_report *r, const char *det)
{
        for (size_t i = 0; i < r->nfindings; i++)
                if (strcmp(r->findings[i].detector, det) == 0)
                        return &r->findings[i];
        return NULL;
}

static uint64_t count_of(const struct vg_report *r, const char *det)
{
        const struct vg_finding *f = finding(r, det);
        return f ? f->count : 0;
}

/* Count of `det`, the text pushed whole and in pieces of 3 bytes. */
static uint64_t count_in(struct vg_rules *rs, const char *text, const char *det)
{
        struct vg_report *r = scan_with(rs, text, strlen(text), strlen(text) + 1, 1 << 20);
        uint64_t c = count_of(r, det);
        vg_report_free(r);
        r = scan_with(rs, text, strlen(text), 3, 1 << 20);
        if (count_of(r, det) != c)
                fail_msg("%s: count depends on how the text is pushed: %s", det, text);
        vg_report_free(r);
        return c;
}

static uint64_t count(const char *text, const char *det)
{
        return count_in(rules, text, det);
}

static void expect(const char *det, const char *const *texts, size_t n, uint64_t want)
{
        for (size_t i = 0; i < n; i++) {
                uint64_t c = count(texts[i], det);
                if (c != want)
                        fail_msg("%s: %llu instead of %llu in case %zu: %.200s", det,
                                 (unsigned long long)c, (unsigned long long)want, i, texts[i]);
        }
}

/* The first masked sample of `det` in text. */
static char *sample(const char *text, const char *det)
{
        struct vg_report *r = scan_with(rules, text, strlen(text), strlen(text) + 1, 1 << 20);
        const struct vg_finding *f = finding(r, det);
        char *s = f && f->nsamples ? strdup(f->samples[0]) : NULL;
        vg_report_free(r);
        return s;
}

/* No masked sample may hold five consecutive characters of the secret, save its
 * last four (what the mask is allowed to show). */
static void assert_no_leak(const char *text, const char *det, const char *secret)
{
        struct vg_report *r = scan_with(rules, text, strlen(text), strlen(text) + 1, 1 << 20);
        const struct vg_finding *f = finding(r, det);
        size_t n = strlen(secret);
        for (size_t k = 0; f && k < f->nsamples; k++)
                for (size_t i = 0; i + 5 <= n - (n > 4 ? 4 : n); i++) {
                        char part[6];
                        memcpy(part, secret + i, 5);
                        part[5] = '\0';
                        if (strstr(f->samples[k], part))
                                fail_msg("%s: sample '%s' shows '%s' of the secret", det,
                                         f->samples[k], part);
                }
        vg_report_free(r);
}

/* ---- secret_key ----------------------------------------------------------------- */

#define B1   "5VO0z6tlKpuCUFYvTBqXjxFdMoF/R1BghJBO5BbDkE/G9wVge50O3YikwOHqmV/D"
#define B2   "cWxWVrhXxUkCEJrNa9V31TgbJf+gyyE8xbjmdo+gNKWhepF0jhiRkme2Gkn2f987"
#define B3   "oWXsyWw/tzBgLMYc4Ud/hbKPqUB4dqMzYIB5AC+eanYha3ExG2+3Gg5fv7Tn/3zx"
#define BODY B1 "\n" B2 "\n" B3 "\n"

static void test_secret_key(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "-----BEGIN RSA PRIVATE KEY-----\n" BODY "-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\n" BODY "-----END PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----\r\n" B1 "\r\n" B2 "\r\n-----END EC PRIVATE KEY-----",
            "-----BEGIN DSA PRIVATE KEY-----\n" BODY,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" B2 "\n" B3,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" BODY "-----END ENCRYPTED PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"
            "3F17F5316E2BAC89\n\n" BODY "-----END RSA PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBF" B1 "\n" B2,
            "{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE "
            "KEY-----\\n" B1 "\\n" B2 "\\n-----END PRIVATE KEY-----\\n\"}",
            "Voici la clé du serveur :\n\n-----BEGIN OPENSSH PRIVATE KEY-----\n" BODY
            "-----END OPENSSH PRIVATE KEY-----\nMerci de ne pas la diffuser.",
            "key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  " B1 "\n  " B2 "\n",
            "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: rsa-key-20240101\n"
            "Public-Lines: 6\n" B3 "\n" B1 "\n",
            "-----BEGIN ED25519 PRIVATE KEY-----\n" B2 B3,
            "ssh_key = \"\"\"-----BEGIN PRIVATE KEY-----\n" BODY "\"\"\"",
            "|-----BEGIN RSA PRIVATE KEY-----|\n|" B1 "|\n|" B2 "|",
            "-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----\n" BODY,
        };
        expect("secret_key", pos, NELEM(pos), 1);
        static const char *const neg[] = {
            "-----BEGIN PUBLIC KEY-----\n" BODY "-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\n" BODY "-----END CERTIFICATE-----",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" BODY,
            "-----BEGIN PGP SIGNATURE-----\n\n" BODY,
            "-----BEGIN RSA PUBLIC KEY-----\n" BODY,
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" B1 " user@host",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\n<your private key here>\n-----END PRIVATE KEY-----",
            "Collez votre clé entre -----BEGIN OPENSSH PRIVATE KEY----- et -----END OPENSSH "
            "PRIVATE KEY-----.",
            "-----BEGIN RSA PRIVATE KEY-----\n"
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
            "-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----",
            "openssl genrsa -out key.pem 2048 # writes -----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE REQUEST-----\n" BODY,
            "-----BEGIN X509 CRL-----\n" BODY,
            "Une clé privée commence par BEGIN PRIVATE KEY et ne se partage jamais.",
        };
        expect("secret_key", neg, NELEM(neg), 0);
        char *s = sample(pos[0], "secret_key");
        assert_non_null(s);
        assert_string_equal(s, "-----BEGIN RSA PRIVATE KEY----- [...]");
        free(s);
        assert_no_leak(pos[0], "secret_key", B1);
        /* two different keys are two distinct values */
        struct vg_report *r = scan_with(rules, pos[0], strlen(pos[0]), 7, 1 << 20);
        assert_int_equal(finding(r, "secret_key")->distinct, 1);
        vg_report_free(r);
}

/* ---- api_token ------------------------------------------------------------------ */

struct secret_case {
        const char *text;
        const char *secret;
        const char *masked; /* NULL: not checked */
};

#define AKIA   "AKIA6LTM2QP7W2NTVEN5"
#define AWSSEC "1OB0DAfCcHO1oQDE7UrzV/sHXRQ7vqQAimwat4ES"
#define GHP    "ghp_ofmZspSDMqEH4BQAm1ettriKQUqHgFn5mYyl"
#define GHO    "gho_G2ouwWS5ZcL57RIy7VU8OehodHi81n6ON7f8"
#define GHPAT                                                                                      \
        "github_pat_2NRNUnLnPmDlEurUDOC1TZ_"                                                       \
        "0nzL3C3AMSi4nktzmWlwDRahvRaXoWGAQcnMDJFJZdBvaGvJ584qQUkoMg0"
#define GLPAT  "glpat-3irwdRNG-uU73_PueppU"
#define XOXB   "xoxb-628106043158-9239916194682-Wo8aGhmyIKACKYl1P7pJ6Ws5"
#define SKOLD  "sk-LriVyYL1PgoWLpksP5i0S7ZyRgivAvOSvJ0WpbMryiKrkGZ5"
#define SKPROJ "sk-proj-GBq2yqqDGdo21e8tJU7SL95eKxX-U_UuiIzx47Paso2gKkk97ADOM_LhB8FNOGQf"
#define SKANT                                                                                      \
        "sk-ant-api03-rHSStgSbOOzxK6gum9HYg0zrrUb5U1FpR5Pa04zqo0-Y-"                               \
        "5Cf5jIoVUiP98J0WGocF2utybbIhnQuDEJjtfGTkVvnUGb35AA"
#define AIZA    "AIzaFesTIa6FU4hsARip6kkDaku7AzD80k1XIsF"
#define SKLIVE  "sk_live_xVmjEbS9UirAR61pRBz1Rkyy"
#define RKLIVE  "rk_live_C7KOhUrIqNjuhOQxfwFhLmiH"
#define GENERIC "iZDgMMzDUXKKAVC95Fu7Ku1NHp1loNY8"
#define HEX40   "d0eb195877deb2e9a06f69ed24fd98a24621f655"
#define BEARER  "On7f0Yl2hgvbUgJo213MMGDmEmatU41wyXrbe2ZV"

static void test_api_token(void **state)
{
        (void)state;
        static const struct secret_case pos[] = {
            {"aws_access_key_id = " AKIA, AKIA + 4, "AKIA****N5"},
            {"[default]\naws_access_key_id=ASIAJN2DW25HIUYVWMU3\n", "JN2DW25HIUYVWMU3", NULL},
            {"aws_secret_access_key = " AWSSEC, AWSSEC, "aws_secret_access_key=****t4ES"},
            {"AWS Secret Access Key: " AWSSEC, AWSSEC, "AWS Secret Access Key=****t4ES"},
            {"export GITHUB_TOKEN=" GHP "\n", GHP + 4, "ghp_****mYyl"},
            {"git clone https://" GHO "@github.com/acme/app.git", GHO + 4, NULL},
            {"Token d'accès fin : " GHPAT, GHPAT + 11, NULL},
            {"gitlab:\n  token: \"" GLPAT "\"", GLPAT + 6, "glpat-****ppU"},
            {"SLACK_BOT_TOKEN=" XOXB, XOXB + 5, "xoxb-****6Ws5"},
            {"openai.api_key = '" SKOLD "'", SKOLD + 3, "sk-****kGZ5"},
            {"OPENAI_API_KEY=" SKPROJ, SKPROJ + 8, "sk-proj-****OGQf"},
            {"ANTHROPIC_API_KEY=\"" SKANT "\"", SKANT + 7, "sk-ant-****35AA"},
            {"<script src=\"https://maps.googleapis.com/maps/api/js?key=" AIZA "\"></script>", AIZA,
             "AIza****XIsF"},
            {"Clé Stripe (prod) : " SKLIVE ".", SKLIVE + 8, "sk_live_****kyy"},
            {"STRIPE_RESTRICTED=" RKLIVE, RKLIVE + 8, NULL},
            {"api_key = \"" GENERIC "\"", GENERIC, "api_key=****oNY8"},
            {"{\"client_secret\": \"" GENERIC "\"}", GENERIC, "client_secret=****oNY8"},
            {"webhook_secret: " HEX40, HEX40, "webhook_secret=****f655"},
            {"curl -H 'Authorization: Bearer " BEARER "' https://api.acme.fr", BEARER,
             "Bearer ****e2ZV"},
            {"| Service | Jeton |\n| CRM | " XOXB " |", XOXB + 5, NULL},
        };
        for (size_t i = 0; i < NELEM(pos); i++) {
                uint64_t c = count(pos[i].text, "api_token");
                if (c != 1)
                        fail_msg("api_token: %llu instead of 1 in case %zu: %s",
                                 (unsigned long long)c, i, pos[i].text);
                assert_no_leak(pos[i].text, "api_token", pos[i].secret);
                if (pos[i].masked) {
                        char *s = sample(pos[i].text, "api_token");
                        if (!s || strcmp(s, pos[i].masked) != 0)
                                fail_msg("case %zu: masked '%s' instead of '%s'", i,
                                         s ? s : "(none)", pos[i].masked);
                        free(s);
                }
        }
        static const char *const neg[] = {
            /* documented examples and placeholders */
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "token = <your-token>",
            "TOKEN=${TOKEN}",
            "api_key: changeme",
            "client_secret = 'aaaaaaaaaaaaaaaaaaaaaaaa'",
            "SLACK_TOKEN=xoxb-your-token-here",
            "OPENAI_API_KEY=sk-...",
            "api_key = \"YOUR_API_KEY_HERE_0123456\"",
            "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIi"
            "wibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_"
            "adQssw5c",
            "secret_key = \"0123456789abcdef0123456789abcdef\"",
            /* code, paths, words */
            "tokenizer = AutoTokenizer.from_pretrained('bert-base-uncased')",
            "csrf_token = request.form.get('csrf_token')",
            "secret_path = /run/secrets/db2_password",
            "token = os.environ[\"GITHUB_TOKEN\"]",
            "access_key = config.get_access_key_from_vault(region)",
            "token_type: refresh_token_rotation_v2",
            "SECRET_NAME=my_app_secret_name_2",
            "{\"nextPageToken\": \"CiAKGjBpNDd2Nmp5Z3Q4cTlyMHMxdDJ1M3Y0dzV4NnkSAggB\"}",
            "<input type=\"hidden\" name=\"csrf_token\" value=\"" GENERIC "\">",
            "token_hash: " HEX40,
            /* prose and look-alikes */
            "Le secret : 42 ans de succès et une équipe soudée.",
            "Le secret de la réussite tient en un mot : persévérance.",
            "skeleton-key-2024-building-b is not a key",
            "task-force-7f3a9c2b1e4d5f6a7b8c9d0e1f2a3b4c",
            "Voir la commande GHP_12 et le ticket AKIA-1234.",
            "uuid 550e8400-e29b-41d4-a716-446655440000",
            "AKIA6LTM2QP7W2NTVEN5X is too long to be a key id",
        };
        expect("api_token", neg, NELEM(neg), 0);
}

/* ---- password ------------------------------------------------------------------- */

static void test_password(void **state)
{
        (void)state;
        static const struct secret_case pos[] = {
            {"password=hunter22", "hunter22", "password=********"},
            {"DB_PASSWORD=S3cr3t!x\n", "S3cr3t!x", "DB_PASSWORD=********"},
            {"Mot de passe : Soleil2024!", "Soleil2024!", "Mot de passe: ********"},
            {"mot de passe: Marmotte#57 (à changer)", "Marmotte#57", NULL},
            {"\"password\": \"correct horse battery\"", "correct horse battery",
             "password: ********"},
            {"postgres://admin:Xk9pL2mq@db.internal:5432/app", "Xk9pL2mq",
             "postgres://****:********@db.internal"},
            {"mysql+pymysql://app:Wq83ndhz@10.0.0.5/prod", "Wq83ndhz", NULL},
            {"Server=db;Database=x;User Id=sa;Password=Pa55w0rd;", "Pa55w0rd", "Password=********"},
            {"<password>Tr0ub4dor</password>", "Tr0ub4dor", "<password>********"},
            {"mdp : azerty123", "azerty123", NULL},
            {"passwd: Ilikecats99", "Ilikecats99", NULL},
            {"MYSQL_ROOT_PASSWORD: 'r00tRoot!'", "r00tRoot!", NULL},
            {"login(user='jean', password='Bonjour2024')", "Bonjour2024", NULL},
            {"smtp_pwd = Zx9!mailsrv", "Zx9!mailsrv", NULL},
            {"Identifiant\tMot de passe\njdupont\t...\nPassword\tK8#rtqLm", "K8#rtqLm", NULL},
            {"wifi passphrase = LesFleursDuMal1857", "LesFleursDuMal1857", NULL},
            {"https://api.acme.fr/login?user=x&password=Q7wer2ty&next=/", "Q7wer2ty", NULL},
        };
        for (size_t i = 0; i < NELEM(pos); i++) {
                uint64_t c = count(pos[i].text, "password");
                if (c != 1)
                        fail_msg("password: %llu instead of 1 in case %zu: %s",
                                 (unsigned long long)c, i, pos[i].text);
                struct vg_report *r =
                    scan_with(rules, pos[i].text, strlen(pos[i].text), 1000, 1 << 20);
                const struct vg_finding *f = finding(r, "password");
                /* the value is masked entirely */
                for (size_t k = 0; f && k < f->nsamples; k++)
                        if (strstr(f->samples[k], pos[i].secret))
                                fail_msg("password shown: %s", f->samples[k]);
                vg_report_free(r);
                if (pos[i].masked) {
                        char *s = sample(pos[i].text, "password");
                        if (!s || strcmp(s, pos[i].masked) != 0)
                                fail_msg("case %zu: masked '%s' instead of '%s'", i,
                                         s ? s : "(none)", pos[i].masked);
                        free(s);
                }
        }
        static const char *const neg[] = {
            "Le mot de passe doit contenir au moins 12 caractères.",
            "Password: must be at least 12 characters long",
            "Mot de passe oublié ? Cliquez ici.",
            "DB_PASSWORD=\n",
            "password = os.environ[\"DB_PASSWORD\"]",
            "password: ${DB_PASSWORD}",
            "password = getenv(\"DB_PASSWORD\")",
            "password: <password>",
            "password: '********'",
            "\"password\": \"\"",
            "password = self.password",
            "PWD=/home/jean/projets",
            "https://user:password@example.com/",
            "postgres://user:${PGPASSWORD}@db/app",
            "Politique : le mot de passe est personnel ; changez votre password tous les 90 "
            "jours.",
            "passwd: files systemd",
            "password_min_length = 12",
            "<input type=\"password\" name=\"pwd\">",
            "Password: the user's password, as a string (required)",
            "password: changeme",
            "\"password\": null",
            "password = config.get('db', 'password')",
            "PasswordAuthentication no",
            "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256",
            "db_password: !secret mariadb_pw",
        };
        expect("password", neg, NELEM(neg), 0);
}

/* ---- marking -------------------------------------------------------------------- */

static void test_marking(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "CONFIDENTIEL",
            "Rapport financier T3 2024 \xe2\x80\x94 Confidentiel \xe2\x80\x94 page 2/12",
            "Classification : Diffusion restreinte",
            "Objet : [CONFIDENTIEL] Budget 2025",
            "*** STRICTEMENT CONFIDENTIEL ***",
            "Document strictement confidentiel\n\nLe conseil a décidé...",
            "Internal use only",
            "Subject: [Confidential] Q3 numbers",
            "SECRET D\xc3\x89"
            "FENSE",
            "Secret",
            "RAPPORT ANNUEL CONFIDENTIEL",
            "Rapport annuel 2024 (confidentiel)",
            "ACME SA    |    Usage interne    |    v1.2",
            "FOR INTERNAL USE ONLY - DRAFT",
            "\xc2\xab Ne pas diffuser \xc2\xbb",
            "Projet Orion\nTRÈS SECRET\nRéunion du 3 mai",
            "Sensibilité : Confidentiel entreprise",
        };
        expect("marking", pos, NELEM(pos), 1);
        static const char *const neg[] = {
            "C'est le secret de la réussite.",
            "Nous traitons vos données de façon confidentielle.",
            "Ce message et ses pièces jointes sont confidentiels et établis à l'intention "
            "exclusive de ses destinataires.",
            "This e-mail is confidential and intended solely for the addressee.",
            "CONFIDENTIEL : ce message est destiné exclusivement à son destinataire. Si vous "
            "l'avez reçu par erreur, merci de le détruire.",
            "CONFIDENTIALITY NOTICE: This message and any attachments are confidential.",
            "Ce document est confidentiel.",
            "Le rapport (confidentiel) sera publié demain.",
            "LE SECRET DE LA RÉUSSITE",
            "Secret: 42",
            "Le caractère confidentiel des échanges est garanti.",
            "L'accès est limité, la diffusion restreinte aux membres est la règle.",
            "Gardez le secret, dit-il.",
            "Les informations confidentielles ne doivent pas être partagées.",
            "Le secret professionnel s'impose à tous les salariés du cabinet.",
            "Nous garantissons un usage interne de vos données, conformément au RGPD.",
            "top secretary meeting notes",
            "--\nCONFIDENTIEL\nCe courriel et les pièces jointes sont destinés uniquement au "
            "destinataire.",
        };
        expect("marking", neg, NELEM(neg), 0);
        char *s = sample("Objet : [CONFIDENTIEL] Budget", "marking");
        assert_non_null(s);
        assert_string_equal(s, "CONFIDENTIEL");
        free(s);
        s = sample("Classification : Diffusion  Restreinte", "marking");
        assert_non_null(s);
        assert_string_equal(s, "Diffusion Restreinte");
        free(s);
}

/* ---- health --------------------------------------------------------------------- */

static const char *const medical[] = {
    "Compte rendu de consultation\n\nPatiente de 54 ans suivie pour un diabète de type 2 et "
    "une HTA. Antécédents : appendicectomie en 1998. Allergie à la pénicilline. Examen "
    "clinique : TA 14/8.\nDiagnostic : déséquilibre glycémique modéré (HbA1c à 8,1 %).\n"
    "Traitement : metformine 1000 mg matin et soir. Posologie à adapter.\nOrdonnance remise.",

    "ORDONNANCE\nDr Claire Petit, médecin généraliste\nMme Dupont, 67 ans\n"
    "1) Amoxicilline 1 g : 1 comprimé 3 fois par jour pendant 7 jours\n"
    "2) Paracétamol 500 mg : 2 gélules si douleur, maximum 6 par jour\n"
    "Posologie à respecter. Allergies connues : aucune.",

    "Compte rendu opératoire\nPatient : M. X, 45 ans. Intervention : cholécystectomie sous "
    "cœlioscopie. Anesthésie générale. Antécédents médicaux : hypertension artérielle "
    "traitée. Suites simples, hospitalisation de 48 heures. Traitement de sortie : "
    "paracétamol 1 g, 3 comprimés par jour.",

    "Lettre de sortie d'hospitalisation\nMotif : insuffisance cardiaque décompensée.\n"
    "Antécédents : infarctus en 2015, diabète. Examen clinique à l'entrée : œdèmes des "
    "membres inférieurs. Bilan biologique : BNP élevé. Traitement : furosémide 40 mg.\n"
    "Suivi par le médecin traitant dans 8 jours.",

    "Cher confrère,\nJe vous adresse Mme Y pour avis. Anamnèse : céphalées depuis 3 mois. "
    "IRM cérébrale normale. Diagnostic retenu : migraine sans aura. Traitement de fond "
    "proposé, posologie progressive. Pas d'allergie connue. Bien confraternellement.",

    "Certificat médical\nJe soussigné, docteur Martin, certifie que l'état de santé de "
    "M. Z nécessite un arrêt de travail de 10 jours. Diagnostic : lombalgie aiguë. "
    "Traitement : anti-inflammatoires, kinésithérapie. Antécédents : hernie discale.",

    "Résultats du bilan sanguin : glycémie à jeun 1,32 g/l, HbA1c 7,4 %. Patient "
    "diabétique sous traitement. Pathologie rénale à surveiller : insuffisance rénale "
    "modérée. Prochaine consultation avec le néphrologue.",

    "Dossier médical - Antécédents familiaux : cancer du sein (mère). Antécédents "
    "chirurgicaux : appendicectomie. Allergies : pénicilline, arachide. Traitement en "
    "cours : lévothyroxine 75 µg. Pathologie : hypothyroïdie.",

    "Discharge summary\nPatient admitted for chest pain. Medical history: hypertension, "
    "diabetes. Diagnosis: unstable angina. Treatment: aspirin 75 mg daily, bisoprolol "
    "5 mg. Allergies: none. Hospitalization: 3 days. Prescribed medication reviewed.",

    "Suivi psychiatrique : trouble bipolaire diagnostiqué en 2019. Traitement par lithium, "
    "posologie ajustée selon la lithémie. Hospitalisation en 2021. Symptômes actuels : "
    "humeur stable, sommeil correct.",

    "Compte rendu de radiologie\nRadiographie thoracique et échographie abdominale. "
    "Indication : douleurs, fièvre. Conclusion : pas de pathologie pulmonaire. Biopsie "
    "hépatique à discuter. Patient de 60 ans, antécédents d'hépatite C.",

    "Protocole de chimiothérapie\nPatiente de 52 ans, carcinome canalaire infiltrant. "
    "Métastases ganglionnaires. Chimiothérapie adjuvante puis radiothérapie. Posologie "
    "calculée selon la surface corporelle. Allergies : aucune.",

    "Fiche de liaison infirmière\nPatient hospitalisé en médecine interne. Antécédents : "
    "BPCO, asthme. Traitement : 2 inhalations 2 fois par jour, prednisolone 20 mg. "
    "Symptômes : dyspnée. Médecin traitant prévenu.",

    "Demande de reconnaissance ALD : affection de longue durée pour sclérose en plaques. "
    "Diagnostic posé en 2020 après IRM. Traitement de fond par interféron, posologie "
    "hebdomadaire. Hospitalisation de jour tous les 3 mois.",

    "Carnet de grossesse\nGrossesse de 24 semaines. Antécédents : diabète gestationnel lors "
    "de la première grossesse. Échographie morphologique normale. Glycémie à surveiller. "
    "Traitement : fer 80 mg par jour. Consultation mensuelle.",
};

static const char *const not_medical[] = {
    "Newsletter de mars : la pharmacie du centre change d'horaires. Pensez à votre vaccin "
    "contre la grippe ! Notre équipe de football a gagné le tournoi. Bonne lecture à tous.",

    "Politique de confidentialité. Nous collectons des données personnelles, y compris des "
    "données de santé, pour les finalités suivantes. Le responsable du traitement est la "
    "société X. Conformément au RGPD, vous disposez d'un droit d'accès. Base légale : "
    "consentement. Traitement des données : hébergement en France.",

    "Article L1226-1 du code du travail : tout salarié ayant une année d'ancienneté "
    "bénéficie, en cas d'absence au travail justifiée par l'incapacité résultant de "
    "maladie ou d'accident constaté par certificat médical, d'une indemnité "
    "complémentaire. En cas d'arrêt de travail, l'employeur est informé. L'ordonnance "
    "n° 2017-1387 du 22 septembre 2017 a modifié ces règles. La prescription de l'action "
    "est de deux ans.",

    "Offre d'emploi : la pharmacie Dupont recherche un préparateur en pharmacie. Vous "
    "accueillez les patients, gérez les commandes de médicaments et la mutuelle. Poste "
    "en CDI, 35 heures.",

    "Diagnostic de performance énergétique : classe D. Diagnostic amiante négatif. "
    "Diagnostic plomb sans objet. Le traitement des eaux usées est collectif.",

    "Règlement intérieur - Absences : tout arrêt de travail doit être transmis sous 48 "
    "heures. En cas d'arrêt maladie, la mutuelle complète les indemnités. La convention "
    "collective prévoit un maintien de salaire. Le médecin du travail peut être consulté.",

    "Le traitement de texte plante quand on ouvre le dossier partagé. Le diagnostic "
    "réseau montre une panne du switch. Merci d'être patient, le support s'en occupe.",

    "Par ordonnance du 12 mars, le juge des référés a ordonné l'expertise. La prescription "
    "quinquennale s'applique. Ordonnance de référé notifiée aux parties.",

    "Bulletin météo : une dépression atmosphérique arrive sur la Bretagne. Prudence sur "
    "les routes, notamment près des urgences de l'hôpital en travaux.",

    "Mutuelle d'entreprise : nouvelle grille de remboursement. Consultation chez le "
    "médecin, pharmacie, optique et dentaire. Carte vitale à jour obligatoire.",

    "Privacy policy: we process personal data, including health data where you give it to "
    "us, for the purposes below. GDPR rights apply. Treatment of personal data is "
    "described in section 4.",

    "Procès-verbal du CSE : consultation du comité sur le plan de formation. Point sur "
    "les accidents du travail et le handicap. Le décret du 3 mai est commenté.",

    "Recette : ajouter 500 ml de lait et 200 g de farine. Cuire 20 minutes. Servir chaud "
    "avec une pincée de sel.",

    "Rapport de sécurité informatique : diagnostic de vulnérabilité, traitement des "
    "incidents, consultation publique sur la cyber-sécurité. Prescription de mots de "
    "passe robustes.",

    "Le cancer, signe astrologique du mois : patience et traitement des dossiers en "
    "attente. Votre pharmacie de garde est ouverte dimanche.",

    "Guide RH (12 pages)\n\nChapitre 4 - Absences. L'arrêt de travail, l'arrêt maladie et "
    "la visite médicale sont régis par le code du travail. Le médecin du travail rend un "
    "avis. La mutuelle et la prévoyance complètent. Le salarié informe l'employeur. En "
    "cas d'hospitalisation, un justificatif suffit.",
};

static void test_health(void **state)
{
        (void)state;
        for (size_t i = 0; i < NELEM(medical); i++)
                if (count(medical[i], "health") < 3)
                        fail_msg("health not flagged in case %zu: %.120s", i, medical[i]);
        expect("health", not_medical, NELEM(not_medical), 0);
        /* samples are the medical terms found, not the patient's words */
        char *s = sample(medical[1], "health");
        assert_non_null(s);
        assert_null(strchr(s, '*'));
        free(s);
        /* a practitioner's number in context (fr_health_id: RPPS 10001234565, Luhn)
         * tips a short prescription over the threshold */
        assert_int_equal(count("Dr Claire Martin, médecin.\nDiagnostic : angine. Posologie : "
                               "1 g trois fois par jour. Traitement 6 jours.",
                               "health"),
                         0);
        assert_int_equal(count("Dr Claire Martin, médecin, RPPS 10001234565.\nDiagnostic : "
                               "angine. Posologie : 1 g trois fois par jour. Traitement 6 jours.",
                               "health"),
                         4);
        /* a long text needs more: the same letter drowned in 60 KB of prose is a
         * document that mentions health, not a medical file */
        size_t n = 60000, k = strlen(medical[0]);
        char *big = malloc(n + k + 1);
        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = "Le comité a validé le budget annuel de la société. "[i % 51];
        memcpy(big + n, medical[0], k + 1);
        assert_int_equal(count(big, "health"), 0);
        free(big);
}

/* ---- chunk boundaries ----------------------------------------------------------- */

/* A key block, a token, a password and a marking line at every offset around the
 * boundary of two chunks are each found once, whatever the size of the pieces. */
static void test_chunk_boundaries(void **state)
{
        (void)state;
        const char *planted = "\nCONFIDENTIEL\nexport GITHUB_TOKEN=" GHP
                              "\npassword=Xk9pL2mq\n-----BEGIN RSA PRIVATE KEY-----\n" BODY;
        size_t chunk = 16384, len = 60000, pl = strlen(planted);
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        for (size_t at = 16000; at < 19500; at += 61) {
                for (size_t i = 0; i < len; i++)
                        buf[i] = i % 64 == 63 ? '\n' : "lorem ipsum dolor "[i % 18];
                memcpy(buf + at, planted, pl);
                buf[len] = '\0';
                static const size_t steps[] = {60000, 4096, 333};
                for (size_t s = 0; s < NELEM(steps); s++) {
                        struct vg_report *r = scan_with(rules, buf, len, steps[s], chunk);
                        static const char *const ids[] = {"marking", "api_token", "password",
                                                          "secret_key"};
                        for (size_t k = 0; k < NELEM(ids); k++)
                                if (count_of(r, ids[k]) != 1)
                                        fail_msg("at=%zu step=%zu: %s x%llu", at, steps[s], ids[k],
                                                 (unsigned long long)count_of(r, ids[k]));
                        vg_report_free(r);
                }
        }
        free(buf);
}

/* ---- custom rules and dictionaries (engine) --------------------------------------- */

static char *terms_a[] = {"phenix", "projet orion", "orion bleu", "acme industries", NULL};
static char *ctx_a[] = {"matricule", "employe", NULL};

static void test_custom_engine(void **state)
{
        (void)state;
        struct vg_custom_rule cr[] = {
            {.id = "matricule", .pattern = "MAT-[0-9]{6}", .context = ctx_a, .window = 40},
            {.id = "carte_fidelite",
             .pattern = "(?<![0-9])[0-9]{4}(?:[ -]?[0-9]{4}){3}(?![0-9])",
             .validator = VG_VALIDATOR_LUHN},
            {.id = "projets", .terms = terms_a, .nterms = 4, .show = VG_SHOW_VALUE},
            {.id = "cles", .pattern = "KEY-[A-Z]{8}", .show = VG_SHOW_HIDDEN},
        };
        char *marks[] = {"projet orion - diffusion limitee", NULL};
        struct vg_custom c = {.rules = cr, .nrules = NELEM(cr), .markings = marks, .nmarkings = 1};
        struct vg_rules *rs;
        assert_int_equal(vg_rules_new(&c, &rs), 0);
        /* the engine copied what it needs */
        cr[0].id = "changed";
        assert_int_equal(count_in(rs, "Matricule : MAT-123456", "matricule"), 1);
        assert_int_equal(count_in(rs, "Commande MAT-123456", "matricule"), 0);
        assert_int_equal(count_in(rs, "Carte 4970 1012 3456 7893 valide", "carte_fidelite"), 1);
        assert_int_equal(count_in(rs, "Carte 4970 1012 3456 7894 valide", "carte_fidelite"), 0);
        assert_int_equal(count_in(rs, "Le projet PHÉNIX avance", "projets"), 1);
        assert_int_equal(count_in(rs, "Le Projet\n  Orion et Orion Bleu", "projets"), 2);
        assert_int_equal(count_in(rs, "phenixes, orionbleu, acmeindustries", "projets"), 0);
        assert_int_equal(count_in(rs, "ACME Industries SA", "projets"), 1);
        assert_int_equal(count_in(rs, "Projet Orion - Diffusion limitée", "marking"), 1);
        assert_int_equal(count_in(rs, "La clé KEY-ABCDEFGH", "cles"), 1);
        /* built-ins still there */
        assert_int_equal(count_in(rs, "CONFIDENTIEL", "marking"), 1);
        struct vg_report *r =
            scan_with(rs, "Matricule : MAT-123456. Projet Phénix. KEY-ABCDEFGH", 52, 52, 1 << 20);
        const struct vg_finding *f = finding(r, "matricule");
        assert_non_null(f);
        assert_null(strstr(f->samples[0], "123456"));
        assert_non_null(strchr(f->samples[0], '*'));
        f = finding(r, "projets");
        assert_non_null(f);
        assert_string_equal(f->samples[0], "Phénix");
        f = finding(r, "cles");
        assert_non_null(f);
        assert_string_equal(f->samples[0], "****");
        vg_report_free(r);
        /* a name carrying a custom identifier is masked like the finding */
        char *m = vg_rules_mask_string(rs, "paie KEY-ABCDEFGH.xlsx", 22);
        assert_non_null(m);
        assert_string_equal(m, "paie ****.xlsx");
        free(m);
        vg_rules_free(rs);
        /* the health threshold comes from the configuration */
        struct vg_custom strict = {.health_threshold = 200};
        assert_int_equal(vg_rules_new(&strict, &rs), 0);
        assert_int_equal(count_in(rs, medical[0], "health"), 0);
        vg_rules_free(rs);
        struct vg_custom lax = {.health_threshold = 4};
        assert_int_equal(vg_rules_new(&lax, &rs), 0);
        assert_true(count_in(rs,
                             "Patient diabétique, traitement par insuline, consultation "
                             "mensuelle.",
                             "health") > 0);
        vg_rules_free(rs);
        /* the engine refuses an unsafe pattern even when the loader was skipped */
        struct vg_custom_rule bad = {.id = "bad", .pattern = "(a+)+b"};
        struct vg_custom cb = {.rules = &bad, .nrules = 1};
        assert_int_equal(vg_rules_new(&cb, &rs), -EINVAL);
}

static void test_pattern_check(void **state)
{
        (void)state;
        static const char *const ok[] = {
            "MAT-[0-9]{6}",
            "(?i)projet-[a-z]{2,12}",
            "\\bFR[0-9]{2}(?:[ -]?[0-9]{4}){5}\\b",
            "(?<![0-9])[0-9]{9}(?![0-9])",
            "[A-Z]{2}\\d{6}[A-Z]?",
            "(?:CLIENT|CLT)_\\d{4,8}",
            "a{2,1024}",
            "x\\Q*+\\E{1,3}y",
            "[]a-z]{2}",
            "(?<id>[A-Z]{3})-\\d{3}",
        };
        char err[256];
        for (size_t i = 0; i < NELEM(ok); i++)
                if (vg_custom_pattern_check(ok[i], err, sizeof(err)) != 0)
                        fail_msg("pattern refused: %s: %s", ok[i], err);
        static const char *const bad[] = {
            "a*",          /* unbounded */
            "[0-9]+",      /* unbounded */
            "x{3,}",       /* unbounded */
            "(a+)+b",      /* unbounded, nested */
            "x?",          /* empty */
            "(?:ab)?",     /* empty */
            "a",           /* a single byte */
            "[a-z]{2000}", /* longer than VG_MAX_MATCH */
            "(\\w{100}){20}",
            "(a)\\1", /* backreference */
            "(?R)",   /* recursion */
            "(*LIMIT_MATCH=99999999)abc",
            "(?x) a b c",
            "(unclosed",
            "\\X{2}",
            "",
        };
        for (size_t i = 0; i < NELEM(bad); i++) {
                err[0] = '\0';
                if (vg_custom_pattern_check(bad[i], err, sizeof(err)) != -EINVAL)
                        fail_msg("pattern accepted: %s", bad[i]);
                if (!err[0])
                        fail_msg("no reason given for: %s", bad[i]);
        }
}

/* ---- rules.d loader ------------------------------------------------------------- */

static char tmp[64];

static void write_file(const char *name, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", tmp, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void rm_rf(const char *dir)
{
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static int load_tmp(struct vg_custom **c, char *err, size_t errsz)
{
        char *v[] = {tmp, NULL};
        struct vg_strlist dirs = {.v = v, .n = 1};
        return vg_rules_conf_load(&dirs, c, err, errsz);
}

static void test_loader(void **state)
{
        (void)state;
        snprintf(tmp, sizeof(tmp), "/tmp/vigie-rules-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        write_file("10-base.conf",
                   "rules = (\n"
                   "  { id = \"matricule\"; pattern = \"MAT-[0-9]{6}\"; context = [ \"Matricule\", "
                   "\"employé\" ]; window = 40; threshold = 2; },\n"
                   "  { id = \"clients\"; dictionary = \"clients.txt\"; },\n"
                   "  { id = \"vieux\"; pattern = \"OLD-[0-9]{4}\"; }\n"
                   ");\n"
                   "markings = [ \"Projet Orion — diffusion limitée\" ];\n"
                   "health = { threshold = 20; };\n");
        write_file("20-admin.conf",
                   "rules = (\n"
                   "  { id = \"matricule\"; pattern = \"EMP-[0-9]{5}\"; validator = \"luhn\"; "
                   "show = \"hidden\"; },\n"
                   "  { id = \"vieux\"; enabled = false; }\n"
                   ");\n");
        write_file("clients.txt", "\xef\xbb\xbf# clients\nBoulangerie Ménard\n  Société  Générale "
                                  "Test\r\nÉTS DUPONT\n\n");
        write_file("notes.txt", "rules = ( oops");    /* not a .conf: ignored */
        write_file(".hidden.conf", "rules = ( oops"); /* hidden: ignored */
        struct vg_custom *c = NULL;
        char err[512] = "";
        if (load_tmp(&c, err, sizeof(err)) != 0)
                fail_msg("load: %s", err);
        assert_int_equal(c->nrules, 2);
        const struct vg_custom_rule *m = vg_rules_conf_find(c, "matricule");
        assert_non_null(m);
        assert_string_equal(m->pattern, "EMP-[0-9]{5}");
        assert_int_equal(m->validator, VG_VALIDATOR_LUHN);
        assert_int_equal(m->show, VG_SHOW_HIDDEN);
        assert_null(m->context); /* replaced whole, not merged */
        assert_null(vg_rules_conf_find(c, "vieux"));
        const struct vg_custom_rule *d = vg_rules_conf_find(c, "clients");
        assert_non_null(d);
        assert_int_equal(d->nterms, 3);
        assert_string_equal(d->terms[0], "boulangerie menard");
        assert_string_equal(d->terms[1], "societe generale test");
        assert_string_equal(d->terms[2], "ets dupont");
        assert_int_equal(d->show, VG_SHOW_VALUE);
        assert_int_equal(c->nmarkings, 1);
        assert_int_equal(c->health_threshold, 20);
        /* through the engine */
        struct vg_rules *rs;
        assert_int_equal(vg_rules_new(c, &rs), 0);
        assert_int_equal(count_in(rs, "Livraison chez la boulangerie MÉNARD demain", "clients"), 1);
        assert_int_equal(count_in(rs, "Projet Orion \xe2\x80\x94 Diffusion limitée", "marking"), 1);
        vg_rules_free(rs);
        /* policies get the custom ids, with their thresholds */
        struct vg_policy p;
        assert_int_equal(vg_policy_init(&p, "default"), 0);
        assert_int_equal(vg_policy_set(&p, "clients", 5, VG_ACTION_ALERT, false), 0);
        assert_int_equal(vg_rules_conf_policy_defaults(c, &p), 0);
        assert_int_equal(vg_policy_rule(&p, "matricule")->threshold, 1);
        assert_int_equal(vg_policy_rule(&p, "matricule")->action, VG_ACTION_QUARANTINE);
        assert_int_equal(vg_policy_rule(&p, "clients")->threshold, 5);
        vg_policy_clear(&p);
        vg_custom_free(c);
        /* a missing folder is nothing to load */
        char *v[] = {"/nonexistent/vigie/rules.d", NULL};
        struct vg_strlist none = {.v = v, .n = 1};
        assert_int_equal(vg_rules_conf_load(&none, &c, err, sizeof(err)), 0);
        assert_int_equal(c->nrules, 0);
        vg_custom_free(c);
        rm_rf(tmp);
}

struct broken {
        const char *text;
        unsigned line;
        const char *words; /* expected in the message */
};

static void test_loader_errors(void **state)
{
        (void)state;
        static const struct broken cases[] = {
            {"rules = ( { id = \"x1\"; pattern = \"[0-9]+\"; } );", 1, "bound"},
            {"rules = (\n { id = \"x1\";\n   pattern = \"a*\"; } );", 3, "pattern"},
            {"rules = (\n { id = \"x1\"; pattern = \"(x)\\\\1\"; } );", 2, "backreference"},
            {"rules = ( { id = \"x1\"; pattern = \"x?\"; } );", 1, "empty"},
            {"rules = ( { id = \"x1\"; pattern = \"[a-z]{4000}\"; } );", 1, "1024"},
            {"rules = ( { id = \"x1\"; pattern = \"(abc\"; } );", 1, "closed"},
            {"rules = ( { id = \"iban\"; pattern = \"ab[0-9]{3}\"; } );", 1, "built-in"},
            {"rules = ( { id = \"X-1\"; pattern = \"ab[0-9]{3}\"; } );", 1, "id"},
            {"rules = (\n\n { pattern = \"ab[0-9]{3}\"; } );", 3, "needs an id"},
            {"rules = ( { id = \"x1\"; pattern = \"ab[0-9]{3}\"; validator = \"md5\"; } );", 1,
             "validator"},
            {"rules = ( { id = \"x1\"; pattern = \"ab[0-9]{3}\"; colour = 1; } );", 1,
             "unknown key"},
            {"rules = ( { id = \"x1\"; } );", 1, "exactly one"},
            {"rules = ( { id = \"x1\"; pattern = \"ab[0-9]{3}\"; terms = [ \"ab\" ]; } );", 1,
             "exactly one"},
            {"rules = ( { id = \"x1\"; dictionary = \"missing.txt\"; } );", 1, "missing.txt"},
            {"rules = ( { id = \"x1\"; terms = [ \"a\" ]; } );", 1, "two letters"},
            {"rules = ( { id = \"x1\"; pattern = \"ab[0-9]{3}\"; window = 9999; } );", 1, "window"},
            {"markings = [ 12 ];", 1, "strings"},
            {"health = { threshold = 0; };", 1, "threshold"},
            {"colour = \"red\";", 1, "unknown key"},
            {"rules = ( { id = ; } );", 1, "syntax"},
            {"rules = (\n { id = \"x1\"; terms = [ \"ok\" ]; validator = \"luhn\"; } );", 2,
             "validator"},
        };
        for (size_t i = 0; i < NELEM(cases); i++) {
                snprintf(tmp, sizeof(tmp), "/tmp/vigie-rules-XXXXXX");
                assert_non_null(mkdtemp(tmp));
                write_file("50-broken.conf", cases[i].text);
                struct vg_custom *c = NULL;
                char err[512] = "", want[300];
                if (load_tmp(&c, err, sizeof(err)) != -EINVAL)
                        fail_msg("case %zu accepted: %s", i, cases[i].text);
                snprintf(want, sizeof(want), "%s/50-broken.conf:%u: ", tmp, cases[i].line);
                if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, cases[i].words))
                        fail_msg("case %zu: message '%s', expected '%s...%s'", i, err, want,
                                 cases[i].words);
                assert_null(c);
                rm_rf(tmp);
        }
        /* an error inside a dictionary names the dictionary and its line */
        snprintf(tmp, sizeof(tmp), "/tmp/vigie-rules-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        write_file("a.conf", "rules = ( { id = \"noms\"; dictionary = \"noms.txt\"; } );");
        write_file("noms.txt", "Durand\nMartin\nX\n");
        struct vg_custom *c = NULL;
        char err[512] = "", want[300];
        assert_int_equal(load_tmp(&c, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "%s/noms.txt:3: ", tmp);
        if (strncmp(err, want, strlen(want)) != 0)
                fail_msg("message '%s', expected '%s...'", err, want);
        rm_rf(tmp);
}

/* ---- the configuration ---------------------------------------------------------- */

static void test_config(void **state)
{
        (void)state;
        snprintf(tmp, sizeof(tmp), "/tmp/vigie-rules-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        write_file("clients.conf",
                   "rules = ( { id = \"clients\"; terms = [ \"Ménard\" ]; threshold = 3; },\n"
                   "          { id = \"matricule\"; pattern = \"MAT-[0-9]{6}\"; } );\n");
        char text[1024];
        snprintf(text, sizeof(text),
                 "rules = { dirs = [ \"%s\" ]; };\n"
                 "policies = {\n"
                 "  default = { detectors = { matricule = { action = \"alert\"; }; }; };\n"
                 "  strict = { };\n"
                 "};\n",
                 tmp);
        struct vg_config *cfg = NULL;
        char err[512] = "";
        if (vg_config_load_string(text, "test.conf", &cfg, err, sizeof(err)) != 0)
                fail_msg("config: %s", err);
        assert_non_null(cfg->custom);
        assert_int_equal(cfg->custom->nrules, 2);
        const struct vg_policy *p = vg_config_policy(cfg, "default");
        assert_int_equal(vg_policy_rule(p, "matricule")->action, VG_ACTION_ALERT);
        assert_int_equal(vg_policy_rule(p, "clients")->threshold, 3);
        p = vg_config_policy(cfg, "strict");
        assert_int_equal(vg_policy_rule(p, "matricule")->action, VG_ACTION_QUARANTINE);
        p = vg_config_policy(cfg, "monitor");
        assert_non_null(vg_policy_rule(p, "clients"));
        vg_config_free(cfg);
        /* a policy naming a detector that exists nowhere */
        snprintf(text, sizeof(text),
                 "rules = { dirs = [ \"%s\" ]; };\n"
                 "policies = {\n"
                 "  default = { detectors = {\n"
                 "    matricul = { threshold = 2; }; }; };\n"
                 "};\n",
                 tmp);
        assert_int_equal(vg_config_load_string(text, "test.conf", &cfg, err, sizeof(err)), -EINVAL);
        if (!strstr(err, "test.conf:4: unknown detector 'matricul'"))
                fail_msg("message: %s", err);
        /* a broken rules file fails the whole configuration, naming the rules file */
        write_file("zz-broken.conf", "rules = ( { id = \"x1\"; pattern = \"a+\"; } );");
        snprintf(text, sizeof(text), "rules = { dirs = [ \"%s\" ]; };\n", tmp);
        assert_int_equal(vg_config_load_string(text, "test.conf", &cfg, err, sizeof(err)), -EINVAL);
        if (!strstr(err, "zz-broken.conf:1: "))
                fail_msg("message: %s", err);
        rm_rf(tmp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_secret_key),    cmocka_unit_test(test_api_token),
            cmocka_unit_test(test_password),      cmocka_unit_test(test_marking),
            cmocka_unit_test(test_health),        cmocka_unit_test(test_chunk_boundaries),
            cmocka_unit_test(test_custom_engine), cmocka_unit_test(test_pattern_check),
            cmocka_unit_test(test_loader),        cmocka_unit_test(test_loader_errors),
            cmocka_unit_test(test_config),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
