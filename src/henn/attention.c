/* The attention block on column-encoded ciphertexts (ENSI), up to the inner RMSNorm:
 *   q, k, v = the ternary projections of y (y already carries beta_v);
 *   RoPE on q and k: column c mixes with column c +- dh/2 through plaintext cos/sin vectors over
 *     the token positions, no rotation (the betas and 1/sqrt(dh) ride on those vectors);
 *   scores by diagonals: D_t[i] = S[i, i - t] = sum_c q_c[i] k_c[i - t], the sum over the head's
 *     columns of q_c times k_c shifted down by t slots (the slots shifted in are zero, so D_t holds
 *     exactly the causal entries i >= t): t = 0 .. s-1 in baby-step giant-step form (about
 *     2 sqrt(s) hoisted rotations per column instead of s - 1);
 *   sigmoid(D_t - ln s) by the reference's Chebyshev polynomial (the -ln s moves the interval);
 *   out_c[i] = sum_t sigmoid(D_t)[i] v_c[i - t], with the causal mask (t <= i < s) multiplied
 *     onto sigmoid(D_t) as a 0/1 plaintext after the sigmoid, never added before it: it is the
 *     mask that unpacking the sigmoid's packs multiplies by anyway, so it costs nothing; also in
 *     baby-step giant-step form.
 * Levels: RoPE 1, Q K^T 1, sigmoid G, unpacking 1 (with the mask), S V 1. The
 * scores form a matrix of heads x s columns; the sigmoid runs on their packs (n / b diagonals per
 * ciphertext), bootstrapped first when they have fewer than G + 2 levels. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"

static size_t sigmoid_depth(const henn_eval *ev) {
  const ensi_forward_options *o = &ev->setup->approx;
  return ensi_chebyshev_depth(o->sigmoid_degree, o->sigmoid_lo, o->sigmoid_hi);
}

/* RoPE and Q K^T take one level each (v needs one, for S V); the scores then need the sigmoid's
 * depth, one level to unpack and one for S V. */
henn_levels henn_attention_input_levels(const henn_eval *ev) {
  return (henn_levels){2, 2 + sigmoid_depth(ev) + 2};
}

/* Rotates the pairs (d, d + dh/2) of every head of x by the angles of token positions with the
 * plaintexts cos_pt, sin_pt of pair d:
 *   y_d = x_d cos - x_{d+h} sin,  y_{d+h} = x_{d+h} cos + x_d sin. */
static ensi_status rope_pair(henn_eval *ev, ensi_enc_matrix *y, const ensi_enc_matrix *x, size_t a,
                             size_t b, const ensi_plaintext *cos_pt, const ensi_plaintext *sin_pt,
                             ensi_ciphertext *tmp) {
  ENSI_TRY(ensi_mul_plain(ev->ctx, y->column[a], x->column[a], cos_pt));
  ENSI_TRY(ensi_mul_plain(ev->ctx, tmp, x->column[b], sin_pt));
  ENSI_TRY(ensi_sub(ev->ctx, y->column[a], y->column[a], tmp));
  ENSI_TRY(ensi_mul_plain(ev->ctx, y->column[b], x->column[b], cos_pt));
  ENSI_TRY(ensi_mul_plain(ev->ctx, tmp, x->column[a], sin_pt));
  ENSI_TRY(ensi_add(ev->ctx, y->column[b], y->column[b], tmp));
  ENSI_TRY(ensi_rescale(ev->ctx, y->column[a], y->column[a]));
  return ensi_rescale(ev->ctx, y->column[b], y->column[b]);
}

/* out = RoPE(x) * factor at scale `target`, one level lower. */
static ensi_status rope(henn_eval *ev, const ensi_model_config *c, const ensi_enc_matrix *x,
                        double factor, double target, ensi_enc_matrix **out) {
  const size_t level = henn_level(x), dh = (size_t)c->head_dim, half = dh / 2;
  const double pt_scale = target * henn_prime(ev, level) / ev->work_scale;
  ENSI_TRY(henn_matrix_new(ev, out, x->cols, level));
  double *cosv = calloc(ev->slots, sizeof *cosv), *sinv = calloc(ev->slots, sizeof *sinv);
  ensi_plaintext *cos_pt = NULL, *sin_pt = NULL;
  ensi_ciphertext *tmp = NULL;
  ensi_status s = cosv && sinv ? ensi_ciphertext_create(&tmp, ev->ctx, level) : ENSI_ERR_NOMEM;
  for (size_t d = 0; s == ENSI_OK && d < half; d++) {
    const double freq = pow(c->rope_theta, -2.0 * (double)d / (double)dh);
    for (size_t i = 0; i < ev->rows; i++) {
      cosv[i] = factor * cos((double)i * freq);
      sinv[i] = factor * sin((double)i * freq);
    }
    ensi_plaintext_free(cos_pt);
    ensi_plaintext_free(sin_pt);
    cos_pt = sin_pt = NULL;
    s = henn_plain(ev, &cos_pt, cosv, level, pt_scale);
    if (s == ENSI_OK)
      s = henn_plain(ev, &sin_pt, sinv, level, pt_scale);
    for (int h = 0; s == ENSI_OK && h < c->heads; h++) {
      const size_t base = (size_t)h * dh;
      s = rope_pair(ev, *out, x, base + d, base + d + half, cos_pt, sin_pt, tmp);
    }
  }
  ensi_plaintext_free(cos_pt);
  ensi_plaintext_free(sin_pt);
  ensi_ciphertext_free(tmp);
  free(cosv);
  free(sinv);
  if (s != ENSI_OK) {
    ensi_enc_matrix_free(*out);
    *out = NULL;
  }
  return s;
}

/* The attention's shifts t = g B + b (0 <= b < B): B baby steps, G giant steps for `rows` tokens. */
static size_t shift_baby(const henn_eval *ev) { return henn_baby_steps(ev->block); }
static size_t shift_giants(const henn_eval *ev) {
  return (ev->rows + shift_baby(ev) - 1) / shift_baby(ev);
}

/* Adds q * k (tensor product, degree 2) into acc, or sets acc to it when `first`. */
static ensi_status add_product(const henn_eval *ev, ensi_ciphertext *acc, ensi_ciphertext *term,
                               const ensi_ciphertext *q, const ensi_ciphertext *k, bool first) {
  ENSI_TRY(ensi_mul(ev->ctx, first ? acc : term, q, k));
  return first ? ENSI_OK : ensi_add(ev->ctx, acc, acc, term);
}

/* The score diagonals of head h, scores->column[h T + t] = sum_c q_c * (k_c shifted down by t),
 * in baby-step giant-step form: with t = g B + b,
 *   D_t = shift_{g B}( sum_c (q_c shifted up by g B) * (k_c shifted down by b) ),
 * so each column costs B - 1 + G - 1 hoisted rotations instead of T - 1, and each diagonal with
 * g > 0 one more rotation after the sum. Shifting q up wraps its first g B slots to the top of the
 * slot array, where the shifted k is zero. */
static ensi_status head_scores(henn_eval *ev, const ensi_model_config *c, int h,
                               const ensi_enc_matrix *q, const ensi_enc_matrix *k,
                               ensi_enc_matrix *scores) {
  const size_t dh = (size_t)c->head_dim, diagonals = ev->rows, level = henn_level(k);
  const size_t baby = shift_baby(ev), giants = shift_giants(ev);
  const size_t babies = baby < diagonals ? baby : diagonals;
  ensi_ciphertext **k_down = NULL, **q_up = NULL, **term = NULL;
  ensi_status s = henn_ciphertexts_new(ev->ctx, &k_down, babies, level);
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(ev->ctx, &q_up, giants, henn_level(q));
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(ev->ctx, &term, diagonals, level);
  ensi_ciphertext **acc = scores->column + (size_t)h * diagonals;
  for (size_t d = 0; s == ENSI_OK && d < dh; d++) {
    const size_t col = (size_t)h * dh + d;
    s = henn_rotations(ev, k_down, k->column[col], babies, -1);
    if (s == ENSI_OK)
      s = henn_rotations(ev, q_up, q->column[col], giants, (long long)baby);
    ensi_status status = s;
#pragma omp parallel for schedule(dynamic)
    for (size_t t = 0; t < diagonals; t++) {
      if (status != ENSI_OK)
        continue;
      const ensi_status r = add_product(ev, acc[t], term[t], q_up[t / baby], k_down[t % baby], d == 0);
      if (r != ENSI_OK) {
#pragma omp critical
        status = r;
      }
    }
    s = status;
  }
  ensi_status status = s;
#pragma omp parallel for schedule(dynamic)
  for (size_t t = 0; t < diagonals; t++) {
    if (status != ENSI_OK)
      continue;
    ensi_status r = ensi_relinearize_rescale(ev->ctx, acc[t], acc[t], ev->keys);
    if (r == ENSI_OK && t >= baby)
      r = ensi_rotate(ev->ctx, acc[t], acc[t], -(long long)(t / baby * baby), ev->keys);
    if (r != ENSI_OK) {
#pragma omp critical
      status = r;
    }
  }
  henn_ciphertexts_free(k_down, babies);
  henn_ciphertexts_free(q_up, giants);
  henn_ciphertexts_free(term, diagonals);
  return status;
}

/* sigmoid(D - ln s) on a pack of score diagonals, by the reference's polynomial on [lo, hi]
 * (in z = D - ln s, hence on [lo + ln s, hi + ln s] in D). */
static ensi_status sigmoid_pack(henn_eval *ev, ensi_ciphertext *pack, void *unused) {
  (void)unused;
  const ensi_forward_options *o = &ev->setup->approx;
  const double shift = log((double)ev->rows);
  return ensi_eval_chebyshev(ev->ctx, pack, pack, ev->sigmoid, o->sigmoid_degree,
                             o->sigmoid_lo + shift, o->sigmoid_hi + shift, ev->work_scale,
                             ev->keys);
}

/* The causal mask of score diagonal t (column h rows + t of the scores), applied while the
 * sigmoid's pack is unpacked (no level of its own): it keeps token slots t .. rows - 1 (query i
 * sees key i - t). Query i's slot also divides by its i + 1 attended keys over s (the reference
 * does the same): the inner RMSNorm that follows does not see the factor, but its polynomial sees
 * a much narrower range of mean squares. */
static void causal_mask(const henn_eval *ev, size_t column, double *values, void *unused) {
  (void)unused;
  const size_t t = column % ev->rows;
  henn_token_vector(ev, values, t, 1.0);
  for (size_t i = t; i < ev->rows; i++)
    values[i] = (double)ev->rows / (double)(i + 1);
}

/* out_c = sum_t sig_t (v_c shifted down by t) for the columns c of head h (sig_t masked
 * already), in baby-step giant-step form: with t = g B + b,
 *   out_c = sum_g shift_{g B}( sum_b (sig_t shifted up by g B) * (v_c shifted down by b) ),
 * the weights shifted once per head, each column B - 1 hoisted rotations, G relinearizations and
 * G - 1 rotations instead of T - 1 rotations and one relinearization. */
static ensi_status head_values(henn_eval *ev, const ensi_model_config *c, int h,
                               const ensi_enc_matrix *sig, const ensi_enc_matrix *v,
                               ensi_enc_matrix *out) {
  const size_t dh = (size_t)c->head_dim, diagonals = ev->rows, level = henn_level(v);
  const size_t baby = shift_baby(ev), giants = shift_giants(ev);
  const size_t babies = baby < diagonals ? baby : diagonals;
  ensi_ciphertext *const *weights = sig->column + (size_t)h * diagonals;
  ensi_ciphertext **v_down = NULL, **w_up = NULL, *part = NULL;
  ensi_status s = henn_ciphertexts_new(ev->ctx, &v_down, babies, level);
  if (s == ENSI_OK)
    s = henn_ciphertexts_new(ev->ctx, &w_up, diagonals, henn_level(sig));
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&part, ev->ctx, level);
  for (size_t t = 0; s == ENSI_OK && t < diagonals; t++)
    s = ensi_rotate(ev->ctx, w_up[t], weights[t], (long long)(t / baby * baby), ev->keys);
  for (size_t d = 0; s == ENSI_OK && d < dh; d++) {
    const size_t col = (size_t)h * dh + d;
    s = henn_rotations(ev, v_down, v->column[col], babies, -1);
    for (size_t g = 0; s == ENSI_OK && g < giants; g++) {
      const size_t first = g * baby, count = diagonals - first < baby ? diagonals - first : baby;
      ensi_ciphertext *target = g == 0 ? out->column[col] : part;
      s = henn_dot(ev, target, w_up + first, v_down, count);
      if (s == ENSI_OK && g > 0)
        s = ensi_rotate(ev->ctx, part, part, -(long long)first, ev->keys);
      if (s == ENSI_OK && g > 0)
        s = ensi_add(ev->ctx, out->column[col], out->column[col], part);
    }
  }
  henn_ciphertexts_free(v_down, babies);
  henn_ciphertexts_free(w_up, diagonals);
  ensi_ciphertext_free(part);
  return s;
}

static ensi_status scores_stage(henn_eval *ev, const ensi_model_config *c, const ensi_layer *l,
                                const ensi_enc_matrix *q_raw, const ensi_enc_matrix *k_raw,
                                ensi_enc_matrix **scores) {
  /* beta_v is already in y: q and k get beta_q / beta_v and beta_k / beta_v; q lands at the prime
   * of its level so that q k lands at the working scale */
  const double bv = l->v.beta, norm = 1.0 / sqrt((double)c->head_dim);
  const size_t level = henn_level(q_raw);
  ensi_enc_matrix *q = NULL, *k = NULL;
  henn_mark mark;
  henn_begin(ev, &mark, "RoPE");
  ensi_status s = rope(ev, c, q_raw, l->q.beta / bv * norm, henn_prime(ev, level - 1), &q);
  if (s == ENSI_OK)
    s = rope(ev, c, k_raw, l->k.beta / bv, ev->work_scale, &k);
  henn_end(ev, ENSI_STAGE_ROPE, &mark);
  henn_begin(ev, &mark, "Q K^T");
  if (s == ENSI_OK)
    s = henn_matrix_new(ev, scores, (size_t)c->heads * ev->rows, level - 1);
  for (int h = 0; s == ENSI_OK && h < c->heads; h++)
    s = head_scores(ev, c, h, q, k, *scores);
  henn_end(ev, ENSI_STAGE_CCMM, &mark);
  ensi_enc_matrix_free(q);
  ensi_enc_matrix_free(k);
  return s;
}

ensi_status henn_attention(henn_eval *ev, const ensi_model_config *c, const ensi_layer *l,
                           const ensi_enc_matrix *y, ensi_enc_matrix **out) {
  *out = NULL;
  if (henn_level(y) < henn_attention_input_levels(ev).need)
    return ensi_fail(ENSI_ERR_LEVEL, "attention: input at level %zu", henn_level(y));
  ensi_enc_matrix *q = NULL, *k = NULL, *v = NULL, *scores = NULL;
  ensi_status s = henn_pcmm(ev, y, &l->q, &q);
  if (s == ENSI_OK)
    s = henn_pcmm(ev, y, &l->k, &k);
  if (s == ENSI_OK)
    s = henn_pcmm(ev, y, &l->v, &v);
  if (s == ENSI_OK)
    s = scores_stage(ev, c, l, q, k, &scores);
  /* the sigmoid runs once per pack of diagonals (refreshed first when the levels are short); the
   * unpacked weights carry the causal masks and sit at the prime of the level where the product
   * with v runs, so that the product returns to the working scale */
  const size_t depth = sigmoid_depth(ev), v_level = henn_level(y);
  henn_progress(ev, "sigmoid");
  if (s == ENSI_OK) {
    const henn_repack_plan plan = {.bootstrap = henn_level(scores) < depth + 2, .fn = sigmoid_pack,
                                   .depth = depth, .keep = 1, .partner_level = v_level,
                                   .mask = causal_mask, .who = ENSI_STAGE_SIGMOID};
    s = henn_repack(ev, scores, &plan);
  }
  const size_t sig_level = s == ENSI_OK ? henn_level(scores) : v_level;
  const size_t product_level = sig_level < v_level ? sig_level : v_level;
  henn_mark mark;
  henn_begin(ev, &mark, "S V");
  if (s == ENSI_OK)
    s = henn_matrix_new(ev, out, (size_t)c->hidden, product_level);
  for (int h = 0; s == ENSI_OK && h < c->heads; h++)
    s = head_values(ev, c, h, scores, v, *out);
  henn_end(ev, ENSI_STAGE_CCMM, &mark);
  ensi_enc_matrix_free(q);
  ensi_enc_matrix_free(k);
  ensi_enc_matrix_free(v);
  ensi_enc_matrix_free(scores);
  if (s != ENSI_OK) {
    ensi_enc_matrix_free(*out);
    *out = NULL;
  }
  return s;
}
