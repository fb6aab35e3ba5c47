/* The protocol's steps as separate processes, client and server apart:
 *   ensi keygen  --preset P --model DIR --out KEYDIR [--max-tokens S]       (client)
 *   ensi encrypt --keys KEYDIR --model DIR --prompt TEXT --out REQ          (client)
 *   ensi eval    --model DIR --evk BUNDLE --in REQ --out RESP [--layers L]  (server)
 *   ensi decrypt --keys KEYDIR --model DIR --in RESP                        (client)
 * The server's step needs nothing secret: the bundle holds the profile and evaluation keys. */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "commands.h"
#include "party.h"
#include "tool_error.h"

typedef struct {
  const char *name; /* the subcommand */
  const char *model, *keys, *prompt, *out, *in, *evk, *preset;
  size_t max_tokens;
  int layers, threads, flood_bits;
  bool allow_insecure;
} step_options;

static int usage(FILE *out) {
  fprintf(out,
          "usage: ensi keygen  --model DIR --out KEYDIR [--preset P] [--max-tokens S]\n"
          "       ensi encrypt --keys KEYDIR --model DIR --prompt TEXT --out REQUEST\n"
          "       ensi eval    --model DIR --evk BUNDLE --in REQUEST --out RESPONSE [--layers L]\n"
          "                    [--allow-insecure] [--threads T]\n"
          "       ensi decrypt --keys KEYDIR --model DIR --in RESPONSE [--flood-bits B]\n"
          "  keygen writes KEYDIR/{%s,%s (0600),%s,%s}; the default preset is n16-boot\n"
          "  (128-bit security) and S = 8 tokens. Only %s goes to the server.\n"
          "  --flood-bits B: Gaussian noise of 2^-B times the largest value on the decrypted\n"
          "  values before use (docs/THREAT-MODEL.md); default off\n",
          PARTY_PROFILE_FILE, PARTY_SECRET_FILE, PARTY_PUBLIC_FILE, PARTY_BUNDLE_FILE,
          PARTY_BUNDLE_FILE);
  return out == stdout ? 0 : 2;
}

static int fail(const char *name, const char *what, ensi_status s) {
  fprintf(stderr, "ensi %s: %s: %s: %s\n", name, what, ensi_strerror(s), tool_error_detail());
  return 1;
}

static int parse(int argc, char **argv, step_options *o) {
  static const struct option options[] = {
      {"model", required_argument, 0, 'm'},      {"keys", required_argument, 0, 'k'},
      {"prompt", required_argument, 0, 'p'},     {"out", required_argument, 0, 'o'},
      {"in", required_argument, 0, 'i'},         {"evk", required_argument, 0, 'e'},
      {"preset", required_argument, 0, 's'},     {"max-tokens", required_argument, 0, 'n'},
      {"layers", required_argument, 0, 'l'},     {"threads", required_argument, 0, 't'},
      {"allow-insecure", no_argument, 0, 'a'},   {"flood-bits", required_argument, 0, 'f'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  o->name = argv[0];
  o->preset = "n16-boot";
  o->max_tokens = 8;
  o->threads = omp_get_max_threads();
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (c) {
    case 'm': o->model = optarg; break;
    case 'k': o->keys = optarg; break;
    case 'p': o->prompt = optarg; break;
    case 'o': o->out = optarg; break;
    case 'i': o->in = optarg; break;
    case 'e': o->evk = optarg; break;
    case 's': o->preset = optarg; break;
    case 'n': o->max_tokens = (size_t)atol(optarg); break;
    case 'l': o->layers = atoi(optarg); break;
    case 't': o->threads = atoi(optarg); break;
    case 'a': o->allow_insecure = true; break;
    case 'f': o->flood_bits = atoi(optarg); break;
    case 'h': return usage(stdout) + 1; /* 1: help printed */
    default: return usage(stderr);
    }
  }
  if (optind != argc || !o->model || o->threads < 1 || o->layers < 0 || o->flood_bits < 0 ||
      o->flood_bits > 60)
    return usage(stderr);
  omp_set_num_threads(o->threads);
  return 0;
}

static int write_file(const step_options *o, const char *path, const uint8_t *data, size_t n) {
  const ensi_status s = ensi_file_write(path, data, n, 0644);
  return s == ENSI_OK ? 0 : fail(o->name, path, s);
}

static int keygen_step(const step_options *o, const ensi_model *m) {
  if (!o->out)
    return usage(stderr);
  party p;
  const double start = bench_now();
  fprintf(stderr, "ensi keygen: preset %s, prompts of up to %zu tokens: making keys...\n",
          o->preset, o->max_tokens);
  ensi_status s = party_keygen(&p, o->preset, m, o->max_tokens);
  if (s == ENSI_OK)
    s = party_save(&p, o->out);
  const int status = s == ENSI_OK ? 0 : fail(o->name, "key generation", s);
  if (s == ENSI_OK)
    printf("keys in %s (%.1f s): %s stays here (mode 0600); send %s/%s to the server "
           "(%.2f GiB of evaluation keys)\n", o->out, bench_now() - start, PARTY_SECRET_FILE,
           o->out, PARTY_BUNDLE_FILE, (double)ensi_eval_keys_bytes(p.keys) / (1 << 30));
  party_close(&p);
  return status;
}

static int encrypt_step(const step_options *o, const ensi_model *m) {
  if (!o->keys || !o->prompt || !o->out)
    return usage(stderr);
  party p;
  uint8_t *request = NULL;
  size_t length = 0;
  ensi_status s = party_open_client(&p, o->keys, m);
  if (s == ENSI_OK)
    s = party_encrypt(&p, m, o->model, o->prompt, &request, &length);
  int status = s == ENSI_OK ? write_file(o, o->out, request, length) : fail(o->name, "encrypt", s);
  if (status == 0)
    printf("request in %s (%.1f MiB)\n", o->out, (double)length / (1 << 20));
  free(request);
  party_close(&p);
  return status;
}

static void progress(void *user, int layer, int layers, const char *what) {
  const double *start = user;
  fprintf(stderr, isatty(fileno(stderr)) ? "\r  [%6.1f s] layer %d/%d: %-24s"
                                         : "  [%6.1f s] layer %d/%d: %s\n",
          bench_now() - *start, layer + 1, layers, what);
}

static int eval_step(const step_options *o, const ensi_model *m) {
  if (!o->evk || !o->in || !o->out)
    return usage(stderr);
  uint8_t *bundle = NULL, *request = NULL, *response = NULL;
  size_t bundle_length = 0, length = 0, response_length = 0;
  party p = {0};
  ensi_status s = ensi_file_read(o->evk, &bundle, &bundle_length, PARTY_MAX_FILE);
  if (s == ENSI_OK)
    s = party_open_server(&p, bundle, bundle_length, m, o->allow_insecure);
  free(bundle);
  if (s == ENSI_OK)
    s = ensi_file_read(o->in, &request, &length, PARTY_MAX_FILE);
  const double start = bench_now();
  ensi_henn_setup hooks = {.layers = o->layers, .progress = progress, .progress_user = (void *)&start};
  ensi_henn_stats stats = {0};
  if (s == ENSI_OK)
    s = party_evaluate(&p, m, request, length, &hooks, &response, &response_length, &stats);
  if (isatty(fileno(stderr)))
    fprintf(stderr, "\n");
  int status = s == ENSI_OK ? write_file(o, o->out, response, response_length)
                            : fail(o->name, "evaluation", s);
  if (status == 0)
    printf("response in %s (%.1f MiB) after %.1f s, %zu bootstraps\n", o->out,
           (double)response_length / (1 << 20), bench_now() - start, stats.bootstraps);
  free(request);
  free(response);
  party_close(&p);
  return status;
}

static int decrypt_step(const step_options *o, const ensi_model *m) {
  if (!o->keys || !o->in)
    return usage(stderr);
  party p;
  uint8_t *response = NULL;
  size_t length = 0;
  int32_t token = -1;
  char *text = NULL;
  ensi_status s = party_open_client(&p, o->keys, m);
  if (s == ENSI_OK)
    s = ensi_file_read(o->in, &response, &length, PARTY_MAX_FILE);
  if (s == ENSI_OK)
    s = party_decrypt(&p, m, o->model, response, length, o->flood_bits, &token, &text);
  const int status = s == ENSI_OK ? 0 : fail(o->name, "decrypt", s);
  if (s == ENSI_OK)
    printf("next token: %d\n%s\n", token, text);
  free(text);
  free(response);
  party_close(&p);
  return status;
}

static int run_step(int argc, char **argv, int (*step)(const step_options *, const ensi_model *)) {
  step_options o;
  const int parsed = parse(argc, argv, &o);
  if (parsed)
    return parsed == 1 ? 0 : parsed;
  ensi_model *m = NULL;
  const ensi_status s = ensi_model_load(&m, o.model);
  if (s != ENSI_OK)
    return fail(o.name, "model", s);
  const int status = step(&o, m);
  ensi_model_free(m);
  return status;
}

int ensi_cmd_keygen(int argc, char **argv) { return run_step(argc, argv, keygen_step); }
int ensi_cmd_encrypt(int argc, char **argv) { return run_step(argc, argv, encrypt_step); }
int ensi_cmd_eval(int argc, char **argv) { return run_step(argc, argv, eval_step); }
int ensi_cmd_decrypt(int argc, char **argv) { return run_step(argc, argv, decrypt_step); }
