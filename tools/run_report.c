/* Prints the report of `ensi run` (see run_report.h). */
#include "run_report.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

static double total_seconds(const ensi_henn_stats *st) {
  double t = 0;
  for (int i = 0; i < ENSI_STAGE_COUNT; i++)
    t += st->seconds[i];
  return t;
}

static uint64_t total_keyswitches(const ensi_henn_stats *st) {
  uint64_t n = 0;
  for (int i = 0; i < ENSI_STAGE_COUNT; i++)
    n += st->ops[i].keyswitch;
  return n;
}

void run_report_print(FILE *out, const run_report *r) {
  const ensi_henn_stats *st = &r->stats;
  const double total = total_seconds(st);
  const uint64_t switches = total_keyswitches(st);
  fprintf(out, "\nencrypted forward pass: %d layers, %zu tokens, preset %s, %s layout, %d threads, "
          "%zu slots\n", r->layers, r->rows, r->preset, r->layout, r->threads, r->slots);
  fprintf(out, "  %-16s %10s %7s %10s %10s %10s %10s\n", "component", "seconds", "share",
          "keyswitch", "rotation", "ct x ct", "pt/const");
  for (int i = 0; i < ENSI_STAGE_COUNT; i++) {
    const ensi_op_counts *o = &st->ops[i];
    fprintf(out, "  %-16s %10.2f %6.1f%% %10llu %10llu %10llu %10llu\n",
            ensi_henn_stage_name((ensi_henn_stage)i), st->seconds[i],
            total > 0 ? 100 * st->seconds[i] / total : 0, (unsigned long long)o->keyswitch,
            (unsigned long long)o->rotation, (unsigned long long)o->mul,
            (unsigned long long)o->mul_plain);
  }
  const double boot = st->seconds[ENSI_STAGE_BOOTSTRAP];
  fprintf(out, "  %-16s %10.2f\n", "server total", total);
  fprintf(out, "bootstrapping: %zu bootstraps (%zu packs), %.1f%% of the server's time, %.1f%% of "
          "its key switches\n", st->bootstraps, st->refreshed_packs, total > 0 ? 100 * boot / total : 0,
          switches ? 100.0 * (double)st->ops[ENSI_STAGE_BOOTSTRAP].keyswitch / (double)switches : 0);
  fprintf(out, "client: calibration %.2f s, keys %.2f s (%.2f GiB of evaluation keys), encryption "
          "%.2f s, decryption %.2f s\n", r->calibrate_s, r->keygen_s,
          (double)r->key_bytes / (1u << 30), r->encrypt_s, r->decrypt_s);
  fprintf(out, "relative error of the decrypted hidden states: %.3g against the plaintext run with "
          "the same polynomials; %.3g against exact sigmoid attention and functions; %.3g against "
          "the exact model (softmax attention)\n", r->error_reference, r->error_sigmoid, r->error_exact);
  fprintf(out, "next token: encrypted %d%s%s%s, plaintext with the same polynomials %d (%s), exact "
          "sigmoid %d, exact softmax %d\n", r->token_encrypted, r->text_encrypted ? " \"" : "",
          r->text_encrypted ? r->text_encrypted : "", r->text_encrypted ? "\"" : "",
          r->token_reference, r->token_encrypted == r->token_reference ? "match" : "MISMATCH",
          r->token_sigmoid, r->token_exact);
}

/* v as JSON: null when it is not finite (JSON has no NaN: the error of a run that produced NaN). */
static json_t *json_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

void run_report_json(FILE *out, const run_report *r) {
  const ensi_henn_stats *st = &r->stats;
  json_t *seconds = json_object(), *ops = json_object(), *prompt = json_array();
  for (int i = 0; i < ENSI_STAGE_COUNT; i++) {
    const char *name = ensi_henn_stage_name((ensi_henn_stage)i);
    json_object_set_new(seconds, name, json_real(st->seconds[i]));
    json_object_set_new(ops, name, json_pack("{sI sI sI sI}", "keyswitch", (json_int_t)st->ops[i].keyswitch,
                                             "rotation", (json_int_t)st->ops[i].rotation,
                                             "mul", (json_int_t)st->ops[i].mul,
                                             "mul_plain", (json_int_t)st->ops[i].mul_plain));
  }
  for (size_t i = 0; i < r->rows; i++)
    json_array_append_new(prompt, json_integer(r->prompt[i]));
  json_t *root = json_pack(
      "{ss ss si si sI sI so si si si si sb so so so so so sI sI sf sf sf sf sf sf}", "preset", r->preset,
      "layout", r->layout,
      "threads", r->threads, "layers", r->layers, "tokens_in", (json_int_t)r->rows, "slots",
      (json_int_t)r->slots, "prompt_tokens", prompt, "token_encrypted", r->token_encrypted,
      "token_plaintext", r->token_reference, "token_exact_sigmoid", r->token_sigmoid,
      "token_exact_softmax", r->token_exact, "match", r->token_encrypted == r->token_reference,
      "max_rel_error", json_number(r->error_reference), "max_rel_error_exact_sigmoid",
      json_number(r->error_sigmoid), "max_rel_error_exact_softmax", json_number(r->error_exact), "seconds", seconds, "ops", ops, "bootstraps",
      (json_int_t)st->bootstraps, "refreshed_packs", (json_int_t)st->refreshed_packs, "server_seconds", r->server_s, "calibrate_seconds", r->calibrate_s,
      "keygen_seconds", r->keygen_s, "encrypt_seconds", r->encrypt_s, "decrypt_seconds", r->decrypt_s,
      "key_gib", (double)r->key_bytes / (1u << 30));
  char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
  if (text)
    fprintf(out, "%s\n", text);
  free(text);
  json_decref(root);
}
