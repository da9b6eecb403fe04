/* The sweep journal's replay: what mup-sweep does with DIR/journal.jsonl when it starts, resumes or
 * reports (read every line, match records to runs, choose the trial to transfer, count and summarise).
 * The input is the journal of fuzz_sweep_config; its first part is read when the journal is opened and
 * the rest after it is appended, as a running sweep reads what other workers add; then it is opened
 * again as a resume does. Any bytes give a state or a status, never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "journal.h"
#include "report.h"
#include "transfer.h"

static mup_sweep_config *config;
static mup_run_list list;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    if (size == 0)
        return 0;
    if (!config && (mup_sweep_config_parse(fuzz_sweep_config, "fuzz.json", &config) != MUP_OK ||
                    mup_run_list_make(config, &list) != MUP_OK))
        abort();
    /* the first line goes with the first part (else the open refuses it); the last byte (a newline in a
     * whole journal) places the split in the rest */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) + 1 : size, first = head + data[size - 1] * (size - head) / 256;
    const char *path = fuzz_write("journal.jsonl", data, first);
    mup_journal *j;
    if (mup_journal_open(fuzz_dir(), config, &list, MUP_JOURNAL_READ, true, &j) != MUP_OK)
        return 0;
    FILE *f = fopen(path, "ab");
    if (!f || fwrite(data + first, 1, size - first, f) != size - first || fclose(f) != 0)
        abort();
    mup_journal_refresh(j);
    mup_transfer t;
    mup_transfer_choose(&t, config, &list, j);
    const char *status;
    mup_target_objective(config, &list, j, &status);
    mup_summary_write(fuzz_dir(), config, &list, j, &t);
    mup_results_write(fuzz_dir(), config, &list, j, &t);
    mup_transfer_free(&t);
    mup_journal_close(j);
    /* then as a resuming sweep: it joins the sweep (a --force header when the config differs) and frees
     * the runs that failed because of their environment */
    if (mup_journal_open(fuzz_dir(), config, &list, MUP_JOURNAL_RESUME, true, &j) == MUP_OK) {
        mup_transfer_choose(&t, config, &list, j);
        mup_transfer_free(&t);
        mup_journal_close(j);
    }
    if (mup_run_list_set_target(&list, config, -1) != MUP_OK) /* the next input starts from the same list */
        abort();
    return 0;
}
