/* ensi tokenize --model DIR TEXT...: prints the token ids of TEXT (with BOS unless --no-bos);
 * with --decode, takes ids and prints the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/tokenizer.h>

#include "commands.h"

static int usage(FILE *out) {
  fprintf(out, "usage: ensi tokenize --model DIR [--no-bos] TEXT...\n"
               "       ensi tokenize --model DIR --decode ID...\n");
  return out == stdout ? 0 : 2;
}

int ensi_cmd_tokenize(int argc, char **argv) {
  const char *dir = NULL;
  bool decode = false, bos = true;
  int first = argc;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc)
      dir = argv[++i];
    else if (!strcmp(argv[i], "--decode"))
      decode = true;
    else if (!strcmp(argv[i], "--no-bos"))
      bos = false;
    else if (!strcmp(argv[i], "--help"))
      return usage(stdout);
    else {
      first = i;
      break;
    }
  }
  if (!dir || first >= argc)
    return usage(stderr);
  ensi_tokenizer *tok;
  ensi_status s = ensi_tokenizer_load_dir(&tok, dir);
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi tokenize: %s: %s\n", ensi_strerror(s), ensi_error_detail());
    return 1;
  }
  int status = 0;
  if (decode) {
    int32_t *ids = malloc((size_t)(argc - first) * sizeof *ids);
    for (int i = first; i < argc; i++)
      ids[i - first] = (int32_t)strtol(argv[i], NULL, 10);
    char *text;
    s = ensi_tokenizer_decode(tok, ids, (size_t)(argc - first), &text);
    if (s == ENSI_OK) {
      printf("%s\n", text);
      free(text);
    }
    free(ids);
  } else {
    size_t length = 0; /* the arguments joined by single spaces */
    for (int i = first; i < argc; i++)
      length += strlen(argv[i]) + 1;
    char *text = malloc(length + 1);
    text[0] = '\0';
    for (int i = first; i < argc; i++) {
      strcat(text, argv[i]);
      if (i + 1 < argc)
        strcat(text, " ");
    }
    int32_t *ids;
    size_t count;
    s = ensi_tokenizer_encode(tok, text, strlen(text), bos, &ids, &count);
    for (size_t i = 0; s == ENSI_OK && i < count; i++)
      printf("%s%d", i ? " " : "", ids[i]);
    if (s == ENSI_OK) {
      printf("\n");
      free(ids);
    }
    free(text);
  }
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi tokenize: %s: %s\n", ensi_strerror(s), ensi_error_detail());
    status = 1;
  }
  ensi_tokenizer_free(tok);
  return status;
}
