/* Parameter validation: every preset is accepted and the 128-bit ones are secure; sets above the
 * HomomorphicEncryption.org bound, with too small a ring, or with a sparse secret are refused
 * unless insecure parameters are asked for; generated primes are distinct and NTT friendly. */
#include <ensi/params.h>

#include "math/primes.h"
#include "testutil.h"

static void check_primes(const ensi_params *p) {
  const uint64_t two_n = 2 * ensi_params_n(p);
  uint64_t all[2 * ENSI_MAX_PRIMES];
  size_t count = 0;
  for (size_t i = 0; i < ensi_params_q_count(p); i++)
    all[count++] = ensi_params_q(p, i);
  for (size_t i = 0; i < ensi_params_p_count(p); i++)
    all[count++] = ensi_params_p(p, i);
  int bad = 0;
  for (size_t i = 0; i < count; i++) {
    bad += !ensi_is_prime(all[i]) || all[i] % two_n != 1 || all[i] >> 61;
    for (size_t j = 0; j < i; j++)
      bad += all[i] == all[j];
  }
  CHECK_MSG(bad == 0, "%d bad or repeated primes", bad);
}

int main(void) {
  for (const char *const *name = ensi_params_preset_names(); *name; name++) {
    ensi_params_literal lit;
    ensi_params *p;
    CHECK(ensi_params_preset(*name, &lit) == ENSI_OK);
    CHECK_MSG(ensi_params_create(&p, &lit) == ENSI_OK, "preset %s: %s", *name, ensi_error_detail());
    check_primes(p);
    const bool test_preset = (*name)[0] == 't';
    CHECK_MSG(ensi_params_is_secure(p) == !test_preset, "preset %s: security flag", *name);
    printf("%-9s N = 2^%u, %zu + %zu primes, dnum %zu, log2 QP = %.1f (bound %d)\n", *name,
           lit.log_n, ensi_params_q_count(p), ensi_params_p_count(p), ensi_params_dnum(p),
           ensi_params_log_qp(p), ensi_params_max_log_qp(lit.log_n));
    if (test_preset) { /* the same set without the explicit opt-in is refused */
      lit.allow_insecure = false;
      ensi_params *refused = NULL;
      CHECK(ensi_params_create(&refused, &lit) == ENSI_ERR_INSECURE && refused == NULL);
    }
    ensi_params_free(p);
  }
  /* sets just above the bound are refused and sets just below accepted, for every ring size */
  const unsigned log_ns[] = {12, 13, 14, 15, 16, 17};
  for (size_t i = 0; i < 6; i++) {
    const bool small = log_ns[i] <= 13;
    ensi_params_literal lit = {.log_n = log_ns[i], .first_bits = small ? 30 : 60,
                               .scale_bits = small ? 25 : log_ns[i] == 17 ? 58 : 50,
                               .special_count = small ? 1 : 2,
                               .special_bits = small ? 31 : 60, .dnum = 1};
    const int bound = ensi_params_max_log_qp(log_ns[i]);
    const int base = lit.first_bits + (int)lit.special_count * lit.special_bits;
    const size_t fit = (size_t)(bound - base) / (size_t)lit.scale_bits;
    ensi_params *p = NULL;
    lit.levels = fit + 1;
    lit.dnum = lit.levels + 1; /* one prime per digit: every digit is below P */
    CHECK_MSG(ensi_params_create(&p, &lit) == ENSI_ERR_INSECURE, "2^%u above %d bits accepted",
              log_ns[i], bound);
    lit.levels = fit - 1;
    lit.dnum = lit.levels + 1;
    CHECK_MSG(ensi_params_create(&p, &lit) == ENSI_OK, "2^%u below the bound refused: %s",
              log_ns[i], ensi_error_detail());
    ensi_params_free(p);
  }
  ensi_params_literal lit;
  ensi_params *p = NULL;
  CHECK(ensi_params_preset("n16", &lit) == ENSI_OK);
  lit.hamming_weight = 192; /* sparse secret: not covered by the table */
  CHECK(ensi_params_create(&p, &lit) == ENSI_ERR_INSECURE);
  CHECK(ensi_params_preset("test-n10", &lit) == ENSI_OK);
  lit.allow_insecure = false;
  CHECK(ensi_params_create(&p, &lit) == ENSI_ERR_INSECURE); /* N = 2^10 has no secure set */
  CHECK(ensi_params_preset("n16", &lit) == ENSI_OK);
  lit.dnum = 1; /* one digit of 1260 bits against P = 480 bits: refused */
  CHECK(ensi_params_create(&p, &lit) == ENSI_ERR_ARG);
  CHECK(ensi_params_preset("nope", &lit) == ENSI_ERR_ARG);
  lit.log_n = 9;
  CHECK(ensi_params_create(&p, &lit) == ENSI_ERR_ARG);
  return test_finish("test_ckks_params");
}
