/* ensi bench ckks [--preset P]: the CKKS operations at the top level and at a middle level:
 * encode, encrypt (public key), decrypt + decode, add, ct-pt multiply, ct-ct multiply +
 * relinearize, rescale, one rotation, 8 hoisted rotations; plus key generation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/ckks.h>

#include "bench_util.h"

int ensi_bench_ckks(int argc, char **argv, const bench_options *opt);

typedef struct {
  const ensi_context *ctx;
  ensi_secret_key *sk;
  ensi_public_key *pk;
  ensi_eval_keys *keys;
  ensi_plaintext *pt;
  ensi_ciphertext *a, *b, *out, *rot[8];
  double *values;
  size_t slots;
} bench_state;

enum { OP_ENCODE, OP_ENCRYPT, OP_DECRYPT, OP_ADD, OP_MUL_PLAIN, OP_MUL_RELIN, OP_RESCALE,
       OP_MUL_RELIN_THEN_RESCALE, OP_MUL_RELIN_RESCALE, OP_ROTATE, OP_ROTATE_HOISTED8, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"encode", "encrypt_pk", "decrypt_decode", "add",
                                               "mul_plain", "mul_relin", "rescale",
                                               "mul_relin_then_rescale", "mul_relin_rescale_fused",
                                               "rotate", "rotate_hoisted8"};

static ensi_status run_op(bench_state *st, int op) {
  const ensi_context *ctx = st->ctx;
  const double scale = ensi_plaintext_scale(st->pt);
  static const long long steps[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  switch (op) {
  case OP_ENCODE: return ensi_encode_real(ctx, st->pt, st->values, st->slots, scale);
  case OP_ENCRYPT: return ensi_encrypt_pk(ctx, st->out, st->pt, st->pk, NULL);
  case OP_DECRYPT: {
    ensi_status s = ensi_decrypt(ctx, st->pt, st->a, st->sk);
    return s ? s : ensi_decode(ctx, st->values, NULL, st->slots, st->pt);
  }
  case OP_ADD: return ensi_add(ctx, st->out, st->a, st->b);
  case OP_MUL_PLAIN: return ensi_mul_plain(ctx, st->out, st->a, st->pt);
  case OP_MUL_RELIN: return ensi_mul_relin(ctx, st->out, st->a, st->b, st->keys);
  case OP_RESCALE: {
    ensi_status s = ensi_ciphertext_copy(st->out, st->a);
    return s ? s : ensi_rescale(ctx, st->out, st->out);
  }
  case OP_MUL_RELIN_THEN_RESCALE: {
    ensi_status s = ensi_mul_relin(ctx, st->out, st->a, st->b, st->keys);
    return s ? s : ensi_rescale(ctx, st->out, st->out);
  }
  case OP_MUL_RELIN_RESCALE: return ensi_mul_relin_rescale(ctx, st->out, st->a, st->b, st->keys);
  case OP_ROTATE: return ensi_rotate(ctx, st->out, st->a, 1, st->keys);
  case OP_ROTATE_HOISTED8: return ensi_rotate_hoisted(ctx, st->rot, st->a, steps, 8, st->keys);
  }
  return ENSI_ERR_ARG;
}

static int bench_level(bench_state *st, const bench_options *opt, const char *preset, size_t level,
                       const char *where, int reps) {
  const ensi_context *ctx = st->ctx;
  const double scale = ensi_params_scale(ensi_context_params(ctx));
  ensi_plaintext_free(st->pt);
  if (ensi_plaintext_create(&st->pt, ctx, level) ||
      ensi_encode_real(ctx, st->pt, st->values, st->slots, scale) ||
      ensi_encrypt_pk(ctx, st->a, st->pt, st->pk, NULL) ||
      ensi_encrypt_pk(ctx, st->b, st->pt, st->pk, NULL))
    return 1;
  double *samples = malloc((size_t)reps * sizeof *samples);
  for (int op = 0; op < OP_COUNT; op++) {
    for (int r = 0; r < reps; r++) {
      double t0 = bench_now();
      ensi_status s = run_op(st, op);
      samples[r] = bench_now() - t0;
      if (s != ENSI_OK) {
        fprintf(stderr, "ensi bench ckks: %s failed: %s %s\n", op_names[op], ensi_strerror(s),
                ensi_error_detail());
        free(samples);
        return 1;
      }
    }
    char name[64], extra[64];
    snprintf(name, sizeof name, "ckks/%s", op_names[op]);
    snprintf(extra, sizeof extra, "\"level\":%zu,\"at\":\"%s\"", level, where);
    bench_report(opt, name, preset, reps, bench_median(samples, (size_t)reps), extra);
  }
  free(samples);
  return 0;
}

int ensi_bench_ckks(int argc, char **argv, const bench_options *opt) {
  const char *preset = "n16";
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--preset") && i + 1 < argc)
      preset = argv[++i];
  const int reps = opt->reps ? opt->reps : 5;
  ensi_params_literal lit;
  ensi_params *params = NULL;
  ensi_context *ctx = NULL;
  bench_state st = {0};
  if (ensi_params_preset(preset, &lit) || ensi_params_create(&params, &lit) ||
      ensi_context_create(&ctx, params)) {
    fprintf(stderr, "ensi bench ckks: preset %s: %s\n", preset, ensi_error_detail());
    return 1;
  }
  st.ctx = ctx;
  st.slots = ensi_params_slots(params);
  st.values = malloc(st.slots * sizeof *st.values);
  for (size_t j = 0; j < st.slots; j++)
    st.values[j] = (double)(j % 17) / 17.0 - 0.5;
  const size_t top = ensi_context_max_level(ctx);
  const long long steps[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  double t0 = bench_now();
  int failed = ensi_secret_key_generate(&st.sk, ctx, NULL) ||
               ensi_public_key_generate(&st.pk, ctx, st.sk, NULL);
  double t1 = bench_now();
  failed = failed || ensi_eval_keys_generate(&st.keys, ctx, st.sk, true, steps, 8, false, NULL);
  double t2 = bench_now();
  if (!failed) {
    bench_report(opt, "ckks/keygen_sk_pk", preset, 1, t1 - t0, NULL);
    bench_report(opt, "ckks/keygen_relin_and_8_rotations", preset, 1, t2 - t1, NULL);
  }
  failed = failed || ensi_ciphertext_create(&st.a, ctx, top) ||
           ensi_ciphertext_create(&st.b, ctx, top) || ensi_ciphertext_create(&st.out, ctx, top);
  for (int r = 0; r < 8 && !failed; r++)
    failed = ensi_ciphertext_create(&st.rot[r], ctx, top) != ENSI_OK;
  failed = failed || bench_level(&st, opt, preset, top, "top", reps) ||
           bench_level(&st, opt, preset, top / 2, "middle", reps);
  for (int r = 0; r < 8; r++)
    ensi_ciphertext_free(st.rot[r]);
  ensi_ciphertext_free(st.a);
  ensi_ciphertext_free(st.b);
  ensi_ciphertext_free(st.out);
  ensi_plaintext_free(st.pt);
  ensi_eval_keys_free(st.keys);
  ensi_public_key_free(st.pk);
  ensi_secret_key_free(st.sk);
  ensi_context_free(ctx);
  ensi_params_free(params);
  free(st.values);
  return failed;
}
