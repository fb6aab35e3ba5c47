/* ensi run: the main job, a full encrypted round trip. The client tokenizes and embeds the prompt,
 * makes its keys and encrypts; the server runs every layer on the ciphertexts (bootstrapping inside
 * the RMSNorms); the client decrypts the last hidden states, applies the final norm and the LM
 * head and picks the next token. The same prompt also runs in plaintext, with the same
 * polynomials (the encrypted result must match it) and exactly (what the approximations cost).
 * --layout: the paper's column layout (the default, as in the protocol's commands), the packed
 * layers of ensi/packed_forward.h (N / (2 b) columns a ciphertext: for wide models such as
 * bitnet_b1_58-large, whose columns do not fit in memory), or auto (packed when the hidden size
 * fills a pack and the heads fit: session.h). */
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "commands.h"
#include "run_report.h"
#include "session.h"
#include "tempdir.h"
#include "tool_error.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: ensi run [--model DIR] [--prompt TEXT] [--preset P] [--layers L] [--max-tokens S]\n"
          "                [--layout column|packed|auto] [--threads T] [--json]\n"
          "  without --model, the tiny synthetic model is generated in a temporary directory;\n"
          "  the default preset is n16-boot (128-bit security)\n");
  return out == stdout ? 0 : 2;
}

typedef struct {
  const char *dir, *prompt, *preset, *layout;
  int layers, threads;
  size_t max_tokens;
  bool json;
} run_options;

static void progress(void *user, int layer, int layers, const char *what) {
  const double *start = user;
  const bool tty = isatty(fileno(stderr));
  fprintf(stderr, tty ? "\r  [%6.1f s] layer %d/%d: %-24s" : "  [%6.1f s] layer %d/%d: %s\n",
          bench_now() - *start, layer + 1, layers, what);
  fflush(stderr);
}

static int argmax_last(const double *logits, size_t rows, int vocab) {
  const double *v = logits + (rows - 1) * (size_t)vocab;
  int best = 0;
  for (int i = 1; i < vocab; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

/* The plaintext runs into hidden[0..3): with the session's polynomials, with exact sigmoid
 * attention and exact functions, and the exact model. */
static ensi_status plaintext_runs(const ensi_model *m, const session *ses, const int32_t *tokens,
                                  size_t rows, int layers, double *hidden[3], run_report *r) {
  const size_t vocab = (size_t)m->config.vocab;
  double *logits = malloc(rows * vocab * sizeof *logits);
  if (!logits)
    return ENSI_ERR_NOMEM;
  ensi_model trimmed = *m; /* --layers: the reference runs as many layers */
  trimmed.config.layers = layers;
  ensi_forward_options sigmoid, exact;
  ensi_forward_options_default(&exact);
  ensi_forward_options_default(&sigmoid);
  sigmoid.attention = ENSI_ATTENTION_SIGMOID;
  const ensi_forward_options *runs[3] = {&ses->setup.approx, &sigmoid, &exact};
  int32_t *tokens_out[3] = {&r->token_reference, &r->token_sigmoid, &r->token_exact};
  ensi_status s = ENSI_OK;
  for (int i = 0; s == ENSI_OK && i < 3; i++) {
    s = ensi_forward(&trimmed, tokens, rows, runs[i], hidden[i], logits);
    if (s == ENSI_OK)
      *tokens_out[i] = argmax_last(logits, rows, m->config.vocab);
  }
  free(logits);
  return s;
}

/* Client encrypts, server computes, client decrypts: fills r and hidden. */
static ensi_status encrypted_run(const ensi_model *m, session *ses, const int32_t *tokens,
                                 size_t rows, double *hidden, const run_options *o, run_report *r) {
  double start = bench_now(), seconds[3] = {0, 0, 0};
  ses->setup.progress = o->json ? NULL : progress;
  ses->setup.progress_user = &start;
  ensi_status s = session_encrypted_pass(ses, m, tokens, rows, &r->stats, hidden, seconds);
  r->encrypt_s = seconds[0];
  r->server_s = seconds[1];
  if (!o->json && isatty(fileno(stderr)))
    fprintf(stderr, "\n");
  const double t = bench_now();
  const size_t vocab = (size_t)m->config.vocab;
  double *logits = malloc(rows * vocab * sizeof *logits);
  if (s == ENSI_OK && !logits)
    s = ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < rows * (size_t)m->config.hidden; i++)
    if (!isfinite(hidden[i]) || fabs(hidden[i]) > 1e6) {
      fprintf(stderr, "ensi run: the decrypted hidden states hold %g: the prompt drove a "
              "polynomial outside its calibrated interval\n", hidden[i]);
      s = ENSI_ERR_LIMIT;
    }
  if (s == ENSI_OK)
    s = ensi_lm_head(m, hidden, rows, logits);
  if (s == ENSI_OK)
    r->token_encrypted = argmax_last(logits, rows, m->config.vocab);
  r->decrypt_s = seconds[2] + bench_now() - t;
  free(logits);
  return s;
}

static ensi_status tokenize(const char *dir, const char *prompt, size_t max_tokens, int32_t **ids,
                            size_t *count, ensi_tokenizer **tok) {
  ensi_status s = ensi_tokenizer_load_dir(tok, dir);
  if (s == ENSI_OK)
    s = ensi_tokenizer_encode(*tok, prompt, strlen(prompt), true, ids, count);
  if (s != ENSI_OK)
    return s;
  if (*count > max_tokens)
    *count = max_tokens;
  return ENSI_OK;
}

static int fail(const char *what, ensi_status s) {
  fprintf(stderr, "\nensi run: %s: %s: %s\n", what, ensi_strerror(s), tool_error_detail());
  return 1;
}

static int run(const run_options *o, const char *dir) {
  ensi_model *m = NULL;
  ensi_tokenizer *tok = NULL;
  int32_t *tokens = NULL;
  size_t rows = 0;
  tool_error_clear();
  ensi_status s = ensi_model_load(&m, dir);
  if (s != ENSI_OK)
    return fail("model", s);
  if ((s = tokenize(dir, o->prompt, o->max_tokens, &tokens, &rows, &tok)) != ENSI_OK) {
    ensi_model_free(m);
    ensi_tokenizer_free(tok);
    return fail("tokenizer", s);
  }
  const int layers = o->layers > 0 && o->layers < m->config.layers ? o->layers : m->config.layers;
  bool packed = false;
  if ((s = session_choose_layout(o->layout, o->preset, &m->config, rows, &packed)) != ENSI_OK) {
    ensi_model_free(m);
    ensi_tokenizer_free(tok);
    free(tokens);
    return fail("layout", s);
  }
  ensi_forward_options degrees;
  ensi_forward_options_default(&degrees);
  ensi_henn_default_degrees(&degrees);
  if (!o->json)
    fprintf(stderr, "ensi run: %zu prompt tokens, %d layers of d = %d, preset %s, %s layout: "
            "calibrating, making keys...\n", rows, layers, m->config.hidden, o->preset,
            packed ? "packed" : "column");
  session ses;
  s = session_open(&ses, o->preset, m, rows, layers, &degrees, packed);
  const size_t hid = rows * (size_t)m->config.hidden;
  double *hidden = malloc(4 * hid * sizeof *hidden); /* encrypted, then the plaintext runs */
  double *plain[3] = {hidden + hid, hidden + 2 * hid, hidden + 3 * hid};
  run_report r = {.preset = o->preset, .layout = packed ? "packed" : "column",
                  .threads = o->threads, .layers = layers, .rows = rows, .prompt = tokens};
  if (s == ENSI_OK && !hidden)
    s = ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    r.slots = ensi_henn_slots(&ses.setup, rows);
    r.key_bytes = ensi_eval_keys_bytes(ses.keys);
    r.calibrate_s = ses.calibrate_s;
    r.keygen_s = ses.keygen_s;
    s = encrypted_run(m, &ses, tokens, rows, hidden, o, &r);
    if (s == ENSI_OK)
      s = plaintext_runs(m, &ses, tokens, rows, layers, plain, &r);
  }
  int status = s == ENSI_OK ? 0 : fail("encrypted round trip", s);
  char *text = NULL;
  if (s == ENSI_OK) {
    r.error_reference = session_relative_error(hidden, plain[0], hid);
    r.error_sigmoid = session_relative_error(hidden, plain[1], hid);
    r.error_exact = session_relative_error(hidden, plain[2], hid);
    if (ensi_tokenizer_decode(tok, &r.token_encrypted, 1, &text) == ENSI_OK)
      r.text_encrypted = text;
    run_report_print(o->json ? stderr : stdout, &r);
    if (o->json)
      run_report_json(stdout, &r);
    status = r.token_encrypted == r.token_reference ? 0 : 1;
  }
  free(text);
  free(hidden);
  if (ses.ctx)
    session_close(&ses);
  free(tokens);
  ensi_tokenizer_free(tok);
  ensi_model_free(m);
  return status;
}

int ensi_cmd_run(int argc, char **argv) {
  run_options o = {.prompt = "The quick brown fox jumps over", .preset = "n16-boot", .layout = "column",
                   .max_tokens = 8, .threads = omp_get_max_threads()};
  static const struct option options[] = {
      {"model", required_argument, 0, 'm'},  {"prompt", required_argument, 0, 'p'},
      {"preset", required_argument, 0, 's'}, {"layers", required_argument, 0, 'l'},
      {"max-tokens", required_argument, 0, 'n'}, {"threads", required_argument, 0, 't'},
      {"layout", required_argument, 0, 'y'}, {"json", no_argument, 0, 'j'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (c) {
    case 'm': o.dir = optarg; break;
    case 'p': o.prompt = optarg; break;
    case 's': o.preset = optarg; break;
    case 'l': o.layers = atoi(optarg); break;
    case 'n': o.max_tokens = (size_t)atol(optarg); break;
    case 't': o.threads = atoi(optarg); break;
    case 'y': o.layout = optarg; break;
    case 'j': o.json = true; break;
    case 'h': return usage(stdout);
    default: return usage(stderr);
    }
  }
  if (optind != argc || o.max_tokens < 1 || o.max_tokens > 256 || o.threads < 1 || o.layers < 0)
    return usage(stderr);
  omp_set_num_threads(o.threads);
  if (o.dir)
    return run(&o, o.dir);
  char dir[512];
  ensi_status s = tool_temp_dir(dir, sizeof dir, "run") == 0 ? ensi_model_synthesize(dir, "tiny", 0, 1)
                                                              : ENSI_ERR_IO;
  if (s != ENSI_OK)
    return fail("synthesizing the tiny model", s);
  const int status = run(&o, dir);
  tool_remove_dir(dir);
  return status;
}
