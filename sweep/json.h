/* JSON files for the tools: read whole and parsed, with syntax errors located by line and column. */
#ifndef MUP_SWEEP_JSON_H
#define MUP_SWEEP_JSON_H

#include <cjson/cJSON.h>

#include "mup/error.h"

/* Parses text; a syntax error names source:line:column and the text there (MUP_ERR_PARSE).
 * cJSON_Delete *out. */
mup_status mup_json_parse(const char *text, const char *source, cJSON **out);
/* The whole file as a NUL-terminated string (free it): MUP_ERR_IO when it cannot be read,
 * MUP_ERR_PARSE when it contains a NUL byte. */
mup_status mup_text_file_read(const char *path, char **text);
/* mup_text_file_read, then mup_json_parse with the path as source. */
mup_status mup_json_load(const char *path, cJSON **out);

#endif
