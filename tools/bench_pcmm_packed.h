/* The packed layout's ternary product (ensi/packed.h) for `ensi bench pcmm`: the same inputs
 * and weights as the column layout's measurement, so that the two compare in one run. */
#ifndef ENSI_TOOLS_BENCH_PCMM_PACKED_H
#define ENSI_TOOLS_BENCH_PCMM_PACKED_H

#include <ensi/ensi.h>

typedef struct {
  double median_s;   /* the product, median over the repetitions */
  double prepare_s;  /* the diagonals' compact encodings (offline, once per weight) */
  double error;      /* max |Y - X W^T| / max |X W^T| over the checked outputs */
  size_t rotations;  /* key switches of one product */
} packed_result;

/* x: seq x d inputs (row-major) at `level` (one level is consumed); `checked` outputs are
 * decrypted and compared; baby_steps 0 lets the product choose. */
ensi_status bench_pcmm_packed(const ensi_context *ctx, const ensi_secret_key *sk,
                              const ensi_public_key *pk, const ensi_ternary *w, const double *x,
                              size_t seq, size_t level, size_t baby_steps, int reps,
                              size_t checked, packed_result *result);

#endif
