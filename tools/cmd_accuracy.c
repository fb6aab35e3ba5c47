/* ensi model accuracy: how far sigmoid attention and its Chebyshev surrogate move the hidden
 * states and logits away from softmax attention, per model shape and sequence length, as a
 * Markdown report (docs/ACCURACY.md). Synthetic models by default; --model DIR measures a real
 * checkpoint the same way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ensi/model.h>

#include "bench_util.h"
#include "tempdir.h"

int ensi_cmd_model_accuracy(int argc, char **argv);

typedef struct {
  double hidden_max, hidden_mean, logits_max; /* relative to the largest reference value */
  int top1_agree, samples;
} comparison;

static void compare(comparison *c, const double *ref, const double *got, size_t n_hidden,
                    const double *ref_logits, const double *got_logits, size_t vocab) {
  double scale = 0, worst = 0, sum = 0;
  for (size_t i = 0; i < n_hidden; i++) {
    scale = fmax(scale, fabs(ref[i]));
    worst = bench_worse(worst, fabs(ref[i] - got[i]));
    sum += fabs(ref[i] - got[i]);
  }
  c->hidden_max = fmax(c->hidden_max, worst / scale);
  c->hidden_mean += sum / (double)n_hidden / scale;
  double lscale = 0, lworst = 0;
  size_t best_ref = 0, best_got = 0;
  for (size_t v = 0; v < vocab; v++) {
    lscale = fmax(lscale, fabs(ref_logits[v]));
    lworst = fmax(lworst, fabs(ref_logits[v] - got_logits[v]));
    best_ref = ref_logits[v] > ref_logits[best_ref] ? v : best_ref;
    best_got = got_logits[v] > got_logits[best_got] ? v : best_got;
  }
  c->logits_max = fmax(c->logits_max, lworst / lscale);
  c->top1_agree += best_ref == best_got;
  c->samples++;
}

static int measure(FILE *out, const ensi_model *m, const char *label, size_t seq, int samples) {
  const size_t H = (size_t)m->config.hidden, V = (size_t)m->config.vocab;
  int32_t *tok = malloc(seq * sizeof *tok);
  double *hr = malloc(seq * H * 8), *hg = malloc(seq * H * 8), *lr = malloc(seq * V * 8),
         *lg = malloc(seq * V * 8);
  comparison cmp[2];
  memset(cmp, 0, sizeof cmp);
  uint64_t state = 12345 + seq;
  int status = 0;
  for (int s = 0; s < samples && status == 0; s++) {
    for (size_t t = 0; t < seq; t++) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      tok[t] = (int32_t)((state >> 33) % V);
    }
    ensi_forward_options o;
    ensi_forward_options_default(&o);
    status |= ensi_forward(m, tok, seq, &o, hr, lr) != ENSI_OK;
    for (int k = 0; k < 2 && status == 0; k++) {
      o.attention = k == 0 ? ENSI_ATTENTION_SIGMOID : ENSI_ATTENTION_SIGMOID_POLY;
      status |= ensi_forward(m, tok, seq, &o, hg, lg) != ENSI_OK;
      compare(&cmp[k], hr, hg, seq * H, lr + (seq - 1) * V, lg + (seq - 1) * V, V);
    }
  }
  for (int k = 0; k < 2 && status == 0; k++)
    fprintf(out, "| %s | %zu | %s | %.3g | %.3g | %.3g | %d / %d |\n", label, seq,
            k == 0 ? "sigmoid" : "sigmoid, Chebyshev degree 16 on [-10, 11]", cmp[k].hidden_max,
            cmp[k].hidden_mean / cmp[k].samples, cmp[k].logits_max, cmp[k].top1_agree,
            cmp[k].samples);
  free(tok); free(hr); free(hg); free(lr); free(lg);
  return status;
}

int ensi_cmd_model_accuracy(int argc, char **argv) {
  const char *out_path = NULL, *model_dir = NULL;
  int samples = 8;
  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--out"))
      out_path = argv[++i];
    else if (!strcmp(argv[i], "--model"))
      model_dir = argv[++i];
    else if (!strcmp(argv[i], "--samples"))
      samples = atoi(argv[++i]);
  }
  if (samples < 1)
    return 2;
  FILE *out = out_path ? fopen(out_path, "w") : stdout;
  if (!out)
    return 1;
  fprintf(out, "# Accuracy of the attention surrogates (plaintext)\n\n"
               "Produced by `ensi model accuracy%s%s --samples %d%s%s`. For each model and sequence "
               "length s, %d random prompts run through the reference forward pass with softmax "
               "attention and with the encrypted path's replacements: sigmoid(QK^T / sqrt(dh) - ln s) "
               "with the causal mask applied after it, and the same with the logistic function replaced "
               "by its Chebyshev interpolant of degree 16 on [-10, 11] (the authors' choice). Errors "
               "are relative to the largest reference value (hidden states: all positions, before the "
               "final norm; logits: the last position); top-1 counts prompts whose next token agrees.\n\n",
          model_dir ? " --model " : "", model_dir ? model_dir : "", samples,
          out_path ? " --out " : "", out_path ? out_path : "", samples);
  fprintf(out, "**These are synthetic models with random weights.** They show the mechanics and "
               "the size of the polynomial's contribution, not the accuracy of a trained "
               "checkpoint: softmax-trained attention is not sigmoid attention, and only the real "
               "weights can say how much the substitution costs. Run the same command with "
               "`--model DIR` on a downloaded bitnet_b1_58-large (config.json + "
               "model.safetensors) to measure it.\n\n");
  fprintf(out, "| model | s | attention | hidden max rel. error | hidden mean rel. error | "
               "logits max rel. error | top-1 agreement |\n|---|---:|---|---:|---:|---:|---:|\n");
  int status = 0;
  const char *shapes[] = {"tiny", "small"};
  for (size_t k = 0; k < (model_dir ? 1 : 2) && status == 0; k++) {
    char dir[4096];
    const char *path = model_dir;
    if (!model_dir) {
      if (tool_temp_dir(dir, sizeof dir, "accuracy") || ensi_model_synthesize(dir, shapes[k], 0, 1) != ENSI_OK)
        return 1;
      path = dir;
    }
    ensi_model *m;
    if (ensi_model_load(&m, path) != ENSI_OK) {
      fprintf(stderr, "ensi model accuracy: %s\n", ensi_error_detail());
      return 1;
    }
    const size_t lengths[] = {8, 16, 32, 64};
    for (size_t i = 0; i < 4 && status == 0; i++)
      status = measure(out, m, model_dir ? model_dir : shapes[k], lengths[i], samples);
    ensi_model_free(m);
    if (!model_dir)
      tool_remove_dir(dir);
  }
  if (out != stdout)
    fclose(out);
  return status;
}
