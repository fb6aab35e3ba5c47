/* libFuzzer target: ensi_eval_keys_load on arbitrary and on validly sealed inputs. */
#include "fuzz_common.h"

FUZZ_LOADER(ENSI_OBJECT_EVAL_KEYS, ensi_eval_keys, ensi_eval_keys_load, ensi_eval_keys_free)
