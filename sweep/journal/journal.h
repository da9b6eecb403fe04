/* The sweep's journal: DIR/journal.jsonl, append-only JSON lines.
 *
 * Line 1 is a header: {"type": "header", "fingerprint": ..., "config": {canonical config}}. Every
 * other line is one finished run (runs.h), or the draw of a trial that the tpe sampler draws as the
 * sweep goes ({"type": "trial", "trial": k, "params": {...}}: written when its first run is claimed,
 * before it trains, and read back by every process, which gives the trial's runs their spec; the first
 * draw of a trial that fits the search space counts, so a resumed sweep never draws a started trial
 * anew). Each is written by one write() and an fsync() while holding the journal lock, so a kill at any moment loses at most the runs in flight. Reading tolerates a line
 * cut short by a kill or a full disk (or any line that is not one JSON object alone, a NUL byte
 * included): it is skipped with a warning and its run is done again; the next append closes a cut
 * line with " (cut short)" and a newline, so that a whole record that lost only its newline never
 * becomes a second record. A record that does not validate in every field (mup_run_record_parse) or
 * that disagrees with its run's phase, width, trial or seed is skipped likewise. A later
 * header (written by --force) replaces the fingerprint; a record counts for a run of the current list
 * only when its id and its whole spec match, so records of a changed config are never mistaken for
 * the new one's.
 *
 * DIR/journal.lock carries fcntl locks, which the kernel (or the NFS lock manager) drops when their
 * process dies: byte 0 is the journal lock, held while reading new lines and claiming, and while
 * appending; byte 1 + i is the claim of run i, held by the process training it. A run is free when it
 * has no record and its byte is not locked, so the runs of a dead worker are free again at once. Every
 * process that opens the journal to write holds byte 2 + MUP_RUNS_MAX shared while it has it open, and
 * --force takes that byte exclusively to write its header: a sweep of another config cannot take over
 * a directory while a sweep runs in it.
 *
 * A record of a run that failed because of its environment (runs.h) counts in the process that wrote
 * it; a writer that opens the journal later trains that run again. */
#ifndef MUP_SWEEP_JOURNAL_H
#define MUP_SWEEP_JOURNAL_H

#include <stdbool.h>

#include "config.h"
#include "records.h"

/* The longest line read: the reader holds one line at a time, never the file; a longer line is
 * skipped like a garbled one, and a longer record is not written. */
#define MUP_JOURNAL_LINE_MAX (64 << 20)

typedef struct mup_journal mup_journal;

typedef enum {
    MUP_JOURNAL_CREATE,  /* create DIR and its journal when missing, else continue it */
    MUP_JOURNAL_RESUME,  /* continue a journal that must exist */
    MUP_JOURNAL_READ,    /* read a journal that must exist; write nothing */
} mup_journal_mode;

/* Opens DIR's journal for the config and run list (the list is borrowed and must outlive the
 * journal; the trials drawn in the journal get their specs in it). Refuses a directory it cannot write (except to read), a file that is not a sweep journal,
 * and a journal of another config unless force, which (when writing) appends a header for this one. */
mup_status mup_journal_open(const char *dir, const mup_sweep_config *c, mup_run_list *l,
                            mup_journal_mode mode, bool force, mup_journal **out);
void mup_journal_close(mup_journal *j);

/* Warnings about skipped lines go to mup_log unless quiet (extra workers of one sweep). */
void mup_journal_set_quiet(mup_journal *j, bool quiet);

/* The journal lock (blocking); refresh and claim under it. */
void mup_journal_lock(mup_journal *j);
void mup_journal_unlock(mup_journal *j);
/* Reads the lines appended since the last read. */
void mup_journal_refresh(mup_journal *j);
/* Matches every record against the list again, after the target runs got their specs. */
void mup_journal_rematch(mup_journal *j);

/* The record that completes run i, or NULL. */
const mup_run_record *mup_journal_record(const mup_journal *j, int i);
/* Claims run i for this process; false when another process holds it. Under the journal lock. */
bool mup_journal_claim(mup_journal *j, int i);
/* Journals trial's draw (values in c->search.dims order) and gives its runs their spec. Under the
 * journal lock. */
mup_status mup_journal_draw(mup_journal *j, int trial, const double *values);
/* Appends one record line and releases the claim on run i (-1: none). Takes the lock itself. */
mup_status mup_journal_append(mup_journal *j, const char *line, int i);

/* MUP_ERR_IO when DIR/journal.jsonl is no longer the file opened (DIR deleted or moved): every append
 * checks it first, and a sweep's parent checks it while its workers train. */
mup_status mup_journal_check(const mup_journal *j);

/* Appends a report line of run i: its objective (as the sweep minimises it) at an intermediate step,
 * for the pruners of other workers; then reads what others appended. Takes the lock itself. Not synced:
 * a report lost with the machine is made again when its run is. */
mup_status mup_journal_report(mup_journal *j, int i, int step, double value);
/* Run i's intermediate values: its record's when it has one (complete when the record is), else its
 * report lines since the latest header (valid until the next refresh). */
mup_curve mup_journal_curve(const mup_journal *j, int i);

/* DIR/journal.jsonl */
const char *mup_journal_path(const mup_journal *j);

#endif
