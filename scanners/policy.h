/* The policy: a pure function from a report to a verdict and an action.
 * A finding meets the policy when its count (distinct values, for the detectors
 * that count people rather than occurrences) reaches the detector's threshold and
 * the detector's action is not `ignore`. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "report.h"

struct vg_policy_rule {
        char detector[48];
        uint64_t threshold;
        enum vg_action action;
        bool ignore;
};

struct vg_policy {
        char *name;
        bool monitor; /* trial runs: every quarantine becomes an alert */
        enum vg_action unscannable_action;
        struct vg_policy_rule *rules;
        size_t nrules;
};

/* The built-in default policy (DESIGN.md, issue "detection"). */
int vg_policy_init(struct vg_policy *p, const char *name);
void vg_policy_clear(struct vg_policy *p);
int vg_policy_copy(struct vg_policy *dst, const struct vg_policy *src);
/* Sets (or adds) the rule of one detector. */
int vg_policy_set(struct vg_policy *p, const char *detector, uint64_t threshold,
                  enum vg_action action, bool ignore);
const struct vg_policy_rule *vg_policy_rule(const struct vg_policy *p, const char *detector);
/* Whether the threshold compares distinct values (email, phone) or occurrences. */
bool vg_policy_counts_distinct(const char *detector);
/* Sets r->verdict, r->action, r->monitor and r->policy. */
int vg_policy_apply(const struct vg_policy *p, struct vg_report *r);
