/* TQ2_0, TQ1_0 and I2_S block coding (see ternary_blocks.h). */
#include "model/ternary_blocks.h"

#include <math.h>
#include <string.h>

float ensi_half_to_float(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float v;
  if (exponent == 0)
    v = ldexpf((float)mantissa, -24);
  else if (exponent == 31)
    v = mantissa ? NAN : INFINITY;
  else
    v = ldexpf((float)(mantissa | 0x400), exponent - 25);
  return sign ? -v : v;
}

uint16_t ensi_float_to_half(float f) { /* round to nearest even; finite inputs below 65504 */
  const uint16_t sign = signbit(f) ? 0x8000 : 0;
  f = fabsf(f);
  if (f == 0)
    return sign;
  int e;
  frexpf(f, &e); /* f = m 2^e, m in [0.5, 1) */
  if (e - 1 < -14) /* subnormal: units of 2^-24 */
    return sign | (uint16_t)nearbyintf(ldexpf(f, 24));
  const uint32_t mant = (uint32_t)nearbyintf(ldexpf(f, 11 - e)); /* 11 significant bits */
  uint32_t exponent = (uint32_t)(e - 1 + 15), m = mant;
  if (m == 2048) { /* rounding overflowed into the next binade */
    m = 1024;
    exponent++;
  }
  return sign | (uint16_t)(exponent << 10) | (uint16_t)(m & 0x3ff);
}

static float read_half(const uint8_t *p) { return ensi_half_to_float((uint16_t)(p[0] | p[1] << 8)); }

int ensi_tq2_decode(const uint8_t block[ENSI_TQ2_BYTES], int8_t trits[ENSI_TQ_BLOCK], float *d) {
  for (int k = 0; k < 2; k++) /* byte 32k + m, bits 2n: element 128k + 32n + m */
    for (int n = 0; n < 4; n++)
      for (int m = 0; m < 32; m++) {
        const int code = (block[32 * k + m] >> (2 * n)) & 3;
        if (code == 3)
          return -1;
        trits[128 * k + 32 * n + m] = (int8_t)(code - 1);
      }
  *d = read_half(block + 64);
  return 0;
}

void ensi_tq2_encode(uint8_t block[ENSI_TQ2_BYTES], const int8_t trits[ENSI_TQ_BLOCK], float d) {
  memset(block, 0, ENSI_TQ2_BYTES);
  for (int k = 0; k < 2; k++)
    for (int n = 0; n < 4; n++)
      for (int m = 0; m < 32; m++)
        block[32 * k + m] |= (uint8_t)((trits[128 * k + 32 * n + m] + 1) << (2 * n));
  const uint16_t h = ensi_float_to_half(d);
  block[64] = (uint8_t)h;
  block[65] = (uint8_t)(h >> 8);
}

/* Trit n (0 = most significant) of a base-3 fixed-point byte. */
static int trit_of(uint8_t b, int n) {
  static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
  const uint8_t p = (uint8_t)(b * pow3[n]); /* 8-bit wrap */
  return (p * 3) >> 8;
}

int ensi_tq1_decode(const uint8_t block[ENSI_TQ1_BYTES], int8_t trits[ENSI_TQ_BLOCK], float *d) {
  for (int m = 0; m < 32; m++) /* qs[0..31]: elements m + 32 n */
    for (int n = 0; n < 5; n++)
      trits[m + 32 * n] = (int8_t)(trit_of(block[m], n) - 1);
  for (int m = 0; m < 16; m++) /* qs[32..47]: elements 160 + m + 16 n */
    for (int n = 0; n < 5; n++)
      trits[160 + m + 16 * n] = (int8_t)(trit_of(block[32 + m], n) - 1);
  for (int j = 0; j < 4; j++) /* qh[0..3]: elements 240 + j + 4 n, four trits */
    for (int n = 0; n < 4; n++)
      trits[240 + j + 4 * n] = (int8_t)(trit_of(block[48 + j], n) - 1);
  for (int i = 0; i < ENSI_TQ_BLOCK; i++)
    if (trits[i] > 1)
      return -1;
  *d = read_half(block + 52);
  return 0;
}

int ensi_i2s_decode(const uint8_t *codes, size_t n, int8_t *trits) {
  for (size_t block = 0; block < n / ENSI_I2S_BLOCK; block++) /* byte b: elements b + 32 g */
    for (size_t j = 0; j < ENSI_I2S_BLOCK; j++) {
      const int code = (codes[block * 32 + j % 32] >> (6 - 2 * (j / 32))) & 3;
      if (code == 3)
        return -1;
      trits[block * ENSI_I2S_BLOCK + j] = (int8_t)(code - 1);
    }
  return 0;
}

void ensi_i2s_encode(uint8_t *codes, const int8_t *trits, size_t n) {
  memset(codes, 0, n / 4);
  for (size_t block = 0; block < n / ENSI_I2S_BLOCK; block++)
    for (size_t j = 0; j < ENSI_I2S_BLOCK; j++)
      codes[block * 32 + j % 32] |= (uint8_t)((trits[block * ENSI_I2S_BLOCK + j] + 1) << (6 - 2 * (j / 32)));
}
