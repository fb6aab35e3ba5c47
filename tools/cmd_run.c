/* ensi run: the main job, a full encrypted round trip on a model. The encrypted inference
 * pipeline is not built yet (see README.md, Status); this command says so plainly. */
#include <stdio.h>

#include "commands.h"

int ensi_cmd_run(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("ensi run: not yet: the encrypted round trip needs the CKKS engine, bootstrapping and the\n"
         "encrypted layers, which are still being built (README.md, Status).\n");
  return 0;
}
