/* Shared helpers for benchmarks: wall-clock timing, medians, and the output format of
 * DESIGN.md section 5 (one JSON object per line with --json, an aligned table otherwise). */
#ifndef ENSI_TOOLS_BENCH_UTIL_H
#define ENSI_TOOLS_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  bool json;   /* print JSON lines instead of a table */
  int threads; /* OpenMP threads for this run */
  int reps;    /* repetitions per measurement (0 = the benchmark's default) */
} bench_options;

/* Seconds from a monotonic clock. */
double bench_now(void);

/* Peak resident memory of the process so far, in GiB. */
double bench_peak_rss_gib(void);
/* Current resident memory in GiB (Linux /proc; 0 where unknown). */
double bench_rss_gib(void);

/* CPU seconds of all the process's threads so far, in user and kernel mode, and its page faults
 * that the kernel served without I/O (fresh or reused memory): where the time goes besides the
 * arithmetic. */
void bench_cpu_usage(double *user_s, double *system_s, long *minor_faults);

/* The worse of two error measures: a NaN wins and stays (fmax would drop it, and a run that
 * produced NaN would read as exact). */
double bench_worse(double a, double b);

/* Median of n samples (sorts the array in place). */
double bench_median(double *samples, size_t n);

/* Prints one result: name, preset, median seconds over reps; extra is either NULL or a
 * preformatted list of further JSON members without braces, e.g. "\"bits\":60" (a value printf
 * wrote as nan or inf prints as null). */
void bench_report(const bench_options *opt, const char *bench, const char *preset, int reps,
                  double median_s, const char *extra);

/* Parses the options shared by all benchmarks (--json, --threads T, --reps R), removing them
 * from argv; returns the new argc, or -1 with a message on stderr for a bad value. */
int bench_parse_common(int argc, char **argv, bench_options *opt);

#endif
