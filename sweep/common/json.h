/* JSON files for the tools: read whole and parsed, with syntax errors located by line and column. */
#ifndef MUP_SWEEP_JSON_H
#define MUP_SWEEP_JSON_H

#include <cjson/cJSON.h>

#include "mup/error.h"

/* Parses text; a syntax error names source:line:column and the text there (MUP_ERR_PARSE).
 * cJSON_Delete *out. */
mup_status mup_json_parse(const char *text, const char *source, cJSON **out);
/* The whole file parsed as mup_json_parse does, with the path as source; MUP_ERR_IO when it cannot be
 * read, MUP_ERR_PARSE when it contains a NUL byte. */
mup_status mup_json_load(const char *path, cJSON **out);
/* Writes root, indented, to DIR/NAME and deletes it; MUP_ERR_IO naming the file when a write fails. */
mup_status mup_json_save(const char *dir, const char *name, cJSON *root);

/* A number that prints exactly: integers as cJSON numbers, other values as raw JSON text with the
 * shortest digits that read back to the same double (cJSON's own printing keeps 15 digits whenever
 * they come within a few ulps, which would change sampled values and seeds on the way to the journal).
 * Read such items back with mup_json_get_number; once printed and parsed they are plain numbers. */
cJSON *mup_json_number(double v);
/* The value of a number item, or of a raw item holding one; false for anything else. */
bool mup_json_get_number(const cJSON *v, double *out);

/* The JSON type of v in words ("a string", "an array"), for error messages. */
const char *mup_json_type_name(const cJSON *v);

/* obj as one compact line ending in a newline (malloc'd); obj is deleted. */
char *mup_json_line(cJSON *obj);
/* A finite number, or null. */
cJSON *mup_json_number_or_null(double v);

#endif
