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

#endif
