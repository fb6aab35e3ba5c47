/* RNS base conversion and rescaling against exact big-integer CRT (GMP) on random inputs:
 * Conv(x) = x + u Q with 0 <= u < k (the documented bound of the fast conversion), and
 * rescale = round(x / q_last) exactly; plus limb-wise arithmetic against GMP. */
#include <gmp.h>
#include <stdlib.h>

#include "math/ntt.h"
#include "math/primes.h"
#include "math/rns.h"
#include "testutil.h"

static test_rng rng;

/* x = CRT of residues[i * n + t] over moduli (Garner-free: sum r_i qhat_i [qhat_i^-1] mod Q) */
static void crt(mpz_t x, const uint64_t *residues, size_t stride, const ensi_modulus *m, size_t k) {
  mpz_t Q, qhat, inv, q, term;
  mpz_inits(Q, qhat, inv, q, term, NULL);
  mpz_set_ui(Q, 1);
  for (size_t i = 0; i < k; i++)
    mpz_mul_ui(Q, Q, m[i].value);
  mpz_set_ui(x, 0);
  for (size_t i = 0; i < k; i++) {
    mpz_set_ui(q, m[i].value);
    mpz_divexact(qhat, Q, q);
    mpz_invert(inv, qhat, q);
    mpz_mul_ui(term, inv, residues[i * stride]);
    mpz_mod(term, term, q);
    mpz_mul(term, term, qhat);
    mpz_add(x, x, term);
  }
  mpz_mod(x, x, Q);
  mpz_clears(Q, qhat, inv, q, term, NULL);
}

enum { MAX_PRIMES = 24 };

/* A converter from from_count to to_count distinct primes near 2^bits, or the largest below
 * 2^b for bits = TEST_BELOW(b) (m: all of them). */
static ensi_base_converter *converter(size_t from_count, size_t to_count, int bits,
                                      ensi_modulus *m) {
  uint64_t primes[MAX_PRIMES];
  const size_t count = from_count + to_count;
  CHECK(count <= MAX_PRIMES);
  if (bits > 0)
    CHECK(ensi_primes_near(primes, count, bits, 128, NULL, 0) == ENSI_OK);
  else
    CHECK(ensi_primes_below(primes, count, -bits, 128, NULL, 0) == ENSI_OK);
  for (size_t i = 0; i < from_count + to_count; i++)
    ensi_modulus_init(&m[i], primes[i]);
  ensi_base_converter *bc = NULL;
  CHECK(ensi_base_converter_create(&bc, m, from_count, m + from_count, to_count) == ENSI_OK);
  return bc;
}

static void test_base_conversion(size_t from_count, size_t to_count, size_t n, int bits) {
  ensi_modulus m[MAX_PRIMES];
  ensi_base_converter *bc = converter(from_count, to_count, bits, m);
  uint64_t *in = malloc(from_count * n * 8), *out = malloc(to_count * n * 8);
  for (size_t i = 0; i < from_count; i++)
    for (size_t t = 0; t < n; t++)
      in[i * n + t] = test_rng_below(&rng, m[i].value);
  ensi_base_convert(bc, out, in, n);
  mpz_t x, Q, candidate;
  mpz_inits(x, Q, candidate, NULL);
  mpz_set_ui(Q, 1);
  for (size_t i = 0; i < from_count; i++)
    mpz_mul_ui(Q, Q, m[i].value);
  int bad = 0;
  for (size_t t = 0; t < n; t++) {
    crt(x, in + t, n, m, from_count);
    bool found = false;
    for (size_t u = 0; u < from_count && !found; u++) { /* Conv(x) = x + u Q, u in [0, k) */
      mpz_set(candidate, Q);
      mpz_mul_ui(candidate, candidate, u);
      mpz_add(candidate, candidate, x);
      bool all = true;
      for (size_t j = 0; j < to_count; j++)
        all &= mpz_fdiv_ui(candidate, m[from_count + j].value) == out[j * n + t];
      found = all;
    }
    bad += !found;
  }
  CHECK_MSG(bad == 0,
            "base conversion %zu -> %zu primes of %d bits, n = %zu, kernel %s: %d coefficients "
            "outside x + [0, k) Q",
            from_count, to_count, bits, n, ensi_ntt_kernel_name(), bad);
  mpz_clears(x, Q, candidate, NULL);
  free(in);
  free(out);
  ensi_base_converter_free(bc);
}

/* The centered conversion gives x - Q round(x / Q) exactly, against GMP, on random inputs; next to
 * Q / 2 (x = (Q - 1) / 2 and (Q + 1) / 2, where doubles cannot tell the side) either remainder,
 * x or x - Q, is right. */
static void test_centered_conversion(size_t from_count, size_t to_count, size_t n, int bits) {
  ensi_modulus m[MAX_PRIMES];
  ensi_base_converter *bc = converter(from_count, to_count, bits, m);
  uint64_t *in = malloc(from_count * n * 8), *out = malloc(to_count * n * 8);
  mpz_t x, Q, half, want, other;
  mpz_inits(x, Q, half, want, other, NULL);
  mpz_set_ui(Q, 1);
  for (size_t i = 0; i < from_count; i++)
    mpz_mul_ui(Q, Q, m[i].value);
  mpz_fdiv_q_2exp(half, Q, 1); /* (Q - 1) / 2, Q odd */
  for (size_t i = 0; i < from_count; i++)
    for (size_t t = 0; t < n; t++)
      in[i * n + t] = test_rng_below(&rng, m[i].value);
  for (size_t i = 0; i < from_count; i++) { /* coefficients 0 and 1: (Q - 1) / 2 and (Q + 1) / 2 */
    in[i * n] = mpz_fdiv_ui(half, m[i].value);
    in[i * n + 1] = (in[i * n] + 1) % m[i].value;
  }
  ensi_base_convert_centered(bc, out, in, n);
  int bad = 0;
  for (size_t t = 0; t < n; t++) {
    crt(x, in + t, n, m, from_count);
    mpz_set(want, x);
    if (mpz_cmp(x, half) > 0)
      mpz_sub(want, x, Q);
    if (mpz_sgn(want) < 0) /* other: the remainder on the other side of zero */
      mpz_add(other, want, Q);
    else
      mpz_sub(other, want, Q);
    int wrong = 0, wrong_other_side = 0;
    for (size_t j = 0; j < to_count; j++) {
      wrong += mpz_fdiv_ui(want, m[from_count + j].value) != out[j * n + t];
      wrong_other_side += mpz_fdiv_ui(other, m[from_count + j].value) != out[j * n + t];
    }
    bad += t < 2 ? wrong && wrong_other_side : wrong;
  }
  CHECK_MSG(bad == 0, "centered conversion %zu -> %zu primes of %d bits: %d wrong coefficients",
            from_count, to_count, bits, bad);
  mpz_clears(x, Q, half, want, other, NULL);
  free(in);
  free(out);
  ensi_base_converter_free(bc);
}

/* The kernel in use gives the portable kernel's words exactly (inputs anywhere in [0, q_i)). */
static void test_same_as_portable(size_t from_count, size_t to_count, size_t n, int bits) {
  ensi_modulus m[MAX_PRIMES];
  ensi_base_converter *bc = converter(from_count, to_count, bits, m);
  uint64_t *in = malloc(from_count * n * 8), *want = malloc(to_count * n * 8),
           *got = malloc(to_count * n * 8);
  for (size_t i = 0; i < from_count; i++)
    for (size_t t = 0; t < n; t++) /* the extremes too */
      in[i * n + t] = t % 7 == 0    ? m[i].value - 1
                      : t % 11 == 0 ? 0
                                    : test_rng_below(&rng, m[i].value);
  const char *kernel = ensi_ntt_kernel_name();
  CHECK(ensi_ntt_use_kernel("portable") == ENSI_OK);
  ensi_base_convert(bc, want, in, n);
  CHECK(ensi_ntt_use_kernel(kernel) == ENSI_OK);
  ensi_base_convert(bc, got, in, n);
  int bad = 0;
  for (size_t w = 0; w < to_count * n; w++)
    bad += want[w] != got[w];
  CHECK_MSG(bad == 0, "base conversion kernel %s differs from portable: %zu -> %zu primes of %d "
            "bits, n = %zu, %d words", kernel, from_count, to_count, bits, n, bad);
  free(in);
  free(want);
  free(got);
  ensi_base_converter_free(bc);
}

static void test_rescale(size_t limbs) {
  const size_t n = 256;
  uint64_t primes[16];
  CHECK(ensi_primes_near(primes, limbs, 45, 2 * n, NULL, 0) == ENSI_OK);
  ensi_rns_basis *b;
  CHECK(ensi_rns_basis_create(&b, primes, limbs, n) == ENSI_OK);
  ensi_rns_poly *p;
  CHECK(ensi_rns_poly_create(&p, b) == ENSI_OK);
  for (size_t i = 0; i < limbs; i++)
    for (size_t t = 0; t < n; t++)
      p->data[i * n + t] = test_rng_below(&rng, primes[i]);
  mpz_t *want = malloc(n * sizeof *want), Q, ql;
  mpz_inits(Q, ql, NULL);
  mpz_set_ui(Q, 1);
  for (size_t i = 0; i + 1 < limbs; i++)
    mpz_mul_ui(Q, Q, primes[i]);
  mpz_set_ui(ql, primes[limbs - 1]);
  for (size_t t = 0; t < n; t++) { /* round(x / q_l) = floor((2x + q_l) / (2 q_l)) */
    mpz_init(want[t]);
    crt(want[t], p->data + t, n, b->moduli, limbs);
    mpz_mul_2exp(want[t], want[t], 1);
    mpz_add(want[t], want[t], ql);
    mpz_mul_2exp(ql, ql, 1);
    mpz_fdiv_q(want[t], want[t], ql);
    mpz_fdiv_q_2exp(ql, ql, 1);
    mpz_mod(want[t], want[t], Q);
  }
  ensi_rns_ntt(b, p);
  uint64_t *scratch = malloc(limbs * n * 8);
  ensi_rns_rescale_ntt(b->moduli, b->ntt, p->data, limbs, n, scratch);
  for (size_t i = 0; i + 1 < limbs; i++)
    ensi_ntt_inverse(b->ntt[i], p->data + i * n);
  int bad = 0;
  for (size_t t = 0; t < n; t++) {
    for (size_t i = 0; i + 1 < limbs; i++)
      bad += mpz_fdiv_ui(want[t], primes[i]) != p->data[i * n + t];
    mpz_clear(want[t]);
  }
  CHECK_MSG(bad == 0, "rescale with %zu limbs: %d residues differ from round(x / q_l)", limbs, bad);
  mpz_clears(Q, ql, NULL);
  free(want);
  free(scratch);
  ensi_rns_poly_free(p);
  ensi_rns_basis_free(b);
}

static void test_arithmetic(void) {
  const size_t n = 32, limbs = 3;
  uint64_t primes[3];
  CHECK(ensi_primes_near(primes, limbs, 40, 2 * n, NULL, 0) == ENSI_OK);
  ensi_rns_basis *b;
  CHECK(ensi_rns_basis_create(&b, primes, limbs, n) == ENSI_OK);
  ensi_rns_poly *x, *y, *z;
  ensi_rns_poly_create(&x, b);
  ensi_rns_poly_create(&y, b);
  ensi_rns_poly_create(&z, b);
  int64_t cx[32], cy[32];
  for (size_t t = 0; t < n; t++) {
    cx[t] = (int64_t)test_rng_below(&rng, 2001) - 1000;
    cy[t] = (int64_t)test_rng_below(&rng, 2001) - 1000;
  }
  ensi_rns_from_signed(b, x, cx);
  ensi_rns_from_signed(b, y, cy);
  ensi_rns_ntt(b, x);
  ensi_rns_ntt(b, y);
  ensi_rns_mul(b, z, x, y);
  ensi_rns_mul_scalar(b, z, z, -3);
  ensi_rns_sub(b, z, z, x);
  ensi_rns_intt(b, z);
  int bad = 0;
  for (size_t k = 0; k < n; k++) { /* -3 (x y mod X^n + 1) - x, exactly */
    int64_t conv = 0;
    for (size_t i = 0; i < n; i++) {
      size_t j = (k + n - i) % n;
      conv += (i <= k ? 1 : -1) * cx[i] * cy[j];
    }
    int64_t want = -3 * conv - cx[k];
    for (size_t i = 0; i < limbs; i++) {
      int64_t r = want % (int64_t)primes[i];
      bad += (uint64_t)(r < 0 ? r + (int64_t)primes[i] : r) != z->data[i * n + k];
    }
  }
  CHECK_MSG(bad == 0, "limb-wise arithmetic: %d mismatches", bad);
  ensi_rns_poly_free(x);
  ensi_rns_poly_free(y);
  ensi_rns_poly_free(z);
  ensi_rns_basis_free(b);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  const char *kernels[8];
  const size_t kernel_count = ensi_ntt_kernel_names(kernels, 8);
  for (size_t c = 0; c < kernel_count; c++) { /* the NTT's kernel choice selects the conversion's */
    CHECK(ensi_ntt_use_kernel(kernels[c]) == ENSI_OK);
    for (size_t k = 1; k <= 8; k++) {
      test_base_conversion(k, 9 - k, 64, 50);
      test_base_conversion(k, 9 - k, 200, 61);
    }
    test_base_conversion(12, 12, 136, 60);
    test_centered_conversion(6, 10, 200, 60);
    test_centered_conversion(3, 5, 136, 40);
    const size_t sizes[] = {8, 24, 64, 72, 1024, 1020};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
      for (size_t k = 1; k <= 13; k += 4) {
        test_same_as_portable(k, 11, sizes[z], 61);
        test_same_as_portable(k, 6, sizes[z], 50);
        test_same_as_portable(k, 6, sizes[z], 51); /* 51- and 52-bit primes: IFMA's edges */
        test_same_as_portable(k, 6, sizes[z], TEST_BELOW(52));
      }
    printf("base conversion kernel %s: CRT bound and agreement with portable checked\n",
           kernels[c]);
  }
  for (size_t limbs = 2; limbs <= 12; limbs += 2)
    test_rescale(limbs);
  test_arithmetic();
  return test_finish("test_math_rns");
}
