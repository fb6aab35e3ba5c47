/* Tests of the base module: status strings and per-thread error details. */
#include <string.h>

#include <ensi/ensi.h>

#include "base/error.h"
#include "testutil.h"

int main(void) {
  for (int s = 0; s >= ENSI_ERR_INTERNAL; s--) {
    const char *text = ensi_strerror((ensi_status)s);
    CHECK(text != NULL && strcmp(text, "unknown status") != 0);
  }
  CHECK(!strcmp(ensi_strerror((ensi_status)-999), "unknown status"));
  ensi_clear_error();
  CHECK(ensi_error_detail()[0] == '\0');
  CHECK(ensi_fail(ENSI_ERR_FORMAT, "field %s out of range", "n") == ENSI_ERR_FORMAT);
  CHECK(!strcmp(ensi_error_detail(), "field n out of range"));
  CHECK(!strcmp(ensi_version(), ENSI_VERSION_STRING));
  return test_finish("test_base");
}
