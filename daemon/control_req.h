/* The control socket's request parsing, kept apart from the socket and the
 * manager so that it can be tested and fuzzed on its own (tests/fuzz). */
#pragma once
#include <jansson.h>
#include <stddef.h>

/* Parses one request line (without its newline): a JSON object. Returns it (the
 * caller json_decref()s it) with *verb set to its "verb" string (owned by the
 * request; NULL when there is none or it is not a string), or NULL when the line
 * is not a JSON object. */
json_t *vg_control_parse(const char *line, size_t n, const char **verb);
