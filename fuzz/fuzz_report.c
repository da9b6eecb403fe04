/* The report channel of a program run (sweep/run/protocol.c): any bytes a program writes on fd 3, in any
 * pieces, then the journal line made of what was read. A state or a bad line, never a crash; the line
 * always parses back as one JSON object. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "protocol.h"
#include "records.h"

static const char *CONFIG =
    "{\"objective\": \"loss\", \"program\": {\"command\": [\"true\"]},"
    " \"search\": {\"sampler\": \"grid\", \"space\": {\"lr\": {\"dist\": \"choice\", \"values\": [1]}}},"
    " \"proxy_widths\": [8], \"target\": {\"width\": 16}}";

static mup_sweep_config *config;
static mup_run_list list;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    if (!config && (mup_sweep_config_parse(CONFIG, "fuzz.json", &config) != MUP_OK ||
                    mup_run_list_make(config, &list) != MUP_OK))
        abort();
    mup_protocol p;
    mup_protocol_init(&p, "loss", size && data[0] & 1 ? -1.0 : 1.0);
    /* the first byte sets the size of the pieces the bytes arrive in, as reads of a pipe would */
    size_t piece = size ? 1 + data[0] % 64 : 1;
    for (size_t at = 1; at < size; at += piece)
        mup_protocol_feed(&p, (const char *)data + at, at + piece <= size ? piece : size - at);
    /* as program.c judges a program that exited 0 */
    bool reported = p.has_final && p.has_objective;
    mup_run_status status = p.bad || (!reported && p.nonfinite_step < 0) ? MUP_RUN_FAILED
                            : !reported || !isfinite(p.objective_value) ? MUP_RUN_DIVERGED
                                                                        : MUP_RUN_COMPLETE;
    mup_run_outcome o = {.status = status, .message = p.error, .report = &p,
                         .stderr_tail = "tail", .worker = "fuzz"};
    char *line = mup_run_record_line(config, &list.runs[0], &o);
    cJSON *back = cJSON_Parse(line);
    if (!cJSON_IsObject(back) || strchr(line, '\n') != line + strlen(line) - 1)
        abort();
    mup_run_record rec;
    if (mup_run_record_parse(config, back, &rec) != MUP_OK)
        abort();
    mup_run_record_free(&rec);
    cJSON_Delete(back);
    free(line);
    mup_protocol_free(&p);
    return 0;
}
