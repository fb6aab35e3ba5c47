/* Timing, medians and result printing shared by every benchmark. */
#include "bench_util.h"

#include <math.h>
#include <stdbool.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_peak_rss_gib(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)usage.ru_maxrss / (1024.0 * 1024.0); /* ru_maxrss is in KiB */
}

void bench_cpu_usage(double *user_s, double *system_s, long *minor_faults) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  *user_s = (double)usage.ru_utime.tv_sec + 1e-6 * (double)usage.ru_utime.tv_usec;
  *system_s = (double)usage.ru_stime.tv_sec + 1e-6 * (double)usage.ru_stime.tv_usec;
  *minor_faults = usage.ru_minflt;
}

double bench_rss_gib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0, resident = 0;
  const int got = f ? fscanf(f, "%lu %lu", &pages, &resident) : 0;
  if (f)
    fclose(f);
  const long page = sysconf(_SC_PAGESIZE);
  return got == 2 && page > 0 ? (double)resident * (double)page / (1024.0 * 1024.0 * 1024.0) : 0.0;
}

double bench_worse(double a, double b) { return isnan(a) || isnan(b) ? NAN : fmax(a, b); }

double bench_median(double *samples, size_t n) {
  if (n == 0)
    return 0.0;
  qsort(samples, n, sizeof *samples, compare_doubles);
  return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

/* Whether the len characters at p are a non-finite number as printf writes it. */
static bool non_finite(const char *p, size_t len) {
  if (len == 4 && *p == '-') {
    p++;
    len--;
  }
  return len == 3 && (!strncmp(p, "nan", 3) || !strncmp(p, "inf", 3));
}

/* Prints JSON members with every non-finite value as null (JSON has no NaN or infinity: an error
 * measure of a failed run is NaN). */
static void print_members(const char *members) {
  for (const char *p = members; *p;) {
    putchar(*p);
    if (*p++ != ':')
      continue;
    const size_t len = strcspn(p, ",}");
    if (non_finite(p, len)) {
      fputs("null", stdout);
      p += len;
    }
  }
}

void bench_report(const bench_options *opt, const char *bench, const char *preset, int reps,
                  double median_s, const char *extra) {
  if (opt->json) {
    printf("{\"bench\":\"%s\",\"preset\":\"%s\",\"threads\":%d,\"reps\":%d,\"median_s\":%.9g",
           bench, preset, opt->threads, reps, median_s);
    if (extra) {
      putchar(',');
      print_members(extra);
    }
    printf("}\n");
  } else {
    printf("%-32s %-12s threads %-2d reps %-5d median %12.6f ms  %s\n", bench, preset, opt->threads,
           reps, median_s * 1e3, extra ? extra : "");
  }
  fflush(stdout);
}

int bench_parse_common(int argc, char **argv, bench_options *opt) {
  opt->json = false;
  opt->threads = 1;
  opt->reps = 0;
  int out = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      opt->json = true;
    } else if ((!strcmp(argv[i], "--threads") || !strcmp(argv[i], "--reps")) && i + 1 < argc) {
      char *end;
      long v = strtol(argv[i + 1], &end, 10);
      if (*end || v < 1 || v > 1024) {
        fprintf(stderr, "ensi bench: bad value '%s' for %s\n", argv[i + 1], argv[i]);
        return -1;
      }
      if (!strcmp(argv[i], "--threads"))
        opt->threads = (int)v;
      else
        opt->reps = (int)v;
      i++;
    } else {
      argv[out++] = argv[i];
    }
  }
  omp_set_num_threads(opt->threads);
  return out;
}
