/* The slot count and evaluation keys of the encrypted forward pass (see ensi/henn.h). */
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"

size_t ensi_henn_default_slots(const ensi_context *ctx, const ensi_model_config *c, size_t rows) {
  if (!ctx || !c || rows == 0)
    return 0;
  size_t block = 1, slots = 1;
  while (block < rows)
    block *= 2;
  const size_t widest = (size_t)(c->intermediate > c->hidden ? c->intermediate : c->hidden);
  while (slots < widest * block)
    slots *= 2;
  const size_t full = ensi_params_slots(ensi_context_params(ctx));
  if (slots > full)
    slots = full;
  return slots < 2 * block ? 2 * block : slots;
}

ensi_status ensi_henn_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                    const ensi_secret_key *sk, const ensi_bootstrapper *boot,
                                    size_t slots, size_t rows) {
  if (!out || !ctx || !sk || rows == 0 || rows > ENSI_HENN_MAX_BLOCK)
    return ensi_fail(ENSI_ERR_ARG, "henn keys: null argument");
  if (boot)
    slots = ensi_bootstrapper_config(boot)->slots;
  long long layer_steps[ENSI_HENN_MAX_BLOCK + 64];
  const size_t layer_count = ensi_henn_rotation_steps(slots, rows, layer_steps);
  const size_t boot_count = boot ? ensi_bootstrapper_rotation_count(boot) : 0;
  long long *steps = malloc((layer_count + boot_count) * sizeof *steps);
  if (!steps)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < layer_count; i++)
    steps[i] = layer_steps[i];
  if (boot)
    ensi_bootstrapper_rotations(boot, steps + layer_count);
  size_t unique = 0; /* the layers' steps may repeat bootstrapping's */
  for (size_t i = 0; i < layer_count + boot_count; i++) {
    bool seen = false;
    for (size_t j = 0; j < unique && !seen; j++)
      seen = steps[j] == steps[i];
    if (!seen)
      steps[unique++] = steps[i];
  }
  ensi_status s = ensi_eval_keys_generate(out, ctx, sk, true, steps, unique, boot != NULL, NULL);
  free(steps);
  const size_t weight = boot ? ensi_bootstrapper_config(boot)->sparse_weight : 0;
  if (s == ENSI_OK && weight > 0 && (s = ensi_eval_keys_add_encapsulation(*out, ctx, sk, weight, NULL)) != ENSI_OK) {
    ensi_eval_keys_free(*out);
    *out = NULL;
  }
  return s;
}
