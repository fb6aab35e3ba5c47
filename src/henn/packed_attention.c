/* The attention block in the packed layout, up to the inner norm (packed_eval.h: the head order,
 * dim d of head h in pack d / e at position h + H (d % e); tokens t at slots c + C t).
 *
 * Token shifts are rotations by multiples of C (a whole pack's tokens move at once); the shifts
 * delta = g e + i (i < e, g < G) run in baby-step giant-step form:
 *   P_delta = sum_m q_m * rot(k_m, -delta C) = rot(sum_m rot(q_m, g e C) * rot(k_m, -i C), -g e C).
 * q and k are rotated before RoPE, whose plaintexts are rotated with them and carry the causal
 * validity (a wrapped token gets 0), so the scores hold exactly the causal entries. P_delta holds
 * at position h + H i' the partial score of dims i' of head h; a score pack S_g gathers the full
 * scores of the e shifts g e + i at positions h + H i:
 *   S_g = rot(sum_k rot(A_k, H k), -g e C),  A_k = sum_i M_{i+k} * P'_{g,i}
 * (M_p: 1 at the positions h + H p; rotations by H k stay within a token's C slots). The sigmoid
 * runs on the G score packs (bootstrapped first), the causal mask (and the reference's factor
 * s / (t + 1)) multiplies them, and S V spreads each shift's weight back over the dims of its
 * head by the same masks:
 *   a_m = sum_g rot(sum_i B_{g,i} * rot(v_m, -i C), -g e C),
 *   B_{g,i} = sum_i' M_i' * rot(rot(W_g, g e C), H (i - i')).
 * Key switches: (G - 1 + e - 1) P hoisted rotations of q and k, e G relinearizations and
 * 2 (e - 1) + 1 rotations per score pack, the same per weight pack, (e - 1) P rotations of v and
 * G P relinearizations and rotations for the output: about 1,000 at s = 128 for
 * bitnet_b1_58-large against 2 d (s - 1) = 390,000 in the column layout.
 * Levels from inv's level L (4): q, k, v products at L + 1 -> L; q, k RoPE -> L - 1, times inv
 * -> L - 2, Q K^T -> L - 3, masks (which also map the scores to the sigmoid polynomial's
 * interval) -> L - 4, then refreshed; v times inv -> L - 1; the weights: sigmoid (no map of its
 * own), causal mask 1, spreading 1, S V 1: the output at 2 after a refresh to 10. */
#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "henn/packed_eval.h"

/* ---- small helpers ---------------------------------------------------------------------- */

/* Shifts of the first group that exist: i < e and i < rows. */
static size_t baby_count(const packed_eval *pe) {
  return pe->per_head < pe->ev.rows ? pe->per_head : pe->ev.rows;
}

/* Shifts g e + i of group g that exist (g e + i < rows). */
static size_t group_count(const packed_eval *pe, size_t g) {
  const size_t first = g * pe->per_head, left = pe->ev.rows - first;
  return left < pe->per_head ? left : pe->per_head;
}

static long long giant_step(const packed_eval *pe, size_t g) {
  return (long long)(g * pe->per_head * pe->per_pack);
}

/* outs[j] = rot(in, steps[j]) for j < count (steps[0] must be 0: a copy), hoisted. */
static ensi_status rotations(const packed_eval *pe, ensi_ciphertext **outs, const ensi_ciphertext *in,
                             const long long *steps, size_t count) {
  ENSI_TRY(ensi_ciphertext_copy(outs[0], in));
  return count > 1 ? ensi_rotate_hoisted(pe->ev.ctx, outs + 1, in, steps + 1, count - 1, pe->ev.keys)
                   : ENSI_OK;
}

/* Records the first failure of a parallel loop. */
#define KEEP_FIRST(status, s)                                                                      \
  do {                                                                                             \
    if ((s) != ENSI_OK) {                                                                          \
      _Pragma("omp critical") if ((status) == ENSI_OK)(status) = (s);                             \
    }                                                                                              \
  } while (0)

size_t packed_attention_steps(const packed_eval *pe, long long *steps) {
  size_t count = 0;
  for (size_t g = 1; g < pe->shift_groups; g++) {
    steps[count++] = giant_step(pe, g);
    steps[count++] = -giant_step(pe, g);
  }
  for (size_t i = 1; i < baby_count(pe); i++)
    steps[count++] = -(long long)(i * pe->per_pack);
  for (size_t k = 1; k < pe->per_head; k++) {
    steps[count++] = (long long)(k * pe->heads);
    steps[count++] = -(long long)(k * pe->heads);
  }
  return count;
}

/* ---- projections -------------------------------------------------------------------------- */

/* y = x W^T in the head order at level `level` (the product drops x there), with the input norm's
 * gamma and `factor` folded into the weights; x's rotations shared with the other projections. */
static ensi_status project(packed_eval *pe, const ensi_layer *l, const ensi_ternary *w,
                           double factor, const ensi_packed_matrix *x, size_t level,
                           packed_shared_input *shared, ensi_packed_matrix **y) {
  const packed_weight weight = {.pe = pe, .w = w, .gamma = l->input_norm, .factor = factor,
                                .head_rows = true, .head_cols = false};
  ensi_packed_pcmm *p = NULL;
  ENSI_TRY(packed_weight_prepare(pe, &weight, level, &p));
  const ensi_status s = packed_apply_shared(pe, y, p, x, shared);
  ensi_packed_pcmm_free(p);
  return s;
}

/* ---- RoPE on shifted packs ---------------------------------------------------------------- */

/* RoPE's cos and sin plaintexts for pack pair m (dims m e + i, i < e, of the first half) of packs
 * rotated by `shift` tokens (slot token tau holds token tau + shift, mod b), zero where that token
 * is not a valid key or query: tokens outside [lo, hi). */
static ensi_status rope_plaintexts(const packed_eval *pe, const ensi_model_config *c, size_t m,
                                   long long shift, size_t lo, size_t hi, size_t level,
                                   double scale, double *values, ensi_plaintext **cos_pt,
                                   ensi_plaintext **sin_pt) {
  const size_t C = pe->per_pack, H = pe->heads, dh = pe->head_dim, block = pe->ev.block;
  for (int part = 0; part < 2; part++) {
    for (size_t j = 0; j < pe->ev.slots; j++) {
      const size_t tau = j / C, pos = j % C, i = pos / H;
      const long long token = ((long long)tau + shift) % (long long)block;
      values[j] = 0.0;
      if (i >= pe->per_head || tau < lo || tau >= hi || token < 0)
        continue;
      const size_t d = m * pe->per_head + i;
      const double angle = (double)token * pow(c->rope_theta, -2.0 * (double)d / (double)dh);
      values[j] = part == 0 ? cos(angle) : sin(angle);
    }
    ENSI_TRY(packed_plain(pe, part == 0 ? cos_pt : sin_pt, values, level, scale));
  }
  return ENSI_OK;
}

/* out = RoPE(in) on packs rotated by `shift` tokens, valid tokens [lo, hi), at `target` scale one
 * level down, then times inv_shifted (inv rotated alike). */
static ensi_status rope_shifted(packed_eval *pe, const ensi_model_config *c,
                                ensi_ciphertext *const *in, long long shift, size_t lo, size_t hi,
                                double target, const ensi_ciphertext *inv_shifted,
                                ensi_ciphertext **out) {
  const henn_eval *ev = &pe->ev;
  const size_t half = pe->attention_packs / 2, level = ensi_ciphertext_level(in[0]);
  const double scale = target * henn_prime(ev, level) / ensi_ciphertext_scale(in[0]);
  double *values = malloc(ev->slots * sizeof *values);
  ensi_ciphertext *tmp = NULL;
  ensi_status s = values ? ensi_ciphertext_create(&tmp, ev->ctx, level) : ENSI_ERR_NOMEM;
  for (size_t m = 0; s == ENSI_OK && m < half; m++) {
    ensi_plaintext *cos_pt = NULL, *sin_pt = NULL;
    s = rope_plaintexts(pe, c, m, shift, lo, hi, level, scale, values, &cos_pt, &sin_pt);
    ensi_ciphertext *a = out[m], *b = out[m + half];
    /* a = x_m cos - x_{m+half} sin, b = x_{m+half} cos + x_m sin */
    if (s == ENSI_OK)
      s = ensi_mul_plain(ev->ctx, a, in[m], cos_pt);
    if (s == ENSI_OK)
      s = ensi_mul_plain(ev->ctx, tmp, in[m + half], sin_pt);
    if (s == ENSI_OK)
      s = ensi_sub(ev->ctx, a, a, tmp);
    if (s == ENSI_OK)
      s = ensi_mul_plain(ev->ctx, b, in[m + half], cos_pt);
    if (s == ENSI_OK)
      s = ensi_mul_plain(ev->ctx, tmp, in[m], sin_pt);
    if (s == ENSI_OK)
      s = ensi_add(ev->ctx, b, b, tmp);
    for (size_t u = 0; u < 2 && s == ENSI_OK; u++) {
      ensi_ciphertext *r = u ? b : a;
      s = ensi_rescale(ev->ctx, r, r);
      if (s == ENSI_OK)
        s = ensi_mul_relin_rescale(ev->ctx, r, r, inv_shifted, ev->keys);
    }
    ensi_plaintext_free(cos_pt);
    ensi_plaintext_free(sin_pt);
  }
  ensi_ciphertext_free(tmp);
  free(values);
  return s;
}

/* ---- scores ------------------------------------------------------------------------------- */

/* The scores as the sigmoid reads them: t = alpha S + beta on its polynomial's interval [-1, 1]
 * (alpha in the gathering masks, beta added to the score packs), so that the polynomial needs no
 * map of its own; the logistic's argument is S - ln s, as the reference's. Non-causal entries
 * (S = 0) land inside the interval too, the calibration keeping -ln s in it. */
typedef struct {
  double alpha, beta, shrink;
} score_map;

static score_map score_map_of(const packed_eval *pe) {
  const double shift = log((double)pe->ev.rows);
  const ensi_forward_options *o = &pe->ev.setup->approx;
  const double lo = o->sigmoid_lo + shift, hi = o->sigmoid_hi + shift;
  const score_map m = {2.0 / (hi - lo), -(hi + lo) / (hi - lo), packed_unit_shrink(pe)};
  return m;
}

/* The masks M_p (p < e) at `level`, scale its prime: `value` at positions h + H p. */
static ensi_status position_masks(const packed_eval *pe, size_t level, double value,
                                  ensi_plaintext **masks) {
  double *values = malloc(pe->per_pack * sizeof *values);
  if (!values)
    return ENSI_ERR_NOMEM;
  ensi_status s = ENSI_OK;
  for (size_t p = 0; s == ENSI_OK && p < pe->per_head; p++) {
    for (size_t c = 0; c < pe->per_pack; c++)
      values[c] = c / pe->heads == p ? value : 0.0;
    s = packed_plain_periodic(pe, &masks[p], values, level, henn_prime(&pe->ev, level));
  }
  free(values);
  return s;
}

static void free_plains(ensi_plaintext **pts, size_t n) {
  for (size_t i = 0; pts && i < n; i++)
    ensi_plaintext_free(pts[i]);
}

/* Whether some i < count has 0 <= i + k < e (A_k has a term). */
static bool has_terms(const packed_eval *pe, size_t count, long long k) {
  const long long first = k < 0 ? -k : 0;
  const long long end = (long long)pe->per_head - k < (long long)count ? (long long)pe->per_head - k
                                                                       : (long long)count;
  return first < end;
}

/* out = sum over i of M_{i + k} * parts[i] (the i with 0 <= i + k < e: has_terms), rescaled. */
static ensi_status gather(const packed_eval *pe, ensi_ciphertext *const *parts, size_t count,
                          long long k, ensi_plaintext *const *masks, ensi_ciphertext *out) {
  const ensi_ciphertext *a[ENSI_HENN_MAX_BLOCK];
  const ensi_plaintext *b[ENSI_HENN_MAX_BLOCK];
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    const long long p = (long long)i + k;
    if (p >= 0 && p < (long long)pe->per_head) {
      a[n] = parts[i];
      b[n++] = masks[p];
    }
  }
  ENSI_TRY(ensi_mul_plain_sum(pe->ev.ctx, out, a, b, n));
  return ensi_rescale(pe->ev.ctx, out, out);
}

/* Score pack g from the rotated q (q_g: P packs) and the k shifts (k_i: e x P packs). */
static ensi_status score_pack(packed_eval *pe, size_t g, ensi_ciphertext *const *q_g,
                              ensi_ciphertext **const *k_i, ensi_plaintext *const *masks,
                              ensi_ciphertext *out) {
  const henn_eval *ev = &pe->ev;
  const size_t count = group_count(pe, g), e = pe->per_head, P = pe->attention_packs;
  const size_t level = ensi_ciphertext_level(q_g[0]);
  ensi_ciphertext **parts = NULL, **gathered = NULL;
  ensi_status status = henn_ciphertexts_new(pe->ev.ctx, &parts, count, level);
  if (status == ENSI_OK)
    status = henn_ciphertexts_new(pe->ev.ctx, &gathered, 2 * e - 1, level - 2);
#pragma omp parallel for schedule(dynamic)
  for (size_t i = 0; i < count; i++) {
    if (status != ENSI_OK)
      continue;
    const ensi_status s = henn_dot(ev, parts[i], (ensi_ciphertext *const *)q_g, k_i[i], P);
    KEEP_FIRST(status, s);
  }
  /* gathered[k + e - 1] = A_k, then rotated by H k */
#pragma omp parallel for schedule(dynamic)
  for (size_t u = 0; u < 2 * e - 1; u++) {
    const long long k = (long long)u - (long long)(e - 1);
    if (status != ENSI_OK || !has_terms(pe, count, k))
      continue;
    ensi_status s = gather(pe, parts, count, k, masks, gathered[u]);
    if (s == ENSI_OK && k != 0)
      s = ensi_rotate(ev->ctx, gathered[u], gathered[u], k * (long long)pe->heads, ev->keys);
    KEEP_FIRST(status, s);
  }
  bool first = true;
  for (size_t u = 0; status == ENSI_OK && u < 2 * e - 1; u++) {
    if (!has_terms(pe, count, (long long)u - (long long)(e - 1)))
      continue;
    status = first ? ensi_ciphertext_copy(out, gathered[u]) : ensi_add(ev->ctx, out, out, gathered[u]);
    first = false;
  }
  if (status == ENSI_OK && g > 0)
    status = ensi_rotate(ev->ctx, out, out, -giant_step(pe, g), ev->keys);
  henn_ciphertexts_free(parts, count);
  henn_ciphertexts_free(gathered, 2 * e - 1);
  return status;
}

/* The score packs S_g (g < G) from the raw projections q, k (at most at inv's level) and inv. */
static ensi_status scores(packed_eval *pe, const ensi_model_config *c, const ensi_packed_matrix *q,
                          const ensi_packed_matrix *k, const ensi_ciphertext *inv,
                          ensi_ciphertext **packs) {
  henn_eval *ev = &pe->ev;
  const size_t P = pe->attention_packs, G = pe->shift_groups, E = baby_count(pe);
  const size_t level = packed_level(q), rows = ev->rows;
  long long q_steps[ENSI_HENN_MAX_BLOCK], k_steps[ENSI_HENN_MAX_BLOCK];
  for (size_t g = 0; g < G; g++)
    q_steps[g] = giant_step(pe, g);
  for (size_t i = 0; i < E; i++)
    k_steps[i] = -(long long)(i * pe->per_pack);
  /* raw rotations: q_raw[g][m], k_raw[i][m]; inv's alike */
  ensi_ciphertext **q_raw = NULL, **k_raw = NULL, **inv_q = NULL, **inv_k = NULL;
  ensi_ciphertext **q_rot = NULL, **k_rot = NULL, *column[ENSI_HENN_MAX_BLOCK];
  henn_mark mark;
  henn_begin(ev, &mark, "RoPE");
  ensi_status s = henn_ciphertexts_new(pe->ev.ctx, &q_raw, G * P, level);
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(pe->ev.ctx, &k_raw, E * P, level);
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(pe->ev.ctx, &inv_q, G, ensi_ciphertext_level(inv));
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(pe->ev.ctx, &inv_k, E, ensi_ciphertext_level(inv));
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(pe->ev.ctx, &q_rot, G * P, level - 2);
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(pe->ev.ctx, &k_rot, E * P, level - 2);
  for (size_t m = 0; s == ENSI_OK && m < P; m++) {
    for (size_t g = 0; g < G; g++)
      column[g] = q_raw[g * P + m];
    s = rotations(pe, column, q->pack[m], q_steps, G);
    for (size_t i = 0; s == ENSI_OK && i < E; i++)
      column[i] = k_raw[i * P + m];
    if (s == ENSI_OK)
      s = rotations(pe, column, k->pack[m], k_steps, E);
  }
  if (s == ENSI_OK)
    s = rotations(pe, inv_q, inv, q_steps, G);
  if (s == ENSI_OK)
    s = rotations(pe, inv_k, inv, k_steps, E);
  /* q lands at the prime of the product's level, so that q k lands at the working scale; RoPE's
   * plaintexts also absorb inv's scale (the prime of the level where it multiplies v) */
  const double inv_factor = henn_prime(ev, level - 1) / ensi_ciphertext_scale(inv);
  const double q_target = henn_prime(ev, level - 2) * inv_factor;
  ensi_status status = s;
#pragma omp parallel for schedule(dynamic)
  for (size_t u = 0; u < G + E; u++) {
    if (status != ENSI_OK)
      continue;
    ensi_status r;
    if (u < G) /* query tau + g e must exist */
      r = rope_shifted(pe, c, q_raw + u * P, (long long)(u * pe->per_head), 0,
                       rows > u * pe->per_head ? rows - u * pe->per_head : 0, q_target, inv_q[u],
                       q_rot + u * P);
    else /* key tau - i must exist */
      r = rope_shifted(pe, c, k_raw + (u - G) * P, -(long long)(u - G), u - G, rows,
                       ev->work_scale * inv_factor, inv_k[u - G], k_rot + (u - G) * P);
    KEEP_FIRST(status, r);
  }
  henn_ciphertexts_free(q_raw, G * P);
  henn_ciphertexts_free(k_raw, E * P);
  henn_ciphertexts_free(inv_q, G);
  henn_ciphertexts_free(inv_k, E);
  henn_end(ev, ENSI_STAGE_ROPE, &mark);
  henn_begin(ev, &mark, "Q K^T");
  const score_map map = score_map_of(pe);
  ensi_plaintext *masks[ENSI_HENN_MAX_BLOCK] = {0};
  if (status == ENSI_OK)
    status = position_masks(pe, level - 3, map.alpha * map.shrink, masks);
  ensi_ciphertext **k_cols[ENSI_HENN_MAX_BLOCK];
  for (size_t i = 0; i < E; i++)
    k_cols[i] = k_rot + i * P;
  for (size_t g = 0; status == ENSI_OK && g < G; g++) {
    status = ensi_ciphertext_create(&packs[g], ev->ctx, level - 4);
    if (status == ENSI_OK)
      status = score_pack(pe, g, q_rot + g * P, k_cols, masks, packs[g]);
    if (status == ENSI_OK) {
      packs[g]->scale *= map.shrink; /* the same words read as t */
      status = ensi_add_const(ev->ctx, packs[g], packs[g], map.beta);
    }
  }
  free_plains(masks, pe->per_head);
  henn_ciphertexts_free(q_rot, G * P);
  henn_ciphertexts_free(k_rot, E * P);
  henn_end(ev, ENSI_STAGE_CCMM, &mark);
  return status;
}

/* ---- sigmoid and S V ----------------------------------------------------------------------- */

/* W_g = sigmoid(S_g - ln s) from the mapped score pack (score_map) times the causal mask (and
 * s / (t + 1) for query t, as the reference), two levels above `product_level` at its prime. */
static ensi_status weights(packed_eval *pe, size_t g, ensi_ciphertext *pack, size_t product_level) {
  henn_eval *ev = &pe->ev;
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t level = product_level + 2;
  henn_mark mark;
  henn_begin(ev, &mark, NULL);
  ensi_ciphertext *w = NULL;
  ensi_status s = ensi_ciphertext_create(&w, ev->ctx, level);
  if (s == ENSI_OK)
    s = ensi_eval_chebyshev_unit(ev->ctx, w, pack, ev->sigmoid, o->sigmoid_degree,
                                 henn_prime(ev, product_level), ev->keys);
  henn_end(ev, ENSI_STAGE_SIGMOID, &mark);
  henn_begin(ev, &mark, NULL);
  double *values = s == ENSI_OK ? malloc(ev->slots * sizeof *values) : NULL;
  if (s == ENSI_OK && !values)
    s = ENSI_ERR_NOMEM;
  for (size_t j = 0; s == ENSI_OK && j < ev->slots; j++) {
    const size_t t = j / pe->per_pack, i = j % pe->per_pack / pe->heads;
    const size_t delta = g * pe->per_head + i;
    values[j] = i < pe->per_head && delta <= t && t < ev->rows ? (double)ev->rows / (double)(t + 1)
                                                               : 0.0;
  }
  ensi_plaintext *mask = NULL;
  if (s == ENSI_OK)
    s = packed_plain(pe, &mask, values, level, henn_prime(ev, level));
  if (s == ENSI_OK)
    s = ensi_mul_plain(ev->ctx, pack, w, mask);
  if (s == ENSI_OK)
    s = ensi_rescale(ev->ctx, pack, pack);
  ensi_plaintext_free(mask);
  ensi_ciphertext_free(w);
  free(values);
  henn_end(ev, ENSI_STAGE_CCMM, &mark);
  return s;
}

/* spread[i] = B_{g,i} = sum_i' M_i' * rot(rot(W_g, g e C), H (i - i')) for the group's shifts. */
static ensi_status spread(packed_eval *pe, size_t g, const ensi_ciphertext *w,
                          ensi_plaintext *const *masks, ensi_ciphertext **out) {
  const henn_eval *ev = &pe->ev;
  const size_t e = pe->per_head, count = group_count(pe, g), level = ensi_ciphertext_level(w);
  long long steps[2 * ENSI_HENN_MAX_BLOCK];
  steps[0] = 0;
  for (size_t u = 1; u < 2 * e - 1; u++) /* u = k + e - 1 for k != 0; k = 0 is steps[0] */
    steps[u] = (u < e ? (long long)u : (long long)e - 1 - (long long)u) * (long long)pe->heads;
  ensi_ciphertext *u_g = NULL, **rotated = NULL;
  ensi_status status = ensi_ciphertext_create(&u_g, ev->ctx, level);
  if (status == ENSI_OK)
    status = g > 0 ? ensi_rotate(ev->ctx, u_g, w, giant_step(pe, g), ev->keys)
                   : ensi_ciphertext_copy(u_g, w);
  if (status == ENSI_OK)
    status = henn_ciphertexts_new(pe->ev.ctx, &rotated, 2 * e - 1, level);
  if (status == ENSI_OK)
    status = rotations(pe, rotated, u_g, steps, 2 * e - 1);
#pragma omp parallel for schedule(dynamic)
  for (size_t i = 0; i < count; i++) {
    if (status != ENSI_OK)
      continue;
    const ensi_ciphertext *a[ENSI_HENN_MAX_BLOCK];
    const ensi_plaintext *b[ENSI_HENN_MAX_BLOCK];
    for (size_t ip = 0; ip < e; ip++) { /* rot by H (i - i'): steps index of k = i - i' */
      const long long k = (long long)i - (long long)ip;
      a[ip] = rotated[k == 0 ? 0 : k > 0 ? (size_t)k : (size_t)((long long)e - 1 - k)];
      b[ip] = masks[ip];
    }
    ensi_status s = ensi_mul_plain_sum(ev->ctx, out[i], a, b, e);
    if (s == ENSI_OK)
      s = ensi_rescale(ev->ctx, out[i], out[i]);
    KEEP_FIRST(status, s);
  }
  ensi_ciphertext_free(u_g);
  henn_ciphertexts_free(rotated, 2 * e - 1);
  return status;
}

/* a_m += rot(sum_i B_{g,i} * v_i, -g e C) for every pack m (v_shift[i][m] = rot(v_m, -i C)). */
static ensi_status values_product(packed_eval *pe, size_t g, ensi_ciphertext *const *spread_g,
                                  ensi_ciphertext **const *v_shift, ensi_packed_matrix *a) {
  const henn_eval *ev = &pe->ev;
  const size_t count = group_count(pe, g);
  ensi_status status = ENSI_OK;
#pragma omp parallel for schedule(dynamic)
  for (size_t m = 0; m < pe->attention_packs; m++) {
    if (status != ENSI_OK)
      continue;
    const ensi_ciphertext *b[ENSI_HENN_MAX_BLOCK];
    for (size_t i = 0; i < count; i++)
      b[i] = v_shift[i][m];
    ensi_ciphertext *part = NULL;
    ensi_status s = ensi_ciphertext_create(&part, ev->ctx, ensi_ciphertext_level(a->pack[m]));
    if (s == ENSI_OK)
      s = henn_dot(ev, g == 0 ? a->pack[m] : part, spread_g, (ensi_ciphertext *const *)b, count);
    if (s == ENSI_OK && g > 0)
      s = ensi_rotate(ev->ctx, part, part, -giant_step(pe, g), ev->keys);
    if (s == ENSI_OK && g > 0)
      s = ensi_add(ev->ctx, a->pack[m], a->pack[m], part);
    ensi_ciphertext_free(part);
    KEEP_FIRST(status, s);
  }
  return status;
}

/* a = S V from the score packs (refreshed here when short of levels) and v (already times inv). */
static ensi_status attend(packed_eval *pe, ensi_ciphertext **packs, ensi_packed_matrix *v,
                          ensi_packed_matrix **a) {
  henn_eval *ev = &pe->ev;
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t G = pe->shift_groups, E = baby_count(pe), P = pe->attention_packs, e = pe->per_head;
  const size_t depth = ensi_chebyshev_depth(o->sigmoid_degree, o->sigmoid_lo, o->sigmoid_hi) - 1;
  const size_t top = ev->setup->boot ? ensi_bootstrap_output_level(ev->setup->boot) : 0;
  const size_t have = ensi_ciphertext_level(packs[0]);
  const size_t reach = (have >= depth + 3 ? have : top) - depth - 2; /* after sigmoid, mask, spread */
  const size_t product_level = reach < packed_level(v) ? reach : packed_level(v);
  if (product_level < 1)
    return ensi_fail(ENSI_ERR_LEVEL, "packed attention: no level left for S V");
  if (have < depth + 3)
    ENSI_TRY(packed_refresh(pe, packs, G, product_level + 2 + depth, ENSI_STAGE_SIGMOID));
  if (ensi_ciphertext_level(packs[0]) < depth + 3)
    return ensi_fail(ENSI_ERR_LEVEL, "packed attention: %zu levels for the sigmoid of depth %zu",
                     ensi_ciphertext_level(packs[0]), depth);
  for (size_t g = 0; g < G; g++)
    ENSI_TRY(ensi_drop_level(ev->ctx, packs[g], packs[g], product_level + 2 + depth));
  ENSI_TRY(packed_drop_to(pe, v, product_level));
  ensi_ciphertext **v_rot = NULL, **spread_g = NULL, **v_shift[ENSI_HENN_MAX_BLOCK];
  ensi_plaintext *masks[ENSI_HENN_MAX_BLOCK] = {0};
  long long steps[ENSI_HENN_MAX_BLOCK];
  for (size_t i = 0; i < E; i++)
    steps[i] = -(long long)(i * pe->per_pack);
  henn_mark mark;
  henn_begin(ev, &mark, "S V");
  ensi_status s = henn_ciphertexts_new(pe->ev.ctx, &v_rot, E * P, product_level);
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(pe->ev.ctx, &spread_g, e, product_level);
  if (s == ENSI_OK)
    s = position_masks(pe, product_level + 1, 1.0, masks);
  if (s == ENSI_OK)
    s = packed_new(pe, a, P * pe->per_pack, product_level - 1);
  ensi_ciphertext *column[ENSI_HENN_MAX_BLOCK];
  for (size_t m = 0; s == ENSI_OK && m < P; m++) {
    for (size_t i = 0; i < E; i++)
      column[i] = v_rot[i * P + m];
    s = rotations(pe, column, v->pack[m], steps, E);
  }
  for (size_t i = 0; i < E; i++)
    v_shift[i] = v_rot + i * P;
  henn_end(ev, ENSI_STAGE_CCMM, &mark);
  for (size_t g = 0; s == ENSI_OK && g < G; g++) {
    s = weights(pe, g, packs[g], product_level);
    henn_begin(ev, &mark, NULL);
    if (s == ENSI_OK)
      s = spread(pe, g, packs[g], masks, spread_g);
    if (s == ENSI_OK)
      s = values_product(pe, g, spread_g, v_shift, *a);
    henn_end(ev, ENSI_STAGE_CCMM, &mark);
  }
  free_plains(masks, e);
  henn_ciphertexts_free(v_rot, E * P);
  henn_ciphertexts_free(spread_g, e);
  if (s != ENSI_OK) {
    ensi_packed_matrix_free(*a);
    *a = NULL;
  }
  return s;
}

ensi_status packed_attention(packed_eval *pe, const ensi_layer *l, const ensi_packed_matrix *x,
                             const ensi_ciphertext *inv, ensi_packed_matrix **a) {
  henn_eval *ev = &pe->ev;
  const ensi_model_config *c = pe->config;
  const size_t level = ensi_ciphertext_level(inv), G = pe->shift_groups;
  *a = NULL;
  if (level < PACKED_ATTENTION_INV_LEVEL || packed_level(x) < level + 1)
    return ensi_fail(ENSI_ERR_LEVEL, "packed attention: inverse RMS at level %zu, input at %zu",
                     level, packed_level(x));
  const double norm = 1.0 / sqrt(henn_norm_center(ev, ENSI_NORM_INPUT));
  const double q_factor = l->q.beta * norm / sqrt((double)pe->head_dim);
  ensi_packed_matrix *q = NULL, *k = NULL, *v = NULL;
  ensi_ciphertext **packs = calloc(G, sizeof *packs);
  henn_mark mark;
  henn_begin(ev, &mark, "ternary products");
  packed_shared_input shared = {NULL, level + 1};
  ensi_status s = packs ? project(pe, l, &l->q, q_factor, x, level + 1, &shared, &q)
                        : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = project(pe, l, &l->k, l->k.beta * norm, x, level + 1, &shared, &k);
  if (s == ENSI_OK)
    s = project(pe, l, &l->v, l->v.beta * norm, x, level + 1, &shared, &v);
  ensi_packed_rotations_free(shared.rotations);
  henn_end(ev, ENSI_STAGE_PCMM, &mark);
  henn_begin(ev, &mark, NULL);
  if (s == ENSI_OK)
    s = packed_times(pe, v, inv);
  henn_end(ev, ENSI_STAGE_RMSNORM, &mark);
  if (s == ENSI_OK)
    s = scores(pe, c, q, k, inv, packs);
  ensi_packed_matrix_free(q);
  ensi_packed_matrix_free(k);
  if (s == ENSI_OK)
    s = attend(pe, packs, v, a);
  ensi_packed_matrix_free(v);
  henn_ciphertexts_free(packs, G);
  return s;
}
