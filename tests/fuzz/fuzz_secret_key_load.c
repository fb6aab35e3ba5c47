/* libFuzzer target: ensi_secret_key_load on arbitrary and on validly sealed inputs. */
#include "fuzz_common.h"

FUZZ_LOADER(ENSI_OBJECT_SECRET_KEY, ensi_secret_key, ensi_secret_key_load, ensi_secret_key_free)
