/* Redaction: a copy of a document with its personal data replaced by typed
 * placeholders ([NIR-1], [IBAN-1], [PERSONNE-2]...), consistent within the
 * document, so the rest can still go to an AI tool.
 *
 * Every finding of a redactable detector is replaced, not only those that met
 * a threshold. Markings and health vocabulary are not redactable: replacing the
 * words would not remove what the document is about, so a document the policy
 * flags for them is refused. Text formats keep their format with only the
 * values replaced; OOXML and ODF documents have their XML text rewritten in
 * place; anything else becomes the redacted extracted text. The copy is then
 * scanned again with the same engine and policy, and refused if anything the
 * policy flags is still in it: a copy is never clean by assumption. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "report.h"
#include "scan.h"

enum vg_redact_format {
        VG_REDACT_SAME, /* the same format where vigie can rewrite it, else text */
        VG_REDACT_TEXT, /* the extracted text, redacted */
};

enum vg_redact_status {
        VG_REDACT_DONE,           /* the copy is written and scanned again */
        VG_REDACT_UNREADABLE,     /* part of the original could not be read */
        VG_REDACT_NOT_REDACTABLE, /* the policy flags it for what cannot be replaced */
        VG_REDACT_STILL_FLAGGED,  /* the copy still holds what the policy flags */
};

struct vg_redact_opts {
        enum vg_redact_format format;
        bool english; /* placeholders in English ([PERSON-1]); French by default */
};

/* What was replaced, per detector. */
struct vg_redact_entry {
        char detector[48];
        char label[32];    /* the placeholder's word: NIR, IBAN, PERSONNE... */
        uint64_t count;    /* occurrences replaced */
        uint64_t distinct; /* placeholders used */
        size_t nsamples;
        char samples[VG_MAX_SAMPLES][240]; /* "masked value -> [NIR-1]" */
};

struct vg_redact_result {
        enum vg_redact_status status;
        bool as_text;  /* the copy is text (name it .txt) */
        char why[256]; /* the detectors or reasons, for a refusal */
        struct vg_redact_entry *entries;
        size_t nentries;
        struct vg_report *report; /* the original's report, policy applied */
        struct vg_report *copy;   /* the copy's report (when one was written) */
};

/* Whether findings of this detector are replaced (identifiers, secrets, names,
 * the admin's own rules), and under which word. */
bool vg_redactable(const char *detector);

/* Redacts the regular file open on in (named `name`) into out (an empty regular
 * file, read back for the second scan). Returns 0 with a result whose status
 * says whether the copy may be used (out holds it only when DONE), or a
 * negative errno. With a NULL policy (the daemon's workers: the supervisor
 * decides), nothing is refused for what the policy flags: the copy is written
 * and its report returned in `copy` for the caller to judge. */
int vg_redact_fd(struct vg_engine *e, const struct vg_policy *policy, int in, const char *name,
                 const struct vg_redact_opts *opts, int out, struct vg_redact_result **ret);
void vg_redact_result_free(struct vg_redact_result *r);
