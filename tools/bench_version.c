/* ensi bench version: measures the overhead of the benchmark clock itself, so that every other
 * figure can be read against it, and names the library version that produced the results. */
#include <stdio.h>

#include <ensi/ensi.h>

#include "bench_util.h"

int ensi_bench_version(int argc, char **argv, const bench_options *opt);

int ensi_bench_version(int argc, char **argv, const bench_options *opt) {
  (void)argc;
  (void)argv;
  enum { REPS = 1001 };
  double samples[REPS];
  for (int i = 0; i < REPS; i++) {
    double t0 = bench_now();
    samples[i] = bench_now() - t0;
  }
  char extra[64];
  snprintf(extra, sizeof extra, "\"version\":\"%s\"", ensi_version());
  bench_report(opt, "clock/overhead", "-", REPS, bench_median(samples, REPS), extra);
  return 0;
}
