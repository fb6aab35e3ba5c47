/* Modular arithmetic against GMP: Barrett and Shoup multiplication, 128-bit reduction, powers and
 * inverses for primes of 30 to 61 bits, on random and boundary operands; prime generation; and,
 * where the CPU has AVX2 or AVX-512, the vector kernels' 64 x 64-bit products (math/avx2_mod.h,
 * math/avx512_mod.h) on every 64-bit operand class, against 128-bit products. */
#include <gmp.h>

#include "math/modarith.h"
#include "math/primes.h"
#include "testutil.h"

static test_rng rng;

static uint64_t gmp_mulmod(uint64_t a, uint64_t b, uint64_t q) {
  mpz_t x, y, m;
  mpz_init_set_ui(x, a);
  mpz_init_set_ui(y, b);
  mpz_init_set_ui(m, q);
  mpz_mul(x, x, y);
  mpz_mod(x, x, m);
  uint64_t r = mpz_get_ui(x);
  mpz_clears(x, y, m, NULL);
  return r;
}

static void check_prime(uint64_t q) {
  ensi_modulus m;
  CHECK(ensi_modulus_init(&m, q) == ENSI_OK);
  const uint64_t edge[] = {0, 1, 2, q / 2, q - 2, q - 1};
  int bad = 0;
  for (int i = 0; i < 2000; i++) {
    uint64_t a = i < 36 ? edge[i % 6] : test_rng_below(&rng, q);
    uint64_t b = i < 36 ? edge[i / 6] : test_rng_below(&rng, q);
    uint64_t want = gmp_mulmod(a, b, q);
    bad += ensi_mul_mod(a, b, &m) != want;
    uint64_t ws = ensi_shoup_precompute(b, q);
    bad += ensi_mul_shoup(a, b, ws, q) != want;
    uint64_t lazy = ensi_mul_shoup_lazy(a + (i % 2 ? 3 * q : 0), b, ws, q);
    bad += lazy >= 2 * q || lazy % q != want;
    ensi_u128 x = ((ensi_u128)test_rng_next(&rng) << 64 | test_rng_next(&rng)) >> 6; /* < 2^122 */
    mpz_t big, mod;
    mpz_init(big);
    mpz_import(big, 1, -1, sizeof x, 0, 0, &x);
    mpz_init_set_ui(mod, q);
    mpz_mod(big, big, mod);
    bad += ensi_reduce_u128(x, &m) != mpz_get_ui(big);
    mpz_clears(big, mod, NULL);
    bad += ensi_add_mod(a, b, q) != (uint64_t)(((ensi_u128)a + b) % q);
    bad += ensi_sub_mod(a, b, q) != (uint64_t)(((ensi_u128)a + q - b) % q);
    if (a) {
      uint64_t inv = ensi_inv_mod(a, &m);
      bad += ensi_mul_mod(inv, a, &m) != 1;
    }
  }
  CHECK_MSG(bad == 0, "%d mismatches for q = %llu", bad, (unsigned long long)q);
  CHECK(ensi_inv_mod(0, &m) == 0);
  CHECK(ensi_pow_mod(3, q - 1, &m) == 1);
}

#if defined(__x86_64__)
#include "math/avx2_mod.h"
#include "math/avx512_mod.h"

/* hi, lo = the high and low halves of a[k] b[k] for one vector of lanes. */
typedef void vector_products(uint64_t *hi, uint64_t *lo, const uint64_t *a, const uint64_t *b);

AVX2 static void avx2_products(uint64_t *hi, uint64_t *lo, const uint64_t *a, const uint64_t *b) {
  const __m256i va = _mm256_loadu_si256((const __m256i *)a);
  const __m256i vb = _mm256_loadu_si256((const __m256i *)b);
  _mm256_storeu_si256((__m256i *)hi, ensi_avx2_mulhi(va, vb));
  _mm256_storeu_si256((__m256i *)lo, ensi_avx2_mullo(va, vb));
}

AVX512 static void avx512_products(uint64_t *hi, uint64_t *lo, const uint64_t *a,
                                   const uint64_t *b) {
  const __m512i va = _mm512_loadu_si512(a), vb = _mm512_loadu_si512(b);
  _mm512_storeu_si512(hi, ensi_avx512_mulhi(va, vb));
  _mm512_storeu_si512(lo, _mm512_mullo_epi64(va, vb));
}

/* Every pair of edge operands, then random ones, `lanes` products a call. */
static void check_vector_products(const char *name, vector_products *products, int lanes) {
  const uint64_t edge[] = {0, 1, 0xffffffff, 1ull << 32, 0x1ffffffffull, 1ull << 63, UINT64_MAX};
  enum { EDGES = sizeof edge / sizeof edge[0] };
  int bad = 0;
  for (int i = 0; i < 4000; i += lanes) {
    uint64_t a[8], b[8], hi[8], lo[8];
    for (int k = 0; k < lanes; k++) {
      const int e = i + k;
      a[k] = e < EDGES * EDGES ? edge[e % EDGES] : test_rng_next(&rng);
      b[k] = e < EDGES * EDGES ? edge[e / EDGES] : test_rng_next(&rng);
    }
    products(hi, lo, a, b);
    for (int k = 0; k < lanes; k++) {
      const unsigned __int128 p = (unsigned __int128)a[k] * b[k];
      bad += hi[k] != (uint64_t)(p >> 64) || lo[k] != (uint64_t)p;
    }
  }
  CHECK_MSG(bad == 0, "%s 64 x 64-bit products: %d wrong", name, bad);
}

static void check_avx_products(void) {
  if (ensi_avx2_supported())
    check_vector_products("AVX2", avx2_products, 4);
  if (ensi_avx512_supported())
    check_vector_products("AVX-512", avx512_products, 8);
}
#else
static void check_avx_products(void) {}
#endif

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  for (int bits = 30; bits <= 61; bits++) {
    uint64_t q[2];
    CHECK(ensi_primes_near(q, 2, bits, 1 << 17, NULL, 0) == ENSI_OK);
    for (int i = 0; i < 2; i++) {
      CHECK(ensi_is_prime(q[i]) && q[i] % (1 << 17) == 1 && q[i] >> 61 == 0);
      check_prime(q[i]);
    }
  }
  uint64_t below[4];
  CHECK(ensi_primes_below(below, 4, 50, 1 << 17, NULL, 0) == ENSI_OK);
  for (int i = 0; i < 4; i++)
    CHECK(below[i] < ((uint64_t)1 << 50) && ensi_is_prime(below[i]) && (i == 0 || below[i] < below[i - 1]));
  CHECK(!ensi_is_prime(3215031751ULL)); /* strong pseudoprime to bases 2, 3, 5, 7 */
  CHECK(ensi_is_prime(18446744073709551557ULL));
  ensi_modulus m;
  check_avx_products();
  CHECK(ensi_modulus_init(&m, 4) == ENSI_ERR_ARG);
  CHECK(ensi_modulus_init(&m, (uint64_t)1 << 62 | 1) == ENSI_ERR_ARG);
  return test_finish("test_math_modarith");
}
