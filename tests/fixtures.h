/* Shared fixtures of the encrypted-model tests: the tiny synthetic model and the encrypted path's
 * calibrated setup for it. */
#ifndef ENSI_TESTS_FIXTURES_H
#define ENSI_TESTS_FIXTURES_H

#include <ensi/henn.h>

/* The tiny synthetic model (2 layers, seed 11), written to and loaded from a temporary directory
 * (prefix names it); NULL after a failed check. */
ensi_model *test_tiny_model(const char *prefix);

/* setup's approx and bound for prompts of `tokens` tokens: the encrypted path's default degrees,
 * calibrated on 128 random prompts, not the protocol's 32: of random 16-token prompts of the tiny
 * model, about 1 in 140 leaves 32 prompts' intervals (the inner norm's mean squares have a long
 * upper tail) and drives a polynomial into a blow-up, the reference and the encrypted pass
 * alike; 0 in 4,000 with 128 (docs/LAYERS.md). */
void test_calibrate(const ensi_model *m, size_t tokens, ensi_henn_setup *setup);

#endif
