/* CKKS evaluation against double-precision references on fresh random inputs: encryption with
 * both keys, additions, multiplications with relinearization and rescaling (a chain of 10),
 * constants, rotations (positive, negative, large steps, hoisted), conjugation, sparse slots and
 * their run encoding. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/ckks.h>
#include <ensi/linear_transform.h>

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/encoder.h"
#include "ckks/extended.h"
#include "ckks/galois.h"
#include "ckks/keys.h"
#include "ckks/fft.h"
#include "math/ntt.h"
#include "testutil.h"

static test_rng rng;
static const ensi_context *ctx;
static ensi_secret_key *sk;
static ensi_public_key *pk;
static ensi_eval_keys *keys;
static size_t slots;

/* Bits of precision: -log2 of the maximum absolute error over count slots. */
static double precision_bits(const double *re, const double *im, const double *want_re,
                             const double *want_im, size_t count) {
  double worst = 0;
  for (size_t j = 0; j < count; j++) {
    double e = hypot(re[j] - want_re[j], im[j] - (want_im ? want_im[j] : 0));
    if (e > worst)
      worst = e;
  }
  return worst > 0 ? -log2(worst) : 60;
}

static void random_vector(double *re, double *im, size_t count) {
  for (size_t j = 0; j < count; j++) {
    re[j] = test_rng_uniform(&rng, -1, 1);
    im[j] = test_rng_uniform(&rng, -1, 1);
  }
}

static ensi_ciphertext *encrypt(const double *re, const double *im, size_t count, size_t level,
                                bool with_pk) {
  ensi_plaintext *pt;
  ensi_ciphertext *ct;
  CHECK(ensi_plaintext_create(&pt, ctx, level) == ENSI_OK);
  CHECK(ensi_encode_complex(ctx, pt, re, im, count, ensi_params_scale(ensi_context_params(ctx))) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&ct, ctx, level) == ENSI_OK);
  CHECK((with_pk ? ensi_encrypt_pk(ctx, ct, pt, pk, NULL) : ensi_encrypt_sk(ctx, ct, pt, sk, NULL)) == ENSI_OK);
  ensi_plaintext_free(pt);
  return ct;
}

static double decrypt_bits(const ensi_ciphertext *ct, const double *want_re, const double *want_im,
                           size_t count) {
  ensi_plaintext *pt;
  double *re = calloc(count, sizeof *re), *im = calloc(count, sizeof *im);
  CHECK(ensi_plaintext_create(&pt, ctx, ensi_context_max_level(ctx)) == ENSI_OK);
  CHECK(ensi_decrypt(ctx, pt, ct, sk) == ENSI_OK);
  CHECK(ensi_decode(ctx, re, im, count, pt) == ENSI_OK);
  double bits = precision_bits(re, im, want_re, want_im, count);
  ensi_plaintext_free(pt);
  free(re);
  free(im);
  return bits;
}

static void test_encrypt_decrypt(void) {
  const size_t L = ensi_context_max_level(ctx);
  double re[1024], im[1024];
  random_vector(re, im, slots);
  for (int with_pk = 0; with_pk < 2; with_pk++) {
    ensi_ciphertext *ct = encrypt(re, im, slots, L, with_pk);
    double bits = decrypt_bits(ct, re, im, slots);
    CHECK_MSG(bits >= 25, "fresh encryption (%s key): %.1f bits", with_pk ? "public" : "secret", bits);
    ensi_ciphertext_free(ct);
  }
}

static void test_arithmetic(void) {
  const size_t L = ensi_context_max_level(ctx);
  double a_re[1024], a_im[1024], b_re[1024], b_im[1024], w_re[1024], w_im[1024];
  random_vector(a_re, a_im, slots);
  random_vector(b_re, b_im, slots);
  ensi_ciphertext *a = encrypt(a_re, a_im, slots, L, true), *b = encrypt(b_re, b_im, slots, L, true);
  ensi_ciphertext *c;
  CHECK(ensi_ciphertext_create(&c, ctx, L) == ENSI_OK);
  CHECK(ensi_sub(ctx, c, a, b) == ENSI_OK);
  for (size_t j = 0; j < slots; j++) {
    w_re[j] = a_re[j] - b_re[j];
    w_im[j] = a_im[j] - b_im[j];
  }
  CHECK_MSG(decrypt_bits(c, w_re, w_im, slots) >= 24, "sub");
  CHECK(ensi_mul_relin(ctx, c, a, b, keys) == ENSI_OK);
  CHECK(ensi_rescale(ctx, c, c) == ENSI_OK);
  for (size_t j = 0; j < slots; j++) {
    double complex z = (a_re[j] + I * a_im[j]) * (b_re[j] + I * b_im[j]);
    w_re[j] = creal(z);
    w_im[j] = cimag(z);
  }
  double bits = decrypt_bits(c, w_re, w_im, slots);
  CHECK_MSG(bits >= 22, "mul_relin + rescale: %.1f bits", bits);
  CHECK(ensi_mul_const(ctx, c, a, -0.75) == ENSI_OK);
  CHECK(ensi_rescale(ctx, c, c) == ENSI_OK);
  CHECK_MSG(fabs(ensi_ciphertext_scale(c) / ensi_ciphertext_scale(a) - 1) < 1e-15, "mul_const keeps the scale");
  CHECK(ensi_add_const(ctx, c, c, 0.5) == ENSI_OK);
  for (size_t j = 0; j < slots; j++) {
    w_re[j] = -0.75 * a_re[j] + 0.5;
    w_im[j] = -0.75 * a_im[j];
  }
  bits = decrypt_bits(c, w_re, w_im, slots);
  CHECK_MSG(bits >= 22, "mul_const/add_const: %.1f bits", bits);
  ensi_ciphertext_free(a);
  ensi_ciphertext_free(b);
  ensi_ciphertext_free(c);
}

/* x_{k+1} = x_k * y_k for 10 steps with rescaling, real inputs in [-1, 1]. */
/* Ten products in a chain, each relinearized and rescaled, apart or fused
 * (ensi_mul_relin_rescale: one division by P q_l). */
static void test_multiplication_chain(bool fused) {
  const size_t L = ensi_context_max_level(ctx);
  double x[1024], y[1024], zero[1024] = {0}, want[1024];
  for (size_t j = 0; j < slots; j++)
    x[j] = want[j] = test_rng_uniform(&rng, -1, 1);
  ensi_ciphertext *acc = encrypt(x, zero, slots, L, true);
  for (int step = 0; step < 10; step++) {
    for (size_t j = 0; j < slots; j++) {
      y[j] = test_rng_uniform(&rng, 0.9, 1.1) * (j % 2 ? -1 : 1);
      want[j] *= y[j];
    }
    ensi_plaintext *pt;
    ensi_ciphertext *ct;
    CHECK(ensi_plaintext_create(&pt, ctx, ensi_ciphertext_level(acc)) == ENSI_OK);
    CHECK(ensi_encode_real(ctx, pt, y, slots, ensi_ciphertext_scale(acc)) == ENSI_OK);
    CHECK(ensi_ciphertext_create(&ct, ctx, ensi_ciphertext_level(acc)) == ENSI_OK);
    CHECK(ensi_encrypt_pk(ctx, ct, pt, pk, NULL) == ENSI_OK);
    const size_t level = ensi_ciphertext_level(acc);
    const double scale = ensi_ciphertext_scale(acc) * ensi_ciphertext_scale(ct) /
                         (double)ensi_context_prime(ctx, level);
    if (fused) {
      CHECK(ensi_mul_relin_rescale(ctx, acc, acc, ct, keys) == ENSI_OK);
    } else {
      CHECK(ensi_mul_relin(ctx, acc, acc, ct, keys) == ENSI_OK);
      CHECK(ensi_rescale(ctx, acc, acc) == ENSI_OK);
    }
    CHECK(ensi_ciphertext_level(acc) == level - 1);
    CHECK(fabs(ensi_ciphertext_scale(acc) / scale - 1) < 1e-12);
    ensi_plaintext_free(pt);
    ensi_ciphertext_free(ct);
  }
  double bits = decrypt_bits(acc, want, zero, slots);
  CHECK_MSG(bits >= 23.5, "10 multiplications (%s): %.1f bits", fused ? "fused" : "apart", bits);
  ensi_ciphertext_free(acc);
}

static void test_rotations(size_t count) {
  const size_t L = ensi_context_max_level(ctx);
  double re[1024], im[1024], w_re[1024], w_im[1024];
  random_vector(re, im, count);
  ensi_ciphertext *a = encrypt(re, im, count, L, true);
  const long long steps[] = {1, -1, 3, 7, -5, (long long)slots - 3, (long long)slots * 3 + 2};
  const size_t step_count = sizeof steps / sizeof steps[0];
  ensi_ciphertext *outs[16];
  for (size_t r = 0; r < step_count; r++)
    CHECK(ensi_ciphertext_create(&outs[r], ctx, L) == ENSI_OK);
  CHECK(ensi_rotate_hoisted(ctx, outs, a, steps, step_count, keys) == ENSI_OK);
  for (size_t r = 0; r < step_count; r++) {
    ensi_ciphertext *single;
    CHECK(ensi_ciphertext_create(&single, ctx, L) == ENSI_OK);
    CHECK(ensi_rotate(ctx, single, a, steps[r], keys) == ENSI_OK);
    for (size_t j = 0; j < count; j++) {
      long long src = ((long long)j + steps[r]) % (long long)count;
      if (src < 0)
        src += (long long)count;
      w_re[j] = re[src];
      w_im[j] = im[src];
    }
    double bits = decrypt_bits(outs[r], w_re, w_im, count);
    CHECK_MSG(bits >= 24, "hoisted rotation by %lld, %zu slots: %.1f bits", steps[r], count, bits);
    bits = decrypt_bits(single, w_re, w_im, count);
    CHECK_MSG(bits >= 24, "rotation by %lld, %zu slots: %.1f bits", steps[r], count, bits);
    ensi_ciphertext_free(single);
    ensi_ciphertext_free(outs[r]);
  }
  CHECK(ensi_conjugate(ctx, a, a, keys) == ENSI_OK);
  for (size_t j = 0; j < count; j++)
    w_im[j] = -im[j];
  double bits = decrypt_bits(a, re, w_im, count);
  CHECK_MSG(bits >= 24, "conjugation, %zu slots: %.1f bits", count, bits);
  CHECK(ensi_rotate(ctx, a, a, 11, keys) == ENSI_ERR_KEY_MISSING);
  ensi_ciphertext_free(a);
}

/* y = M x with a random matrix of `count` nonzero diagonals at multiples of `stride`, against the
 * direct product; at most max_rotations rotations (0: no bound). */
static void test_linear_transform(size_t count_slots, size_t diagonals, size_t stride,
                                  size_t max_rotations, ensi_secret_key *key) {
  const size_t L = ensi_context_max_level(ctx);
  double re[1024], im[1024], w_re[1024] = {0}, w_im[1024] = {0};
  random_vector(re, im, count_slots);
  size_t idx[64];
  double *d_re[64], *d_im[64];
  for (size_t d = 0; d < diagonals; d++) {
    bool fresh;
    do { /* distinct random diagonal indices */
      idx[d] = stride * (size_t)test_rng_below(&rng, count_slots / stride);
      fresh = true;
      for (size_t e = 0; e < d; e++)
        fresh &= idx[e] != idx[d];
    } while (!fresh);
    d_re[d] = malloc(count_slots * sizeof(double));
    d_im[d] = malloc(count_slots * sizeof(double));
    random_vector(d_re[d], d_im[d], count_slots);
    for (size_t j = 0; j < count_slots; j++) {
      double complex m = (d_re[d][j] + I * d_im[d][j]) / (double)diagonals;
      double complex x = re[(j + idx[d]) % count_slots] + I * im[(j + idx[d]) % count_slots];
      d_re[d][j] = creal(m);
      d_im[d][j] = cimag(m);
      w_re[j] += creal(m * x);
      w_im[j] += cimag(m * x);
    }
  }
  ensi_linear_transform *lt;
  const double scale = ensi_params_scale(ensi_context_params(ctx));
  CHECK(ensi_linear_transform_create(&lt, ctx, count_slots, idx, (const double *const *)d_re,
                                     (const double *const *)d_im, diagonals, L - 1, scale, 0) == ENSI_OK);
  long long steps[128];
  size_t step_count;
  ensi_linear_transform_rotations(lt, steps, &step_count);
  CHECK(ensi_eval_keys_add_rotations(keys, ctx, key, steps, step_count, NULL) == ENSI_OK);
  ensi_ciphertext *x = encrypt(re, im, count_slots, L, true), *y;
  CHECK(ensi_ciphertext_create(&y, ctx, L) == ENSI_OK);
  CHECK(ensi_linear_transform_apply(ctx, y, lt, x, keys) == ENSI_OK);
  CHECK(ensi_rescale(ctx, y, y) == ENSI_OK);
  double bits = decrypt_bits(y, w_re, w_im, count_slots);
  CHECK_MSG(bits >= 20, "linear transform, %zu diagonals, %zu slots, %zu rotations: %.1f bits",
            diagonals, count_slots, step_count, bits);
  CHECK_MSG(max_rotations == 0 || step_count <= max_rotations,
            "linear transform, %zu diagonals at multiples of %zu: %zu rotations, expected at most %zu",
            diagonals, stride, step_count, max_rotations);
  ensi_linear_transform_free(lt);
  ensi_ciphertext_free(x);
  ensi_ciphertext_free(y);
  for (size_t d = 0; d < diagonals; d++) {
    free(d_re[d]);
    free(d_im[d]);
  }
}

/* Sparse packing for every slot count from 2 to N/4: encryption, a rotation and conjugation are
 * exact to the scheme's precision on the short, replicated vectors. */
static void test_sparse_slots(void) {
  const size_t L = ensi_context_max_level(ctx);
  for (size_t count = 2; count <= slots / 2; count *= 2) {
    double re[1024], im[1024], w_re[1024], w_im[1024];
    random_vector(re, im, count);
    ensi_ciphertext *a = encrypt(re, im, count, L, true);
    double bits = decrypt_bits(a, re, im, count);
    CHECK_MSG(bits >= 25, "%zu slots: fresh encryption %.1f bits", count, bits);
    CHECK(ensi_rotate(ctx, a, a, 1, keys) == ENSI_OK);
    for (size_t j = 0; j < count; j++) {
      w_re[j] = re[(j + 1) % count];
      w_im[j] = -im[(j + 1) % count];
    }
    CHECK(ensi_conjugate(ctx, a, a, keys) == ENSI_OK);
    bits = decrypt_bits(a, w_re, w_im, count);
    CHECK_MSG(bits >= 24, "%zu slots: rotation and conjugation %.1f bits", count, bits);
    ensi_ciphertext_free(a);
  }
}

/* Limb i of the count-slot encoding of values, computed the long way: the 2 count coefficients
 * placed at multiples of N / (2 count) and transformed by the full N-point NTT. */
static void reference_limb(const double *values, size_t count, double scale, size_t i,
                           uint64_t *limb) {
  const size_t n = ctx->n, gap = n / (2 * count);
  double complex *w = malloc(count * sizeof *w);
  for (size_t k = 0; k < count; k++)
    w[k] = values[k];
  CHECK(ensi_special_ifft(w, count) == ENSI_OK);
  memset(limb, 0, n * sizeof *limb);
  for (size_t k = 0; k < count; k++) {
    limb[k * gap] = ensi_double_mod(creal(w[k]) * scale, &ctx->moduli[i]);
    limb[(k + count) * gap] = ensi_double_mod(cimag(w[k]) * scale, &ctx->moduli[i]);
  }
  ensi_ntt_forward(ctx->ntt[i], limb);
  free(w);
}

/* A sparse encoding's NTT form is run-constant, and the encoder computes its run values with
 * small transforms: for every slot count from 1 to N/2, every limb at every level up to the top,
 * ensi_encode_real's plaintext and ensi_encode_runs's run values equal the full transform's, and
 * for complex values ensi_encode_runs's equal ensi_encode_complex's. */
static void test_run_encoding(void) {
  const size_t n = ctx->n, top = ensi_context_max_level(ctx);
  ensi_plaintext *pt;
  CHECK(ensi_plaintext_create(&pt, ctx, top) == ENSI_OK);
  uint64_t *runs = malloc((top + 1) * n * sizeof *runs), *want = malloc(n * sizeof *want);
  double *values = malloc(n / 2 * sizeof *values), *im = malloc(n / 2 * sizeof *im);
  for (size_t count = 1; count <= n / 2; count *= 2) {
    for (size_t j = 0; j < count; j++) {
      values[j] = test_rng_uniform(&rng, -1.0, 1.0);
      im[j] = test_rng_uniform(&rng, -1.0, 1.0);
    }
    const double scale = ensi_context_prime(ctx, top);
    CHECK(ensi_encode_real(ctx, pt, values, count, scale) == ENSI_OK);
    CHECK(ensi_encode_runs(ctx, values, NULL, count, scale, top, runs) == ENSI_OK);
    const size_t run = n / (2 * count);
    int bad_plaintext = 0, bad_runs = 0, bad_complex = 0;
    for (size_t i = 0; i <= top; i++) {
      reference_limb(values, count, scale, i, want);
      for (size_t t = 0; t < n; t++) {
        bad_plaintext += pt->data[i * n + t] != want[t];
        bad_runs += runs[i * 2 * count + t / run] != want[t];
      }
    }
    CHECK(ensi_encode_complex(ctx, pt, values, im, count, scale) == ENSI_OK);
    CHECK(ensi_encode_runs(ctx, values, im, count, scale, top, runs) == ENSI_OK);
    for (size_t i = 0; i <= top; i++)
      for (size_t t = 0; t < n; t++)
        bad_complex += runs[i * 2 * count + t / run] != pt->data[i * n + t];
    CHECK_MSG(bad_plaintext == 0 && bad_runs == 0 && bad_complex == 0,
              "encoding of %zu slots: %d plaintext and %d run coefficients differ from the full "
              "transform's, %d complex run coefficients from the complex plaintext's", count,
              bad_plaintext, bad_runs, bad_complex);
  }
  CHECK(ensi_encode_runs(ctx, values, NULL, 24, 1.0, top, runs) != ENSI_OK); /* not a power of 2 */
  CHECK(ensi_encode_runs(ctx, values, NULL, 16, 1.0, top + 1, runs) != ENSI_OK);
  free(values);
  free(im);
  free(want);
  free(runs);
  ensi_plaintext_free(pt);
}

/* Degree-2 operands: out = a + b with out aliasing a degree-1 a and b of degree 2 makes out grow a
 * third polynomial while keeping a's data; in-place products; then relinearize and compare. */
static void test_degree_two_aliasing(void) {
  const size_t L = ensi_context_max_level(ctx);
  double *x = malloc(slots * sizeof *x), *y = malloc(slots * sizeof *y), *zero = calloc(slots, 8);
  double *want = malloc(slots * sizeof *want);
  for (size_t j = 0; j < slots; j++) {
    x[j] = test_rng_uniform(&rng, -1, 1);
    y[j] = test_rng_uniform(&rng, -1, 1);
    want[j] = 2 * x[j] * y[j];
  }
  ensi_ciphertext *a = encrypt(x, zero, slots, L, true), *b = encrypt(y, zero, slots, L, true);
  ensi_ciphertext *product = NULL, *relin = NULL, *sum = NULL;
  CHECK(ensi_ciphertext_create(&product, ctx, 0) == ENSI_OK); /* too small: reallocated */
  CHECK(ensi_mul(ctx, product, a, b) == ENSI_OK);             /* x y, degree 2 */
  CHECK(ensi_ciphertext_create(&relin, ctx, L) == ENSI_OK);
  CHECK(ensi_relinearize(ctx, relin, product, keys) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&sum, ctx, L) == ENSI_OK);
  CHECK(ensi_ciphertext_copy(sum, relin) == ENSI_OK);         /* degree 1, two polynomials */
  CHECK(ensi_add(ctx, sum, sum, product) == ENSI_OK);         /* grows while aliased */
  CHECK(ensi_relinearize(ctx, sum, sum, keys) == ENSI_OK);
  CHECK(ensi_rescale(ctx, sum, sum) == ENSI_OK);
  const double bits = decrypt_bits(sum, want, zero, slots);
  CHECK_MSG(bits >= 20, "x y + x y with a growing aliased output: %.1f bits", bits);
  CHECK(ensi_mul(ctx, a, a, a) == ENSI_OK); /* in place: computed aside, swapped in */
  CHECK(ensi_relinearize(ctx, a, a, keys) == ENSI_OK);
  CHECK(ensi_rescale(ctx, a, a) == ENSI_OK);
  for (size_t j = 0; j < slots; j++)
    want[j] = x[j] * x[j];
  CHECK_MSG(decrypt_bits(a, want, zero, slots) >= 20, "in-place square");
  ensi_ciphertext_free(a);
  ensi_ciphertext_free(b);
  ensi_ciphertext_free(product);
  ensi_ciphertext_free(relin);
  ensi_ciphertext_free(sum);
  free(x);
  free(y);
  free(zero);
  free(want);
}

/* A fused plaintext sum gives the words of ensi_mul_plain then ensi_mul_plain_add (one term a
 * level lower: the sum drops to it), and refuses malformed terms. */
static void test_plain_sum(void) {
  enum { TERMS = 9 };
  const size_t L = ensi_context_max_level(ctx), n = ctx->n;
  const double scale = ensi_params_scale(ensi_context_params(ctx));
  double *re = malloc(slots * sizeof *re), *im = malloc(slots * sizeof *im);
  ensi_ciphertext *cts[TERMS], *chain = NULL, *fused = NULL, *square = NULL;
  ensi_plaintext *pts[TERMS];
  for (size_t k = 0; k < TERMS; k++) {
    random_vector(re, im, slots);
    cts[k] = encrypt(re, im, slots, k == 4 ? L - 1 : L, false);
    random_vector(re, im, slots);
    CHECK(ensi_plaintext_create(&pts[k], ctx, L) == ENSI_OK);
    CHECK(ensi_encode_complex(ctx, pts[k], re, im, slots, scale) == ENSI_OK);
  }
  CHECK(ensi_ciphertext_create(&chain, ctx, L) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&fused, ctx, L) == ENSI_OK);
  CHECK(ensi_mul_plain(ctx, chain, cts[0], pts[0]) == ENSI_OK);
  for (size_t k = 1; k < TERMS; k++)
    CHECK(ensi_mul_plain_add(ctx, chain, cts[k], pts[k]) == ENSI_OK);
  const ensi_ciphertext *const *terms = (const ensi_ciphertext *const *)cts;
  const ensi_plaintext *const *plains = (const ensi_plaintext *const *)pts;
  CHECK(ensi_mul_plain_sum(ctx, fused, terms, plains, TERMS) == ENSI_OK);
  CHECK(ensi_ciphertext_level(fused) == L - 1 && ensi_ciphertext_level(chain) == L - 1);
  int bad = 0;
  for (size_t p = 0; p < 2; p++)
    for (size_t i = 0; i < L; i++)
      for (size_t t = 0; t < n; t++)
        bad += ensi_ct_limb(fused, p, i)[t] != ensi_ct_limb(chain, p, i)[t];
  CHECK_MSG(bad == 0, "mul_plain_sum differs from mul_plain + mul_plain_add in %d words", bad);
  CHECK(ensi_mul_plain_sum(ctx, cts[2], terms, plains, TERMS) != ENSI_OK); /* out is a term */
  CHECK(ensi_mul_plain_sum(ctx, fused, terms, plains, 0) != ENSI_OK);
  CHECK(ensi_ciphertext_create(&square, ctx, L) == ENSI_OK);
  CHECK(ensi_mul(ctx, square, cts[0], cts[1]) == ENSI_OK);
  const ensi_ciphertext *with_degree_two[2] = {cts[0], square};
  CHECK(ensi_mul_plain_sum(ctx, fused, with_degree_two, plains, 2) != ENSI_OK);
  CHECK(ensi_mul_const(ctx, square, cts[1], 0.5) == ENSI_OK); /* another scale */
  const ensi_ciphertext *mixed_scales[2] = {cts[0], square};
  CHECK(ensi_mul_plain_sum(ctx, fused, mixed_scales, plains, 2) != ENSI_OK);
  for (size_t k = 0; k < TERMS; k++) {
    ensi_ciphertext_free(cts[k]);
    ensi_plaintext_free(pts[k]);
  }
  ensi_ciphertext_free(chain);
  ensi_ciphertext_free(fused);
  ensi_ciphertext_free(square);
  free(re);
  free(im);
}

/* x + rot(y, 3) + rot(z, -1) summed in Q_l P (extended.h: a lifted term, a rotation of a
 * ciphertext, a rotation of an extended one) and divided by P once. */
static void test_extended_sum(void) {
  const size_t L = ensi_context_max_level(ctx), count = slots;
  double re[3][1024], im[3][1024], w_re[1024], w_im[1024];
  ensi_ciphertext *in[3];
  for (int k = 0; k < 3; k++) {
    random_vector(re[k], im[k], count);
    in[k] = encrypt(re[k], im[k], count, L, true);
  }
  for (size_t j = 0; j < count; j++) {
    w_re[j] = re[0][j] + re[1][(j + 3) % count] + re[2][(j + count - 1) % count];
    w_im[j] = im[0][j] + im[1][(j + 3) % count] + im[2][(j + count - 1) % count];
  }
  ensi_extended e;
  CHECK(ensi_extended_init(&e, ctx, L) == ENSI_OK);
  uint64_t *sum = malloc(e.words * sizeof *sum), *z = malloc(e.words * sizeof *z);
  const ensi_galois_key *g3 = ensi_eval_keys_find(keys, ensi_galois_element_rotation(3, ctx->n));
  const ensi_galois_key *gm1 = ensi_eval_keys_find(keys, ensi_galois_element_rotation(-1, ctx->n));
  CHECK(sum && z && g3 && gm1);
  ensi_extended_lift(&e, sum, in[0]);
  CHECK(ensi_extended_add_rotation(&e, sum, in[1], g3) == ENSI_OK);
  ensi_extended_lift(&e, z, in[2]);
  CHECK(ensi_extended_add_rotation_of(&e, sum, z, gm1) == ENSI_OK);
  ensi_ciphertext *out;
  CHECK(ensi_ciphertext_create(&out, ctx, L) == ENSI_OK);
  CHECK(ensi_extended_finish(&e, out, sum, in[0]->scale, count) == ENSI_OK);
  const double bits = decrypt_bits(out, w_re, w_im, count);
  CHECK_MSG(bits >= 24, "sum of rotations in Q_l P: %.1f bits", bits);
  ensi_ciphertext_free(out);
  for (int k = 0; k < 3; k++)
    ensi_ciphertext_free(in[k]);
  free(sum);
  free(z);
  ensi_extended_free(&e);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  ensi_params *params;
  ensi_context *c;
  ensi_params_literal literal;
  CHECK(ensi_params_preset("test-n10", &literal) == ENSI_OK);
  CHECK(ensi_params_create(&params, &literal) == ENSI_OK);
  CHECK(ensi_context_create(&c, params) == ENSI_OK);
  ctx = c;
  slots = ensi_params_slots(params);
  uint8_t seed[32];
  for (int i = 0; i < 32; i++)
    seed[i] = (uint8_t)test_rng_next(&rng);
  CHECK(ensi_secret_key_generate(&sk, ctx, seed) == ENSI_OK);
  CHECK(ensi_public_key_generate(&pk, ctx, sk, NULL) == ENSI_OK);
  const long long steps[] = {1, -1, 3, 7, -5, (long long)slots - 3, (long long)slots * 3 + 2};
  CHECK(ensi_eval_keys_generate(&keys, ctx, sk, true, steps, 7, true, NULL) == ENSI_OK);
  test_encrypt_decrypt();
  test_arithmetic();
  test_multiplication_chain(false);
  test_multiplication_chain(true);
  test_degree_two_aliasing();
  test_plain_sum();
  test_rotations(slots);
  test_rotations(16);
  test_extended_sum();
  test_sparse_slots();
  test_run_encoding();
  test_linear_transform(slots, 20, 1, 0, sk);
  test_linear_transform(64, 64, 1, 0, sk);
  /* a radix stage's diagonals: 15 of the 16 multiples of slots / 16, split 4 x 4 (3 baby steps,
   * at most 3 giant steps) instead of one rotation each */
  test_linear_transform(slots, 15, slots / 16, 6, sk);
  ensi_eval_keys_free(keys);
  ensi_public_key_free(pk);
  ensi_secret_key_free(sk);
  ensi_context_free(c);
  ensi_params_free(params);
  return test_finish("test_ckks_eval");
}
