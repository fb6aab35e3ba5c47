/* ensi generate: plaintext greedy generation with the reference forward pass, from a text prompt
 * (the model directory's tokenizer) or from token ids. --dump-logits writes the logits of the
 * prompt in the format of docs/FORMATS.md ("Logits"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/model.h>
#include <ensi/tokenizer.h>

#include "commands.h"

static int usage(FILE *out) {
  fprintf(out, "usage: ensi generate --model DIR (--prompt TEXT | --tokens-in ID,ID,...) [--tokens K]\n"
               "         [--attention softmax|sigmoid|sigmoid-poly] [--quantize-activations]\n"
               "         [--dump-logits FILE]\n");
  return out == stdout ? 0 : 2;
}

static size_t parse_ids(const char *text, int32_t *ids, size_t max) {
  size_t n = 0;
  for (const char *p = text; *p && n < max;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 0 || v > 0x7fffffff)
      return 0;
    ids[n++] = (int32_t)v;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return 0;
  }
  return n;
}

static int dump_logits(const char *path, const double *logits, uint32_t tokens, uint32_t vocab) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return 1;
  const uint32_t dims[2] = {tokens, vocab};
  int ok = fwrite("ENSILOGT", 1, 8, f) == 8 && fwrite(dims, 4, 2, f) == 2 &&
           fwrite(logits, 8, (size_t)tokens * vocab, f) == (size_t)tokens * vocab;
  return (fclose(f) == 0 && ok) ? 0 : 1;
}

int ensi_cmd_generate(int argc, char **argv) {
  const char *dir = NULL, *ids_text = NULL, *dump = NULL, *prompt = NULL;
  int new_tokens = 1;
  ensi_forward_options opt;
  ensi_forward_options_default(&opt);
  static const struct option options[] = {{"model", required_argument, 0, 'm'},
                                          {"tokens-in", required_argument, 0, 'i'},
                                          {"prompt", required_argument, 0, 'p'},
                                          {"tokens", required_argument, 0, 'k'},
                                          {"attention", required_argument, 0, 'a'},
                                          {"quantize-activations", no_argument, 0, 'q'},
                                          {"dump-logits", required_argument, 0, 'd'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (c) {
    case 'm': dir = optarg; break;
    case 'i': ids_text = optarg; break;
    case 'p': prompt = optarg; break;
    case 'k': new_tokens = atoi(optarg); break;
    case 'q': opt.quantize_activations = true; break;
    case 'd': dump = optarg; break;
    case 'a':
      if (!strcmp(optarg, "softmax"))
        opt.attention = ENSI_ATTENTION_SOFTMAX;
      else if (!strcmp(optarg, "sigmoid"))
        opt.attention = ENSI_ATTENTION_SIGMOID;
      else if (!strcmp(optarg, "sigmoid-poly"))
        opt.attention = ENSI_ATTENTION_SIGMOID_POLY;
      else
        return usage(stderr);
      break;
    case 'h': return usage(stdout);
    default: return usage(stderr);
    }
  }
  enum { MAX_TOKENS = 4096 };
  static int32_t ids[MAX_TOKENS];
  size_t count = ids_text ? parse_ids(ids_text, ids, MAX_TOKENS) : 0;
  ensi_tokenizer *tok = NULL;
  if (dir && prompt) {
    int32_t *encoded;
    ensi_status st = ensi_tokenizer_load_dir(&tok, dir);
    if (st == ENSI_OK)
      st = ensi_tokenizer_encode(tok, prompt, strlen(prompt), true, &encoded, &count);
    if (st != ENSI_OK) {
      fprintf(stderr, "ensi generate: tokenizer: %s: %s\n", ensi_strerror(st), ensi_error_detail());
      ensi_tokenizer_free(tok);
      return 1;
    }
    count = count < MAX_TOKENS ? count : MAX_TOKENS;
    memcpy(ids, encoded, count * sizeof *ids);
    free(encoded);
  }
  const size_t prompt_count = count;
  if (!dir || count == 0 || new_tokens < 1 || count + (size_t)new_tokens > MAX_TOKENS) {
    ensi_tokenizer_free(tok);
    return usage(stderr);
  }
  ensi_model *model;
  ensi_status s = ensi_model_load(&model, dir);
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi generate: %s: %s\n", ensi_strerror(s), ensi_error_detail());
    ensi_tokenizer_free(tok);
    return 1;
  }
  const size_t vocab = (size_t)model->config.vocab;
  int status = 0;
  for (int step = 0; step < new_tokens && status == 0; step++) {
    double *logits = malloc(count * vocab * sizeof *logits);
    s = logits ? ensi_forward(model, ids, count, &opt, NULL, logits) : ENSI_ERR_NOMEM;
    if (s != ENSI_OK) {
      fprintf(stderr, "ensi generate: %s: %s\n", ensi_strerror(s), ensi_error_detail());
      status = 1;
    } else {
      if (step == 0 && dump && dump_logits(dump, logits, (uint32_t)count, (uint32_t)vocab)) {
        fprintf(stderr, "ensi generate: cannot write %s\n", dump);
        status = 1;
      }
      const double *last = logits + (count - 1) * vocab;
      size_t best = 0;
      for (size_t v = 1; v < vocab; v++)
        best = last[v] > last[best] ? v : best;
      ids[count++] = (int32_t)best;
    }
    free(logits);
  }
  if (status == 0) {
    printf("tokens:");
    for (size_t i = 0; i < count; i++)
      printf(" %d", ids[i]);
    printf("\n");
  }
  char *continuation;
  if (status == 0 && tok &&
      ensi_tokenizer_decode(tok, ids + prompt_count, count - prompt_count, &continuation) == ENSI_OK) {
    printf("text: %s\n", continuation);
    free(continuation);
  }
  ensi_tokenizer_free(tok);
  ensi_model_free(model);
  return status;
}
