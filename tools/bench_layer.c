/* ensi bench layer [--shape tiny|small|large] [--seq S] [--preset P] [--layout auto|column|packed]
 * [--progress]:
 * one encrypted layer of a synthetic model of the shape (large: bitnet_b1_58-large, d = 1536,
 * 16 heads, FFN 4096) on S tokens: time per component, bootstrapping share, precision against the
 * plaintext reference with the same polynomials, peak memory. The layout: the paper's columns or
 * the packs of ensi/packed_forward.h (auto: packed when the hidden size fills a pack and the heads
 * fit: tools/session.h). Before the column layout starts, it estimates the
 * memory it needs (every column is one ciphertext whatever S is) and stops with the estimate when
 * the machine does not have it. --progress prints each component as it starts, with the time and
 * the resident memory, on stderr (where the time and the memory of a long run go). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ensi/ensi.h>

#include "base/large_alloc.h"
#include "bench_util.h"
#include "session.h"
#include "tempdir.h"
#include "tool_error.h"

int ensi_bench_layer(int argc, char **argv, const bench_options *opt);

static double available_gib(void) {
  const long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (double)pages * (double)size / (1u << 30) : 0;
}

/* The most column ciphertexts alive at once (the FFN: x, two normed inputs, gate, up, h; or the
 * attention: x, y, q, k, v and the RoPE outputs), each with `primes` primes (the levels left
 * after bootstrapping, or what the first layer keeps). */
static double estimate_gib(const ensi_model_config *c, const ensi_params *p, size_t primes) {
  const double ct = 2.0 * (double)primes * (double)ensi_params_n(p) * 8;
  const double cols_attention = 7.0 * c->hidden, cols_ffn = 3.0 * c->hidden + 3.0 * c->intermediate;
  const double cols = cols_attention > cols_ffn ? cols_attention : cols_ffn;
  return cols * ct / (1u << 30);
}

static void report(const bench_options *opt, const char *shape, const char *preset, size_t seq,
                   bool packed, const ensi_henn_stats *st, double total, double error,
                   double key_gib) {
  char extra[1024];
  int n = snprintf(extra, sizeof extra, "\"shape\":\"%s\",\"layout\":\"%s\",\"seq\":%zu,"
                   "\"bootstraps\":%zu,\"refreshed_packs\":%zu,"
                   "\"bootstrap_share\":%.4f,\"max_rel_error\":%.3g,\"key_gib\":%.2f,"
                   "\"peak_rss_gib\":%.2f", shape, packed ? "packed" : "column", seq, st->bootstraps,
                   st->refreshed_packs,
                   total > 0 ? st->seconds[ENSI_STAGE_BOOTSTRAP] / total : 0, error, key_gib,
                   bench_peak_rss_gib());
  for (int i = 0; i < ENSI_STAGE_COUNT && n > 0 && (size_t)n < sizeof extra; i++)
    n += snprintf(extra + n, sizeof extra - (size_t)n, ",\"%s_s\":%.3f",
                  ensi_henn_stage_name((ensi_henn_stage)i), st->seconds[i]);
  bench_report(opt, "layer", preset, 1, total, extra);
}

/* The progress callback of --progress: time since the start, component, memory, the process's
 * CPU time in user and kernel mode, its page faults and the fresh memory of large buffers. */
static void progress(void *user, int layer, int layers, const char *what) {
  const double *start = user, gib = 1u << 30;
  double user_s, system_s;
  long faults;
  bench_cpu_usage(&user_s, &system_s, &faults);
  ensi_large_stats large;
  ensi_large_pool_stats(&large);
  fprintf(stderr,
          "  [%7.1f s] layer %d/%d: %-20s resident %.2f GiB, peak %.2f GiB; cpu user %.1f s, "
          "sys %.1f s, faults %ld, fresh %.1f GiB\n",
          bench_now() - *start, layer + 1, layers, what, bench_rss_gib(), bench_peak_rss_gib(),
          user_s, system_s, faults, (double)large.fresh / gib);
}

/* Runs the layer; returns 0 on success. */
static int run_layer(const bench_options *opt, const ensi_model *m, const char *shape,
                     const char *preset, size_t seq, bool packed, bool verbose) {
  ensi_forward_options degrees;
  ensi_forward_options_default(&degrees);
  ensi_henn_default_degrees(&degrees);
  session ses;
  ensi_status s = session_open(&ses, preset, m, seq, 1, &degrees, packed);
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi bench layer: %s: %s\n", ensi_strerror(s), ensi_error_detail());
    return 1;
  }
  double start = bench_now();
  if (verbose) {
    ses.setup.progress = progress;
    ses.setup.progress_user = &start;
  }
  const size_t n = seq * (size_t)m->config.hidden;
  int32_t *tokens = malloc(seq * sizeof *tokens);
  double *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
  for (size_t t = 0; tokens && t < seq; t++)
    tokens[t] = (int32_t)((t * 7919 + 13) % (size_t)m->config.vocab);
  ensi_henn_stats stats = {0};
  double seconds[3] = {0, 0, 0}, total; /* encryption, the layer, decryption */
  s = tokens && got && want ? session_encrypted_pass(&ses, m, tokens, seq, &stats, got, seconds)
                            : ENSI_ERR_NOMEM;
  total = seconds[1];
  if (s == ENSI_OK)
    s = ensi_forward(m, tokens, seq, &ses.setup.approx, want, NULL);
  if (s == ENSI_OK)
    report(opt, shape, preset, seq, packed, &stats, total, session_relative_error(got, want, n),
           (double)ensi_eval_keys_bytes(ses.keys) / (1u << 30));
  else
    fprintf(stderr, "ensi bench layer: %s: %s\n", ensi_strerror(s), ensi_error_detail());
  free(tokens);
  free(got);
  free(want);
  session_close(&ses);
  return s == ENSI_OK ? 0 : 1;
}

int ensi_bench_layer(int argc, char **argv, const bench_options *opt) {
  const char *shape = "large", *preset = "n16-boot", *layout = "auto";
  size_t seq = 128;
  bool verbose = false;
  for (int i = 1; i < argc; i++)
    verbose |= !strcmp(argv[i], "--progress");
  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--shape"))
      shape = argv[++i];
    else if (!strcmp(argv[i], "--seq"))
      seq = (size_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--preset"))
      preset = argv[++i];
    else if (!strcmp(argv[i], "--layout"))
      layout = argv[++i];
  }
  char dir[4096];
  ensi_model *m = NULL;
  ensi_params_literal lit;
  ensi_params *params = NULL;
  const int failed = tool_temp_dir(dir, sizeof dir, "bench-layer") ||
                     ensi_model_synthesize(dir, shape, 1, 1) != ENSI_OK ||
                     ensi_model_load(&m, dir) != ENSI_OK || ensi_params_preset(preset, &lit) != ENSI_OK ||
                     ensi_params_create(&params, &lit) != ENSI_OK;
  tool_remove_dir(dir);
  bool packed = false;
  tool_error_clear();
  if (failed || seq == 0 || seq > (size_t)m->config.max_positions ||
      session_choose_layout(layout, preset, &m->config, seq, &packed) != ENSI_OK) {
    fprintf(stderr, "ensi bench layer: %s\n", tool_error_detail());
    ensi_model_free(m);
    ensi_params_free(params);
    return 1;
  }
  /* 11 primes: the 10 levels after bootstrapping at n16-boot, plus q0 */
  const size_t primes = ensi_params_q_count(params) < 11 ? ensi_params_q_count(params) : 11;
  const double need = estimate_gib(&m->config, params, primes), have = available_gib();
  int status = 0;
  if (!packed && need > have) {
    fprintf(stderr, "ensi bench layer: the column layout of shape %s needs about %.1f GiB of "
            "ciphertexts (one per column, %zu primes, whatever the sequence length) and %.1f GiB "
            "are available; not run (docs/BENCHMARKS.md projects it from the measured costs)\n",
            shape, need, primes, have);
    status = 3;
  } else {
    status = run_layer(opt, m, shape, preset, seq, packed, verbose);
  }
  ensi_params_free(params);
  ensi_model_free(m);
  return status;
}
