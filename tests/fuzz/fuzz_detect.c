/* The detector engine with its validators: text in, findings out. The text goes
 * through the text sink (normalisation, chunks with overlap) as an extractor's
 * text does, with the built-in detectors and a few custom rules of each kind
 * (pattern with and without validator, context, dictionary, marking). The same
 * text then goes through the name masker. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "fuzz.h"
#include "report.h"
#include "text.h"

static struct vg_rules *rules;

static void rules_free(void)
{
        vg_rules_free(rules);
}

static struct vg_rules *get_rules(void)
{
        if (rules)
                return rules;
        static char *carte_ctx[] = {"carte", "cb", NULL};
        static char *dict[] = {"projet atlas", "nom de code", "fusion"};
        static char *marks[] = {"tres secret maison"};
        static struct vg_custom_rule r[] = {
            {.id = "client_id", .pattern = "CL-[0-9]{6}", .show = VG_SHOW_MASKED, .threshold = 1},
            {.id = "carte_maison",
             .pattern = "[0-9]{16}",
             .validator = VG_VALIDATOR_LUHN,
             .context = carte_ctx,
             .window = 64,
             .show = VG_SHOW_HIDDEN,
             .threshold = 1},
            {.id = "iban_maison",
             .pattern = "FR[0-9]{2}[0-9A-Z]{23}",
             .validator = VG_VALIDATOR_IBAN,
             .threshold = 1},
            {.id = "nir_maison", .pattern = "[12][0-9]{14}", .validator = VG_VALIDATOR_NIR},
            {.id = "projets", .terms = dict, .nterms = 3, .show = VG_SHOW_VALUE, .threshold = 1},
        };
        static struct vg_custom custom = {
            .rules = r,
            .nrules = sizeof(r) / sizeof(r[0]),
            .markings = marks,
            .nmarkings = 1,
            .health_threshold = 3,
        };
        if (vg_rules_new(&custom, &rules) < 0)
                abort();
        atexit(rules_free);
        return rules;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vg_rules *ru = get_rules();
        struct vg_detect *d = NULL;
        struct vg_text *t = NULL;
        struct vg_report *r = vg_report_new("fuzz");
        if (!r || vg_detect_new(ru, &d) < 0 || vg_text_new(d, 0, &t) < 0)
                goto out;
        /* Pushed in two pieces, cut where the first byte says: a cut may fall
         * inside a UTF-8 sequence or an identifier. */
        size_t cut = size ? (size_t)data[0] * size / 256 : 0;
        int e = vg_text_push(t, (const char *)data, cut);
        if (e == 0)
                e = vg_text_push(t, (const char *)data + cut, size - cut);
        if (e == 0)
                e = vg_text_end(t);
        if (e == 0 || e == -ELOOP)
                (void)vg_detect_report(d, r, "fuzz");
        char *masked = vg_rules_mask_string(ru, (const char *)data, size);
        free(masked);
out:
        vg_text_free(t);
        vg_detect_free(d);
        vg_report_free(r);
        return 0;
}
