#include "json.h"

#include <errno.h>
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
