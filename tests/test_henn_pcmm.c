/* The addition-only ternary PCMM on column-encoded ciphertexts against the plaintext product
 * X T^T on random inputs (with rows of all zeros and all minus signs included, and an input count
 * that is not a multiple of the lookup groups' three): no level consumed, error at the scheme's
 * precision, and plain and lookup sums give the same ciphertexts bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/henn.h>
#include <ensi/io.h>

#include "testutil.h"

int main(void) {
  test_rng rng;
  test_rng_seed(&rng, test_seed_from_env());
  ensi_params_literal lit;
  ensi_params *params;
  ensi_context *ctx;
  CHECK(ensi_params_preset("test-n10", &lit) == ENSI_OK);
  CHECK(ensi_params_create(&params, &lit) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, params) == ENSI_OK);
  ensi_secret_key *sk;
  ensi_public_key *pk;
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_public_key_generate(&pk, ctx, sk, NULL) == ENSI_OK);
  enum { S = 7, D_IN = 47, D_OUT = 24 };
  double x[S * D_IN], want[S * D_OUT], got[S * D_OUT];
  int8_t t[D_OUT * D_IN];
  for (size_t i = 0; i < S * D_IN; i++)
    x[i] = test_rng_uniform(&rng, -1, 1);
  for (size_t k = 0; k < D_OUT; k++)
    for (size_t j = 0; j < D_IN; j++)
      t[k * D_IN + j] = k == 0 ? 0 : k == 1 ? -1 : (int8_t)((int)test_rng_below(&rng, 3) - 1);
  for (size_t i = 0; i < S; i++)
    for (size_t k = 0; k < D_OUT; k++) {
      double acc = 0;
      for (size_t j = 0; j < D_IN; j++)
        acc += t[k * D_IN + j] * x[i * D_IN + j];
      want[i * D_OUT + k] = acc;
    }
  ensi_ternary w;
  CHECK(ensi_ternary_from_trits(&w, t, D_OUT, D_IN, 0.5) == ENSI_OK);
  const size_t level = ensi_context_max_level(ctx);
  ensi_enc_matrix *ex, *ey;
  CHECK(ensi_enc_matrix_encrypt(&ex, ctx, x, S, D_IN, 0, level, 0x1p40, pk) == ENSI_OK);
  CHECK(ex->block == 8 && ex->slots == 16);
  CHECK(ensi_ternary_pcmm(ctx, &ey, ex, &w) == ENSI_OK);
  CHECK(ensi_ciphertext_level(ey->column[5]) == level); /* no level consumed */
  CHECK(ensi_enc_matrix_decrypt(ctx, got, ey, sk) == ENSI_OK);
  double worst = 0;
  for (size_t i = 0; i < S * D_OUT; i++)
    worst = test_worse(worst, fabs(got[i] - want[i]));
  CHECK_MSG(worst < 1e-6, "PCMM error %.3g", worst);
  const ensi_pcmm_sums methods[] = {ENSI_PCMM_PLAIN_SUMS, ENSI_PCMM_LOOKUP_SUMS};
  for (size_t m = 0; m < 2; m++) {
    ensi_enc_matrix *other;
    CHECK(ensi_ternary_pcmm_with(ctx, &other, ex, &w, methods[m]) == ENSI_OK);
    for (size_t k = 0; k < D_OUT; k++) {
      uint8_t *a = NULL, *b = NULL;
      size_t a_length = 0, b_length = 0;
      CHECK(ensi_ciphertext_save(ctx, other->column[k], &a, &a_length) == ENSI_OK);
      CHECK(ensi_ciphertext_save(ctx, ey->column[k], &b, &b_length) == ENSI_OK);
      CHECK_MSG(a_length == b_length && !memcmp(a, b, a_length), "sums %zu differ on output %zu",
                m, k);
      free(a);
      free(b);
    }
    ensi_enc_matrix_free(other);
  }
  ensi_ternary bad;
  CHECK(ensi_ternary_from_trits(&bad, t, D_IN, D_OUT, 0.5) == ENSI_OK); /* wrong orientation */
  ensi_enc_matrix *none = NULL;
  CHECK(ensi_ternary_pcmm(ctx, &none, ex, &bad) == ENSI_ERR_ARG && none == NULL);
  ensi_ternary_free(&bad);
  ensi_ternary_free(&w);
  ensi_enc_matrix_free(ex);
  ensi_enc_matrix_free(ey);
  ensi_public_key_free(pk);
  ensi_secret_key_free(sk);
  ensi_context_free(ctx);
  ensi_params_free(params);
  return test_finish("test_henn_pcmm");
}
