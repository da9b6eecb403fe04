#include "protocol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

bool mup_safe_name(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                  ch == '.' || ch == '-';
        if (!ok || n >= MUP_SAFE_NAME_MAX)
            return false;
    }
    return n > 0;
}

void mup_protocol_init(mup_protocol *p, const char *objective, double sign) {
    *p = (mup_protocol){.objective = objective, .last_step = -1, .objective_value = NAN, .best = NAN,
                        .sign = sign, .nonfinite_step = -1};
}

void mup_protocol_free(mup_protocol *p) {
    cJSON_Delete(p->final_metrics);
    cJSON_Delete(p->read);
    free(p->curve_step);
    free(p->curve_value);
    free(p->buf);
    *p = (mup_protocol){0};
}

/* The line as the message quotes it: at most 80 characters, control characters as '?'. */
static void quote(char *out, size_t n, const char *line, size_t len) {
    size_t k = 0, max = n - 8 < 80 ? n - 8 : 80;
    for (size_t i = 0; i < len && k < max; i++)
        out[k++] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? '?' : line[i];
    snprintf(out + k, n - k, "%s", len > max ? "..." : "");
}

static bool bad(mup_protocol *p, const char *line, size_t len, const char *why) {
    char shown[96];
    quote(shown, sizeof shown, line, len);
    snprintf(p->error, sizeof p->error, "bad report line %d (%s): \"%s\"", p->lines, why, shown);
    p->bad = true;
    return false;
}

static bool word_at(const char *s, size_t i, size_t len, const char *w) {
    size_t n = strlen(w);
    return i + n <= len && memcmp(s + i, w, n) == 0;
}

/* The line with NaN, Infinity and -Infinity outside strings turned into null (JSON has no such
 * numbers, but Python's json module writes them); malloc'd and NUL-terminated. */
static char *nonfinite_to_null(const char *s, size_t len) {
    char *out = mup_tool_xmalloc(len * 2 + 1);
    size_t k = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (in_string) {
            out[k++] = ch;
            if (ch == '\\' && i + 1 < len)
                out[k++] = s[++i];
            else if (ch == '"')
                in_string = false;
            continue;
        }
        const char *w = word_at(s, i, len, "NaN") ? "NaN" : word_at(s, i, len, "Infinity") ? "Infinity"
                      : word_at(s, i, len, "-Infinity") ? "-Infinity" : NULL;
        if (w) {
            memcpy(out + k, "null", 4);
            k += 4;
            i += strlen(w) - 1;
            continue;
        }
        in_string = ch == '"';
        out[k++] = ch;
    }
    out[k] = '\0';
    return out;
}

/* metrics: an object of safe names and numbers (null: not finite). The objective's value in *v. */
static const char *check_metrics(const mup_protocol *p, const cJSON *metrics, bool *has, double *v) {
    if (!cJSON_IsObject(metrics))
        return "\"metrics\" is not an object";
    *has = false;
    for (const cJSON *m = metrics->child; m; m = m->next) {
        if (!mup_safe_name(m->string))
            return "a metric name is not 1 to 63 of A-Z a-z 0-9 _ . -";
        if (!cJSON_IsNumber(m) && !cJSON_IsNull(m))
            return "a metric is not a number";
        for (const cJSON *q = metrics->child; q != m; q = q->next)
            if (strcmp(q->string, m->string) == 0)
                return "a metric is given twice";
        if (strcmp(m->string, p->objective) == 0) {
            *has = true;
            *v = cJSON_IsNumber(m) && isfinite(m->valuedouble) ? m->valuedouble : NAN;
        }
    }
    return NULL;
}

static const char *check_read(const cJSON *read) {
    if (!read)
        return NULL;
    if (!cJSON_IsArray(read))
        return "\"read\" is not a list";
    for (const cJSON *r = read->child; r; r = r->next)
        if (!cJSON_IsString(r) || !mup_safe_name(r->valuestring))
            return "\"read\" holds something other than key names";
    return NULL;
}

static void seen_objective(mup_protocol *p, int step, double v) {
    if (!isfinite(v) && p->nonfinite_step < 0)
        p->nonfinite_step = step;
    if (isfinite(v) && !(p->sign * p->best <= p->sign * v))
        p->best = v;
}

static void add_point(mup_protocol *p, int step, double v) {
    if (p->n_curve == p->cap_curve) {
        p->cap_curve = p->cap_curve ? 2 * p->cap_curve : 64;
        p->curve_step = mup_tool_xrealloc(p->curve_step, (size_t)p->cap_curve * sizeof *p->curve_step);
        p->curve_value = mup_tool_xrealloc(p->curve_value, (size_t)p->cap_curve * sizeof *p->curve_value);
    }
    p->curve_step[p->n_curve] = step;
    p->curve_value[p->n_curve++] = v;
}

static const char *take(mup_protocol *p, const cJSON *o) {
    if (!cJSON_IsObject(o))
        return "not a JSON object";
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(o, "metrics");
    bool final = cJSON_IsString(type) && strcmp(type->valuestring, "final") == 0;
    if (!final && !(cJSON_IsString(type) && strcmp(type->valuestring, "report") == 0))
        return "\"type\" is neither \"report\" nor \"final\"";
    if (p->has_final)
        return "a line after the final report";
    bool has = false;
    double v = NAN;
    const char *why = check_metrics(p, metrics, &has, &v);
    if (why)
        return why;
    if (!final) {
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(o, "step");
        if (!cJSON_IsNumber(step) || step->valuedouble != floor(step->valuedouble) || step->valuedouble < 0 ||
            step->valuedouble > 2147483647.0)
            return "\"step\" is not a whole number from 0 to 2^31 - 1";
        p->last_step = (int)step->valuedouble;
        p->reports++;
        if (has) {
            add_point(p, p->last_step, v);
            seen_objective(p, p->last_step, v);
        }
        return NULL;
    }
    const cJSON *read = cJSON_GetObjectItemCaseSensitive(o, "read");
    why = check_read(read);
    if (why)
        return why;
    p->has_final = true;
    p->final_metrics = cJSON_Duplicate(metrics, true);
    p->read = read ? cJSON_Duplicate(read, true) : NULL;
    p->has_objective = has;
    p->objective_value = v;
    if (has)
        seen_objective(p, p->last_step, v);
    return NULL;
}

bool mup_protocol_line(mup_protocol *p, const char *line, size_t len) {
    if (p->bad)
        return false;
    p->lines++;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len)
        return true;
    if (memchr(line, '\0', len))
        return bad(p, line, len, "a NUL byte");
    char *text = nonfinite_to_null(line, len);
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithOpts(text, &end, true);
    const char *why = o ? take(p, o) : "not JSON";
    cJSON_Delete(o);
    free(text);
    return why ? bad(p, line, len, why) : true;
}

bool mup_protocol_feed(mup_protocol *p, const char *bytes, size_t n) {
    for (size_t i = 0; i < n && !p->bad; i++) {
        if (bytes[i] == '\n') {
            if (p->overlong) {
                p->lines++;
                return bad(p, p->buf, p->len, "longer than 64 KiB");
            }
            mup_protocol_line(p, p->buf ? p->buf : "", p->len);
            p->len = 0;
            continue;
        }
        if (p->len == MUP_PROTOCOL_LINE_MAX) {
            p->overlong = true;
            continue;
        }
        if (p->len == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 256;
            p->buf = mup_tool_xrealloc(p->buf, p->cap);
        }
        p->buf[p->len++] = bytes[i];
    }
    return !p->bad;
}
