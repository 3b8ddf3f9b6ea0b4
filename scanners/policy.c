#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Defaults: one occurrence of an identifier, a secret or a marking is enough;
 * addresses and phone numbers only when there are many distinct ones in one object
 * (a contact list, not a signature). */
static const struct {
        const char *id;
        uint64_t threshold;
} defaults[] = {
    {"fr_nir", 1},     {"iban", 1},        {"fr_rib", 1},    {"credit_card", 1},
    {"fr_cni", 1},     {"fr_passport", 1}, {"fr_tax_id", 1}, {"fr_driving_licence", 1},
    {"secret_key", 1}, {"api_token", 1},   {"password", 1},  {"marking", 1},
    {"health", 1},     {"email", 10},      {"phone_fr", 10},
};

bool vg_policy_counts_distinct(const char *detector)
{
        return strcmp(detector, "email") == 0 || strcmp(detector, "phone_fr") == 0;
}

int vg_policy_init(struct vg_policy *p, const char *name)
{
        memset(p, 0, sizeof(*p));
        p->unscannable_action = VG_ACTION_QUARANTINE;
        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
                int e = vg_policy_set(p, defaults[i].id, defaults[i].threshold,
                                      VG_ACTION_QUARANTINE, false);
                if (e < 0) {
                        vg_policy_clear(p);
                        return e;
                }
        }
        return 0;
}

void vg_policy_clear(struct vg_policy *p)
{
        free(p->name);
        free(p->rules);
        memset(p, 0, sizeof(*p));
}

int vg_policy_copy(struct vg_policy *dst, const struct vg_policy *src)
{
        *dst = *src;
        dst->name = strdup(src->name);
        dst->rules = src->nrules ? calloc(src->nrules, sizeof(*dst->rules)) : NULL;
        if (!dst->name || (src->nrules && !dst->rules)) {
                vg_policy_clear(dst);
                return -ENOMEM;
        }
        if (src->nrules)
                memcpy(dst->rules, src->rules, src->nrules * sizeof(*dst->rules));
        return 0;
}

const struct vg_policy_rule *vg_policy_rule(const struct vg_policy *p, const char *detector)
{
        for (size_t i = 0; i < p->nrules; i++)
                if (strcmp(p->rules[i].detector, detector) == 0)
                        return &p->rules[i];
        return NULL;
}

int vg_policy_set(struct vg_policy *p, const char *detector, uint64_t threshold,
                  enum vg_action action, bool ignore)
{
        if (strlen(detector) >= sizeof(p->rules[0].detector))
                return -ENAMETOOLONG;
        struct vg_policy_rule *r = (struct vg_policy_rule *)vg_policy_rule(p, detector);
        if (!r) {
                struct vg_policy_rule *nr = reallocarray(p->rules, p->nrules + 1, sizeof(*nr));
                if (!nr)
                        return -ENOMEM;
                p->rules = nr;
                r = &p->rules[p->nrules++];
                memset(r, 0, sizeof(*r));
                strcpy(r->detector, detector); /* length checked above */
        }
        r->threshold = threshold ? threshold : 1;
        r->action = action;
        r->ignore = ignore;
        return 0;
}

int vg_policy_apply(const struct vg_policy *p, struct vg_report *r)
{
        bool flagged = false;
        enum vg_action action = VG_ACTION_PASS;
        for (size_t i = 0; i < r->nfindings; i++) {
                const struct vg_finding *f = &r->findings[i];
                const struct vg_policy_rule *rule = vg_policy_rule(p, f->detector);
                if (!rule || rule->ignore)
                        continue;
                uint64_t v = vg_policy_counts_distinct(f->detector) ? f->distinct : f->count;
                if (v < rule->threshold)
                        continue;
                flagged = true;
                if (rule->action > action)
                        action = rule->action;
        }
        if (r->nunscannable > 0 && p->unscannable_action > action)
                action = p->unscannable_action;
        r->verdict = flagged           ? VG_VERDICT_FLAGGED
                     : r->nunscannable ? VG_VERDICT_UNSCANNABLE
                                       : VG_VERDICT_CLEAN;
        if (r->verdict == VG_VERDICT_CLEAN)
                action = VG_ACTION_PASS;
        if (p->monitor && action > VG_ACTION_ALERT)
                action = VG_ACTION_ALERT;
        r->action = action;
        r->monitor = p->monitor;
        char *name = strdup(p->name);
        if (!name)
                return -ENOMEM;
        free(r->policy);
        r->policy = name;
        return 0;
}
