/* The control socket's requests: bytes as read from the socket (capped as the
 * daemon caps them), cut at the first newline, parsed as the daemon parses
 * them, then the fields each verb reads taken as it takes them. */
#include <stdlib.h>
#include <string.h>

#include "control_req.h"
#include "fuzz.h"

#define REQUEST_MAX (64 * 1024) /* as daemon/control.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > REQUEST_MAX)
                size = REQUEST_MAX;
        const uint8_t *nl = memchr(data, '\n', size);
        if (!nl)
                return 0; /* the daemon waits for the rest, or refuses it as too long */
        const char *verb;
        json_t *req = vg_control_parse((const char *)data, (size_t)(nl - data), &verb);
        if (!req)
                return 0;
        static const char *const fields[] = {"id", "reason", "to", "route", NULL};
        size_t total = verb ? strlen(verb) : 0;
        for (size_t i = 0; fields[i]; i++) {
                const char *s = json_string_value(json_object_get(req, fields[i]));
                total += s ? strlen(s) : 0;
        }
        total += (size_t)json_integer_value(json_object_get(req, "since")) & 1;
        total += (size_t)json_integer_value(json_object_get(req, "older_than")) & 1;
        total += json_is_true(json_object_get(req, "allow"));
        char *echo = json_dumps(req, JSON_COMPACT);
        if (total == (size_t)-1)
                abort(); /* keeps the reads from being optimised away */
        free(echo);
        json_decref(req);
        return 0;
}
