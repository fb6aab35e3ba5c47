/* The slot count and evaluation keys of the encrypted forward pass (see ensi/henn.h). */
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"
#include "henn/matrix_internal.h"

size_t ensi_henn_default_slots(const ensi_context *ctx, const ensi_model_config *c, size_t rows) {
  if (!ctx || !c || rows == 0)
    return 0;
  const size_t block = ensi_henn_block(rows);
  size_t slots = 1;
  const size_t widest = (size_t)(c->intermediate > c->hidden ? c->intermediate : c->hidden);
  while (slots < widest * block)
    slots *= 2;
  const size_t full = ensi_params_slots(ensi_context_params(ctx));
  if (slots > full)
    slots = full;
  return slots < 2 * block ? 2 * block : slots;
}

/* Bootstrapping's keys (ensi_bootstrap_keys_generate), and the layers' rotations up to the
 * bootstrapping output level (the layers never rotate higher: the first layer's input is
 * encrypted at the level it uses), or at every level without bootstrapping. */
ensi_status ensi_henn_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                    const ensi_secret_key *sk, const ensi_bootstrapper *boot,
                                    size_t slots, size_t rows) {
  if (!out || !ctx || !sk || rows == 0 || rows > ENSI_HENN_MAX_BLOCK)
    return ensi_fail(ENSI_ERR_ARG, "henn keys: bad argument");
  if (boot)
    slots = ensi_bootstrapper_config(boot)->slots;
  long long steps[ENSI_HENN_MAX_ROTATIONS];
  const size_t count = ensi_henn_rotation_steps(slots, rows, steps);
  const size_t top = ensi_context_max_level(ctx);
  *out = NULL;
  ensi_status s = boot ? ensi_bootstrap_keys_generate(out, ctx, sk, boot)
                       : ensi_eval_keys_generate(out, ctx, sk, true, NULL, 0, false, NULL);
  if (s == ENSI_OK)
    s = ensi_eval_keys_add_rotations_up_to(*out, ctx, sk, steps, count,
                                           boot ? ensi_bootstrap_output_level(boot) : top, NULL);
  if (s != ENSI_OK) {
    ensi_eval_keys_free(*out);
    *out = NULL;
  }
  return s;
}
