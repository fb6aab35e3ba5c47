/* ensi model synth: writes a deterministic synthetic BitNet checkpoint (config.json and
 * model.safetensors with the real tensor names); ensi model accuracy: tools/cmd_accuracy.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ensi/model.h>

#include "commands.h"

int ensi_cmd_model_accuracy(int argc, char **argv);

static int usage(FILE *out) {
  fprintf(out, "usage: ensi model synth --shape tiny|small|large [--layers L] [--seed S] --out DIR\n"
               "       ensi model accuracy [--model DIR] [--samples N] [--out FILE]\n");
  return out == stdout ? 0 : 2;
}

int ensi_cmd_model(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "accuracy"))
    return ensi_cmd_model_accuracy(argc - 1, argv + 1);
  if (argc < 2 || strcmp(argv[1], "synth"))
    return usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
  const char *shape = "tiny", *out = NULL;
  int layers = 0;
  unsigned long long seed = 1;
  static const struct option options[] = {{"shape", required_argument, 0, 's'},
                                          {"layers", required_argument, 0, 'l'},
                                          {"seed", required_argument, 0, 'r'},
                                          {"out", required_argument, 0, 'o'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
  optind = 1;
  for (int c; (c = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1;) {
    switch (c) {
    case 's': shape = optarg; break;
    case 'l': layers = atoi(optarg); break;
    case 'r': seed = strtoull(optarg, NULL, 0); break;
    case 'o': out = optarg; break;
    case 'h': return usage(stdout);
    default: return usage(stderr);
    }
  }
  if (!out || layers < 0)
    return usage(stderr);
  mkdir(out, 0755);
  ensi_status s = ensi_model_synthesize(out, shape, layers, seed);
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi model synth: %s: %s\n", ensi_strerror(s), ensi_error_detail());
    return 1;
  }
  printf("wrote %s: config.json, model.safetensors, model.gguf, tokenizer.json (%s)\n", out, shape);
  return 0;
}
