/* Shared fixtures of the encrypted-model tests (fixtures.h). */
#include "fixtures.h"

#include "tempdir.h"
#include "testutil.h"

enum { CALIBRATION_PROMPTS = 128 };

ensi_model *test_tiny_model(const char *prefix) {
  char dir[512];
  ensi_model *m = NULL;
  CHECK(tool_temp_dir(dir, sizeof dir, prefix) == 0);
  CHECK(ensi_model_synthesize(dir, "tiny", 2, 11) == ENSI_OK);
  CHECK(ensi_model_load(&m, dir) == ENSI_OK);
  tool_remove_dir(dir);
  return m;
}

void test_calibrate(const ensi_model *m, size_t tokens, ensi_henn_setup *setup) {
  ensi_forward_options_default(&setup->approx);
  ensi_henn_default_degrees(&setup->approx);
  CHECK(ensi_henn_calibrate(m, tokens, CALIBRATION_PROMPTS, 1, &setup->approx, &setup->bound) ==
        ENSI_OK);
}
