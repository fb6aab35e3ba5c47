/* The evaluation keys bootstrapping needs (see ensi_bootstrap_keys_generate in ensi/bootstrap.h):
 * each rotation key stores only the primes of the levels it rotates at. */
#include <stdlib.h>

#include <ensi/bootstrap.h>

#include "base/error.h"

ensi_status ensi_bootstrap_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                         const ensi_secret_key *sk, const ensi_bootstrapper *bt) {
  if (!out || !ctx || !sk || !bt)
    return ensi_fail(ENSI_ERR_ARG, "bootstrapping keys: null argument");
  *out = NULL;
  const size_t count = ensi_bootstrapper_rotation_count(bt);
  long long *steps = malloc((count ? count : 1) * sizeof *steps);
  size_t *levels = malloc((count ? count : 1) * sizeof *levels);
  ensi_status s = steps && levels ? ensi_eval_keys_generate(out, ctx, sk, true, NULL, 0, true, NULL)
                                  : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    ensi_bootstrapper_rotations(bt, steps);
    ensi_bootstrapper_rotation_levels(bt, levels);
  }
  for (size_t i = 0; s == ENSI_OK && i < count; i++)
    s = ensi_eval_keys_add_rotations_up_to(*out, ctx, sk, &steps[i], 1, levels[i], NULL);
  const size_t weight = ensi_bootstrapper_config(bt)->sparse_weight;
  if (s == ENSI_OK && weight > 0)
    s = ensi_eval_keys_add_encapsulation(*out, ctx, sk, weight, NULL);
  free(steps);
  free(levels);
  if (s != ENSI_OK) {
    ensi_eval_keys_free(*out);
    *out = NULL;
  }
  return s;
}
