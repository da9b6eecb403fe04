#include "json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "plot.h"

static mup_status parse_error(const char *text, const char *at, const char *source) {
    if (!at)
        at = text;
    int line = 1, col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (!*at)
        return mup_error(MUP_ERR_PARSE, "%s:%d:%d: invalid JSON: the text ends too early", source, line, col);
    int len = (int)strcspn(at, "\r\n");
    return mup_error(MUP_ERR_PARSE, "%s:%d:%d: invalid JSON near \"%.*s\"", source, line, col,
                     len < 24 ? len : 24, at);
}

mup_status mup_json_parse(const char *text, const char *source, cJSON **out) {
    const char *end = NULL;
    *out = cJSON_ParseWithOpts(text, &end, true);
    return *out ? MUP_OK : parse_error(text, end, source);
}

/* The whole file as a NUL-terminated string (free it). */
static mup_status read_text(const char *path, char **text) {
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mup_error(MUP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0, got;
    char *buf = mup_tool_xmalloc(cap);
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap)
            buf = mup_tool_xrealloc(buf, cap *= 2);
    }
    bool failed = ferror(f);
    fclose(f);
    buf[len] = '\0';
    if (failed || strlen(buf) != len) {
        free(buf);
        return failed ? mup_error(MUP_ERR_IO, "%s: cannot read", path)
                      : mup_error(MUP_ERR_PARSE, "%s: contains a NUL byte", path);
    }
    *text = buf;
    return MUP_OK;
}

mup_status mup_json_load(const char *path, cJSON **out) {
    char *text;
    *out = NULL;
    mup_status s = read_text(path, &text);
    if (s != MUP_OK)
        return s;
    s = mup_json_parse(text, path, out);
    free(text);
    return s;
}

mup_status mup_json_save(const char *dir, const char *name, cJSON *root) {
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f;
    mup_status s = mup_plot_open(dir, name, &f);
    if (!s) {
        fprintf(f, "%s\n", text);
        s = mup_plot_close(f, dir, name);
    }
    cJSON_free(text);
    return s;
}

cJSON *mup_json_number(double v) {
    MUP_ASSERT(isfinite(v), "JSON has no number for %g", v);
    if (v == floor(v) && fabs(v) <= INT_MAX)
        return cJSON_CreateNumber(v);
    char buf[32];
    if (v == floor(v) && fabs(v) <= 0x1p53) { /* seeds: every digit, not 2.34871586622285e+15 */
        snprintf(buf, sizeof buf, "%.0f", v);
        return cJSON_CreateRaw(buf);
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(buf);
}

bool mup_json_get_number(const cJSON *v, double *out) {
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (!cJSON_IsRaw(v))
        return false;
    char *end;
    *out = strtod(v->valuestring, &end);
    return end != v->valuestring && *end == '\0';
}

const char *mup_json_type_name(const cJSON *v) {
    if (!v) return "nothing";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "a list";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}

cJSON *mup_json_number_or_null(double v) { return isfinite(v) ? mup_json_number(v) : cJSON_CreateNull(); }

char *mup_json_line(cJSON *obj) {
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    size_t len = strlen(text);
    char *line = mup_tool_xmalloc(len + 2);
    memcpy(line, text, len);
    memcpy(line + len, "\n", 2);
    cJSON_free(text);
    return line;
}
