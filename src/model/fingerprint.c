/* The fingerprint of a loaded model: BLAKE2b-256 over its configuration and every value the
 * forward pass reads (embeddings, norms, ternary weights and their scales), so that a client and a
 * server can check they hold the same public model whatever file format each loaded it from. */
#include <sodium.h>
#include <string.h>

#include <ensi/model.h>

static void absorb_u64(crypto_generichash_state *h, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  crypto_generichash_update(h, b, sizeof b);
}

static void absorb_f64(crypto_generichash_state *h, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  absorb_u64(h, bits);
}

/* IEEE binary32 values as the host stores them (little-endian: the hosts ensi builds for). */
static void absorb_floats(crypto_generichash_state *h, const float *v, size_t count) {
  crypto_generichash_update(h, (const uint8_t *)v, count * sizeof *v);
}

static void absorb_ternary(crypto_generichash_state *h, const ensi_ternary *t) {
  absorb_u64(h, (uint64_t)t->rows);
  absorb_u64(h, (uint64_t)t->cols);
  absorb_f64(h, t->beta);
  crypto_generichash_update(h, t->packed, ((size_t)t->rows * (size_t)t->cols + 3) / 4);
}

ensi_status ensi_model_fingerprint(const ensi_model *m, uint8_t out[32]) {
  if (!m || !out || !m->embeddings || !m->final_norm || !m->layers)
    return ENSI_ERR_ARG;
  const ensi_model_config *c = &m->config;
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 32);
  const int ints[] = {c->layers, c->hidden, c->heads, c->head_dim, c->intermediate, c->vocab,
                      c->max_positions, c->tie_embeddings, c->bos_id, c->eos_id};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    absorb_u64(&h, (uint64_t)(int64_t)ints[i]);
  absorb_f64(&h, c->rms_eps);
  absorb_f64(&h, c->rope_theta);
  const size_t hid = (size_t)c->hidden;
  absorb_floats(&h, m->embeddings, (size_t)c->vocab * hid);
  absorb_floats(&h, m->final_norm, hid);
  for (int i = 0; i < c->layers; i++) {
    const ensi_layer *l = &m->layers[i];
    const ensi_ternary *w[] = {&l->q, &l->k, &l->v, &l->o, &l->gate, &l->up, &l->down};
    for (size_t j = 0; j < sizeof w / sizeof w[0]; j++)
      absorb_ternary(&h, w[j]);
    absorb_floats(&h, l->input_norm, hid);
    absorb_floats(&h, l->inner_attn_norm, hid);
    absorb_floats(&h, l->post_attn_norm, hid);
    absorb_floats(&h, l->ffn_norm, (size_t)c->intermediate);
  }
  crypto_generichash_final(&h, out, 32);
  return ENSI_OK;
}
