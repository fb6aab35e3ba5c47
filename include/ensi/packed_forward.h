/* The encrypted forward pass in the packed layout (docs/PACKED_LAYOUT.md): the same layers as
 * ensi_henn_forward (ensi/henn.h), on packs of C = N / (2 b) columns instead of one ciphertext per
 * column. The ternary products are masked-diagonal products (ensi/packed.h) with the norms' gamma
 * and the BitLinear betas folded into their weights; every norm's inverse RMS multiplies the
 * products it feeds (a token-wise factor commutes with them); RoPE is plaintext products in the
 * attention's head order; Q K^T and S V run over token shifts in baby-step giant-step form. A
 * refresh bootstraps the packs themselves (no packing, no unpacking), two packs a bootstrap: the
 * residual stream before each norm pair, the scores, the gate, and for the inner and FFN norms
 * only their sums of squares (docs/PACKED_LAYOUT.md).
 *
 * For short sequences (s much smaller than N / 2) this is the layout to use: at s = 128 and
 * N = 2^16 a bitnet_b1_58-large activation is 6 ciphertexts instead of 1536. The setup is an
 * ensi_henn_setup whose bootstrapper works on full slots (N / 2). */
#ifndef ENSI_PACKED_FORWARD_H
#define ENSI_PACKED_FORWARD_H

#include <ensi/henn.h>
#include <ensi/packed.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Whether the packed layers fit `rows` tokens of this model on the context (the head order needs
 * C = N / (2 b) >= heads and a number of dims per pack that divides head_dim / 2): ENSI_OK, or
 * ENSI_ERR_ARG with the reason. */
ensi_status ensi_henn_packed_check(const ensi_context *ctx, const ensi_model_config *c, size_t rows);

/* Room for the rotation steps of ensi_henn_packed_rotation_steps. */
#define ENSI_HENN_PACKED_MAX_ROTATIONS 4096

/* The rotation steps the packed layers use for `rows` tokens (bootstrapping's not included), and
 * levels[i], the highest level step i rotates at: the norms' +-2^i (2^i < C) up to `top` (the
 * level the layers start from: the bootstrapper's output level), the products' baby and giant
 * steps up to top - 1 (the gate's product reads a refreshed input one level down), the
 * attention's token shifts and head gathers up to level 5 (a key made only up to there takes
 * less than half the memory at n16-boot). steps and levels have room for
 * ENSI_HENN_PACKED_MAX_ROTATIONS; returns the count (0: the layout does not fit,
 * ensi_henn_packed_check says why). */
size_t ensi_henn_packed_rotation_steps(const ensi_context *ctx, const ensi_model_config *c,
                                       size_t rows, size_t top, long long *steps, size_t *levels);

/* The client's evaluation keys for the packed layers: bootstrapping's (full slots) and the
 * layers' rotations, each up to the level it rotates at. */
ensi_status ensi_henn_packed_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                           const ensi_secret_key *sk, const ensi_bootstrapper *boot,
                                           const ensi_model_config *c, size_t rows);

/* The client's side: embeds tokens and encrypts the s x hidden matrix in packs, at the level the
 * first layer uses (the setup's evaluation keys are not needed: a client has none). */
ensi_status ensi_henn_packed_encrypt_tokens(ensi_packed_matrix **out, const ensi_henn_setup *setup,
                                            const ensi_model *model, const int32_t *tokens,
                                            size_t count, const ensi_public_key *pk);

/* The server's side: runs the layers on x in place (x ends as the encrypted last hidden states,
 * before the final norm). x must be what ensi_henn_packed_encrypt_tokens makes under the same
 * setup. stats (may be NULL) receives the breakdown. */
ensi_status ensi_henn_packed_forward(const ensi_henn_setup *setup, const ensi_model *model,
                                     ensi_packed_matrix *x, ensi_henn_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
