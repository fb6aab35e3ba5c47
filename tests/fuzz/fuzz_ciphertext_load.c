/* libFuzzer target: ensi_ciphertext_load on arbitrary and on validly sealed inputs. */
#include "fuzz_common.h"

FUZZ_LOADER(ENSI_OBJECT_CIPHERTEXT, ensi_ciphertext, ensi_ciphertext_load, ensi_ciphertext_free)
