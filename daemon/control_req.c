#include "control_req.h"

json_t *vg_control_parse(const char *line, size_t n, const char **verb)
{
        *verb = NULL;
        json_error_t jerr;
        json_t *req = json_loadb(line, n, 0, &jerr);
        if (!json_is_object(req)) {
                json_decref(req);
                return NULL;
        }
        *verb = json_string_value(json_object_get(req, "verb"));
        return req;
}
