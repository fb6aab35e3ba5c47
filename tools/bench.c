/* ensi bench: runs one named benchmark, or all of them. Each benchmark lives in its own
 * tools/bench_<name>.c and is listed in the table below. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "commands.h"

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv, const bench_options *opt);
  const char *summary;
  bool in_all; /* run by "ensi bench all" */
} benchmark;

int ensi_bench_version(int argc, char **argv, const bench_options *opt);
int ensi_bench_ntt(int argc, char **argv, const bench_options *opt);
int ensi_bench_ckks(int argc, char **argv, const bench_options *opt);
int ensi_bench_boot(int argc, char **argv, const bench_options *opt);
int ensi_bench_forward(int argc, char **argv, const bench_options *opt);
int ensi_bench_layer(int argc, char **argv, const bench_options *opt);
int ensi_bench_paper(int argc, char **argv, const bench_options *opt);
int ensi_bench_pcmm(int argc, char **argv, const bench_options *opt);

static const benchmark benchmarks[] = {
    {"version", ensi_bench_version, "timer self-check: prints the library version and clock overhead", true},
    {"ntt", ensi_bench_ntt, "forward/inverse NTT at N = 2^16, 50- and 60-bit primes", true},
    {"ckks", ensi_bench_ckks, "CKKS operations (--preset P, default n16), top and middle level", true},
    /* about two minutes and 11.5 GiB at n16-boot's full slots: run it by name, not in "all" */
    {"boot", ensi_bench_boot, "bootstrapping (--preset P, default n16-boot; --slots S)", false},
    {"forward", ensi_bench_forward, "plaintext forward pass (--shape S, --layers L, --seq S)", true},
    /* minutes and gigabytes at n16-boot (large, packed, 2 threads: 16 minutes, 21 GiB): run by
     * name */
    {"layer", ensi_bench_layer, "one encrypted layer (--shape S, default large; --seq S, default 128; "
                                "--preset P, default n16-boot; --layout auto|column|packed)", false},
    /* a minute or more and 10 GiB at the default 1536 x 1536: run by name */
    {"pcmm", ensi_bench_pcmm, "ternary PCMM, plain against lookup sums (--d D, --outputs O, "
                              "--seq S, --level L)", false},
    /* minutes at n16-boot: run by name */
    {"paper", ensi_bench_paper, "the paper's claims: ENSI kernels against NEXUS baselines "
                                "(--shape bert|large, --seq S, --plot FILE.svg)", false},
};
static const size_t benchmark_count = sizeof benchmarks / sizeof benchmarks[0];

static void usage(FILE *out) {
  fprintf(out, "usage: ensi bench <name|all> [--json] [--threads T] [--reps R] [options]\n\n");
  for (size_t i = 0; i < benchmark_count; i++)
    fprintf(out, "  %-8s %s\n", benchmarks[i].name, benchmarks[i].summary);
}

int ensi_cmd_bench(int argc, char **argv) {
  bench_options opt;
  argc = bench_parse_common(argc, argv, &opt);
  if (argc < 0)
    return 2;
  if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (int i = 2; i < argc; i++) /* "ensi bench boot --help" must not start a long run */
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
  if (!strcmp(argv[1], "all")) {
    int status = 0;
    for (size_t i = 0; i < benchmark_count; i++)
      if (benchmarks[i].in_all)
        status |= benchmarks[i].run(argc - 1, argv + 1, &opt);
    return status;
  }
  for (size_t i = 0; i < benchmark_count; i++)
    if (!strcmp(argv[1], benchmarks[i].name))
      return benchmarks[i].run(argc - 1, argv + 1, &opt);
  fprintf(stderr, "ensi bench: unknown benchmark '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
