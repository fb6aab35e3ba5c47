/* The packed layout's ternary product for `ensi bench pcmm` (see bench_pcmm_packed.h). */
#include "bench_pcmm_packed.h"

#include <math.h>
#include <stdlib.h>

#include "bench_util.h"

enum { MAX_STEPS = 1024 };

static double relative_error(const ensi_context *ctx, const ensi_secret_key *sk,
                             const ensi_ternary *w, const double *x, size_t seq,
                             const ensi_packed_matrix *y, size_t checked) {
  const size_t d = (size_t)w->cols, outputs = (size_t)w->rows;
  double *got = malloc(seq * outputs * sizeof *got), worst = 0, largest = 0;
  if (!got || ensi_packed_matrix_decrypt(ctx, got, y, sk) != ENSI_OK) {
    free(got);
    return NAN;
  }
  for (size_t t = 0; t < seq; t++)
    for (size_t k = 0; k < checked && k < outputs; k++) {
      double want = 0;
      for (size_t j = 0; j < d; j++)
        want += ensi_ternary_at(w, k, j) * x[t * d + j];
      worst = bench_worse(worst, fabs(got[t * outputs + k] - want));
      largest = fmax(largest, fabs(want));
    }
  free(got);
  return worst / largest;
}

static ensi_status measure(const ensi_context *ctx, const ensi_packed_pcmm *p,
                           const ensi_packed_matrix *in, const ensi_eval_keys *keys, int reps,
                           ensi_packed_matrix **y, packed_result *result) {
  double *seconds = malloc((size_t)reps * sizeof *seconds);
  ensi_status s = seconds ? ENSI_OK : ENSI_ERR_NOMEM;
  ensi_op_counts before, after;
  for (int r = 0; s == ENSI_OK && r < reps; r++) {
    ensi_packed_matrix_free(*y);
    *y = NULL;
    ensi_op_counts_get(&before);
    const double start = bench_now();
    s = ensi_packed_pcmm_apply(ctx, y, p, in, keys);
    seconds[r] = bench_now() - start;
    ensi_op_counts_get(&after);
    result->rotations = (size_t)(after.keyswitch - before.keyswitch);
  }
  if (s == ENSI_OK)
    result->median_s = bench_median(seconds, (size_t)reps);
  free(seconds);
  return s;
}

ensi_status bench_pcmm_packed(const ensi_context *ctx, const ensi_secret_key *sk,
                              const ensi_public_key *pk, const ensi_ternary *w, const double *x,
                              size_t seq, size_t level, size_t baby_steps, int reps,
                              size_t checked, packed_result *result) {
  ensi_packed_pcmm *p = NULL;
  ensi_eval_keys *keys = NULL;
  ensi_packed_matrix *in = NULL, *y = NULL;
  const double start = bench_now();
  ensi_status s = ensi_packed_pcmm_create(&p, ctx, w, seq, level, baby_steps);
  result->prepare_s = bench_now() - start;
  long long steps[MAX_STEPS];
  const size_t step_count = s == ENSI_OK ? ensi_packed_pcmm_rotations(p, steps, MAX_STEPS) : 0;
  if (s == ENSI_OK)
    s = ensi_eval_keys_generate(&keys, ctx, sk, false, NULL, 0, ensi_packed_pcmm_conjugates(p),
                                NULL);
  if (s == ENSI_OK)
    s = ensi_eval_keys_add_rotations_up_to(keys, ctx, sk, steps, step_count, level, NULL);
  if (s == ENSI_OK)
    s = ensi_packed_matrix_encrypt(&in, ctx, x, seq, (size_t)w->cols, level,
                                   ensi_params_scale(ensi_context_params(ctx)), pk);
  if (s == ENSI_OK)
    s = measure(ctx, p, in, keys, reps, &y, result);
  if (s == ENSI_OK)
    result->error = relative_error(ctx, sk, w, x, seq, y, checked);
  ensi_packed_matrix_free(in);
  ensi_packed_matrix_free(y);
  ensi_eval_keys_free(keys);
  ensi_packed_pcmm_free(p);
  return s;
}
