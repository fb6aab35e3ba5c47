/* libFuzzer target: ensi_params_load on arbitrary and on validly sealed inputs. */
#include "fuzz_common.h"

static ensi_status load_params(const ensi_context *ctx, ensi_params **out, const uint8_t *data,
                               size_t length) {
  (void)ctx;
  return ensi_params_load(out, data, length, true);
}

FUZZ_LOADER(ENSI_OBJECT_PARAMS, ensi_params, load_params, ensi_params_free)
