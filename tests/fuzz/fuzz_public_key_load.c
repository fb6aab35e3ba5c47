/* libFuzzer target: ensi_public_key_load on arbitrary and on validly sealed inputs. */
#include "fuzz_common.h"

FUZZ_LOADER(ENSI_OBJECT_PUBLIC_KEY, ensi_public_key, ensi_public_key_load, ensi_public_key_free)
