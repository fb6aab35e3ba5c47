/* The ensi command: dispatches to subcommands (tools/cmd_*.c, tools/bench*.c). */
#include <stdio.h>
#include <string.h>

#include <ensi/ensi.h>

#include "commands.h"

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"run", ensi_cmd_run, "full encrypted round trip on a model (default: embedded tiny model)"},
    {"keygen", ensi_cmd_keygen, "client: secret, public and evaluation keys for a model (KEYDIR)"},
    {"encrypt", ensi_cmd_encrypt, "client: tokenize, embed and encrypt a prompt into a request"},
    {"eval", ensi_cmd_eval, "server: run the model on a request with an evaluation-key bundle"},
    {"decrypt", ensi_cmd_decrypt, "client: decrypt a response, final norm, LM head, next token"},
    {"serve", ensi_cmd_serve, "server: the HTTP service (sessions, jobs, results)"},
    {"query", ensi_cmd_query, "client: encrypt, send to a server, wait, decrypt, in one command"},
    {"bench", ensi_cmd_bench, "benchmarks: ntt, ckks, boot, ... (ensi bench help)"},
    {"model", ensi_cmd_model, "model synth: write a synthetic BitNet checkpoint"},
    {"generate", ensi_cmd_generate, "plaintext greedy generation with the reference forward pass"},
    {"tokenize", ensi_cmd_tokenize, "text -> token ids (and --decode) with a model's tokenizer"},
};

static void usage(FILE *out) {
  fprintf(out, "ensi %s: non-interactive secure inference for ternary language models (CKKS)\n\n",
          ensi_version());
  fprintf(out, "usage: ensi <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
  fprintf(out, "\n'ensi <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("ensi %s\n", ensi_version());
    return 0;
  }
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (!strcmp(argv[1], subcommands[i].name))
      return subcommands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "ensi: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
