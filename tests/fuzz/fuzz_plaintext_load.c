/* libFuzzer target: ensi_plaintext_load on arbitrary and on validly sealed inputs. */
#include "fuzz_common.h"

FUZZ_LOADER(ENSI_OBJECT_PLAINTEXT, ensi_plaintext, ensi_plaintext_load, ensi_plaintext_free)
