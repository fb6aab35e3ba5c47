/* Ternary block encodings of GGUF files (shared/research/bitnet.md 3.4, 3.5): TQ2_0 and TQ1_0
 * (upstream ggml: 256 values per block with one fp16 scale) and bitnet.cpp's I2_S (2-bit codes in
 * 128-value blocks, one f32 scale per tensor). Trits are written as int8 -1, 0, +1. */
#ifndef ENSI_MODEL_TERNARY_BLOCKS_H
#define ENSI_MODEL_TERNARY_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

enum { ENSI_TQ_BLOCK = 256, ENSI_TQ2_BYTES = 66, ENSI_TQ1_BYTES = 54, ENSI_I2S_BLOCK = 128 };

/* One TQ2_0 block: 256 trits and the block scale d. Returns 0, or -1 for an invalid code (3). */
int ensi_tq2_decode(const uint8_t block[ENSI_TQ2_BYTES], int8_t trits[ENSI_TQ_BLOCK], float *d);
void ensi_tq2_encode(uint8_t block[ENSI_TQ2_BYTES], const int8_t trits[ENSI_TQ_BLOCK], float d);

/* One TQ1_0 block (base-3 packing). Returns 0, or -1 for an invalid trit. */
int ensi_tq1_decode(const uint8_t block[ENSI_TQ1_BYTES], int8_t trits[ENSI_TQ_BLOCK], float *d);

/* n trits (a multiple of 128) from I2_S codes (n/4 bytes), -1 if a code is 3. */
int ensi_i2s_decode(const uint8_t *codes, size_t n, int8_t *trits);
void ensi_i2s_encode(uint8_t *codes, const int8_t *trits, size_t n);

float ensi_half_to_float(uint16_t h);
uint16_t ensi_float_to_half(float f);

#endif
