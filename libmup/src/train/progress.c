#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

double mup_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void mup_progress_start(mup_progress *p, bool wanted, const char *label, int total) {
    *p = (mup_progress){.on = wanted, .tty = isatty(STDERR_FILENO), .label = label ? label : "train",
                        .total = total, .t_start = mup_now()};
    p->t_last = p->t_start;
}

static void hms(char *buf, size_t len, double s) {
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* in a log: a line at each tenth of the run, and at least this often */
#define LOG_EVERY_S 60.0

void mup_progress_update(mup_progress *p, int done, double loss, double val_loss, bool force) {
    if (!p->on)
        return;
    double t = mup_now();
    bool due = force || (p->tty ? t - p->t_last >= 0.1
                                : (long)(done - p->done_last) * 10 >= p->total || t - p->t_last >= LOG_EVERY_S);
    if (!due)
        return;
    p->t_last = t;
    p->done_last = done;
    enum { WIDTH = 24 };
    char bar[WIDTH + 1], eta[32], val[32] = "";
    int filled = p->total > 0 ? (int)((long)WIDTH * done / p->total) : WIDTH;
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    double rate = done > 0 ? done / (t - p->t_start) : 0.0;
    hms(eta, sizeof eta, rate > 0 ? (p->total - done) / rate : 0.0);
    if (!isnan(val_loss))
        snprintf(val, sizeof val, " val %.4f", val_loss);
    if (p->tty)
        fprintf(stderr, "\r%s [%s] %d/%d loss %.4f%s  %.1f it/s  ETA %s  ", p->label, bar, done, p->total, loss,
                val, rate, eta);
    else
        fprintf(stderr, "%s: step %d/%d loss %.4f%s, %.1f it/s, ETA %s\n", p->label, done, p->total, loss, val,
                rate, eta);
    fflush(stderr);
}

void mup_progress_finish(mup_progress *p) {
    if (p->on && p->tty)
        fputc('\n', stderr);
}
