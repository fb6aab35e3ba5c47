/* The homomorphic DFTs of bootstrapping: CoeffsToSlots (the encoder's special inverse FFT) and
 * SlotsToCoeffs (the special FFT), factored into their butterfly stages and regrouped into a
 * level budget of a few linear transforms (one level each).
 *
 * Every stage of the special FFT on n slots mixes slot k with slot k +- len/2, so it is a matrix
 * with three diagonals (offsets 0, +len/2, -len/2); a group of s stages has at most 2^(s+1) - 1
 * diagonals. The bit-reversal permutation of the FFT is not applied: CoeffsToSlots leaves the
 * coefficients in bit-reversed slot order, EvalMod works slot by slot, and SlotsToCoeffs takes
 * that order back, so the two reversals cancel.
 *
 * Two-halves layout (sparse slots, 2n <= N/2): the last CoeffsToSlots group and the first
 * SlotsToCoeffs group work on 2n slots. CoeffsToSlots then leaves its output in slots 0 .. n-1 and
 * zeros above, so that the real part and the imaginary part (moved up by n slots) share one
 * ciphertext [re | im], and EvalMod runs once instead of twice; SlotsToCoeffs takes [re | im] and
 * recombines re + i im inside its first group, at the cost of twice as many diagonals there. */
#ifndef ENSI_BOOT_DFT_H
#define ENSI_BOOT_DFT_H

#include <complex.h>
#include <stdbool.h>

#include <ensi/linear_transform.h>

typedef enum { ENSI_DFT_COEFFS_TO_SLOTS, ENSI_DFT_SLOTS_TO_COEFFS } ensi_dft_direction;

/* Builds `groups` linear transforms for n slots; transform g is applied at level
 * top_level - g with diagonals at scale q_(top_level - g), so the scale is unchanged after each
 * rescale. `factor` multiplies the whole map (folded into the first group). two_halves selects
 * the layout above. */
ensi_status ensi_dft_create(ensi_linear_transform **transforms, const ensi_context *ctx,
                            ensi_dft_direction direction, size_t n, size_t groups,
                            size_t top_level, double complex factor, bool two_halves);

#endif
