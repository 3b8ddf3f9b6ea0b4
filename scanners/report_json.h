/* A report as one JSON object: the stable contract of `vigiectl scan --json`
 * and of the worker -> supervisor protocol. */
#pragma once
#include "report.h"

#include <jansson.h>

/* New reference, or NULL on allocation failure. */
json_t *vg_report_to_json(const struct vg_report *r);
/* One line, no trailing newline; caller frees. */
char *vg_report_to_json_line(const struct vg_report *r);
/* Parses what vg_report_to_json() wrote; -EINVAL on a malformed document. */
int vg_report_from_json(const json_t *j, struct vg_report **ret);
