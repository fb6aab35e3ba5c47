/* ensi bench forward [--shape tiny|small|large] [--layers L] [--seq S]: the plaintext reference
 * forward pass on a synthetic model (written to a temporary directory), per attention kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ensi/model.h>

#include "bench_util.h"
#include "tempdir.h"

int ensi_bench_forward(int argc, char **argv, const bench_options *opt);

int ensi_bench_forward(int argc, char **argv, const bench_options *opt) {
  const char *shape = "small";
  int layers = 0;
  size_t seq = 32;
  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--shape"))
      shape = argv[++i];
    else if (!strcmp(argv[i], "--layers"))
      layers = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seq"))
      seq = (size_t)strtoul(argv[++i], NULL, 10);
  }
  char dir[4096];
  ensi_model *m = NULL;
  const int failed = tool_temp_dir(dir, sizeof dir, "bench-forward") ||
                     ensi_model_synthesize(dir, shape, layers, 1) != ENSI_OK ||
                     ensi_model_load(&m, dir) != ENSI_OK;
  tool_remove_dir(dir);
  if (failed || seq == 0 || seq > (size_t)m->config.max_positions) {
    fprintf(stderr, "ensi bench forward: %s\n", ensi_error_detail());
    ensi_model_free(m);
    return 1;
  }
  int32_t *tok = malloc(seq * sizeof *tok);
  double *logits = malloc(seq * (size_t)m->config.vocab * sizeof *logits);
  for (size_t t = 0; t < seq; t++)
    tok[t] = (int32_t)((t * 7919 + 13) % (size_t)m->config.vocab);
  const int reps = opt->reps ? opt->reps : 5;
  double *samples = malloc((size_t)reps * sizeof *samples);
  const char *names[] = {"softmax", "sigmoid", "sigmoid-poly"};
  for (int kind = 0; kind < 3; kind++) {
    ensi_forward_options o;
    ensi_forward_options_default(&o);
    o.attention = (ensi_attention)kind;
    for (int r = 0; r < reps; r++) {
      double t0 = bench_now();
      ensi_forward(m, tok, seq, &o, NULL, logits);
      samples[r] = bench_now() - t0;
    }
    char name[64], extra[96];
    snprintf(name, sizeof name, "forward/%s", names[kind]);
    snprintf(extra, sizeof extra, "\"shape\":\"%s\",\"layers\":%d,\"seq\":%zu", shape,
             m->config.layers, seq);
    bench_report(opt, name, "-", reps, bench_median(samples, (size_t)reps), extra);
  }
  free(samples);
  free(tok);
  free(logits);
  ensi_model_free(m);
  return 0;
}
