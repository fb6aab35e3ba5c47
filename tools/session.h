/* An encrypted-inference session for the command-line tools: a preset's context, the calibrated
 * polynomials, the bootstrapper, the client's keys and the server's setup, made in the order a
 * client and a server would make them, each step timed. Used by `ensi run` and `ensi bench layer`. */
#ifndef ENSI_TOOLS_SESSION_H
#define ENSI_TOOLS_SESSION_H

#include <ensi/ensi.h>

typedef struct {
  ensi_params *params;
  ensi_context *ctx;
  ensi_bootstrapper *boot;
  ensi_secret_key *sk;
  ensi_public_key *pk;
  ensi_eval_keys *keys;
  ensi_henn_setup setup;
  bool packed; /* the packed layers (ensi/packed_forward.h), else the column layout */
  double calibrate_s, keygen_s;
} session;

/* Resolves a layout name for `rows` tokens of the model on the preset into *packed: "column",
 * "packed", or "auto" (packed when the model's hidden size fills a pack, C = N / (2 b) <= d, and
 * the heads fit: a narrower model leaves its packs mostly empty and pays full-slot bootstraps and
 * the products' sqrt(C) rotation keys for nothing). ENSI_ERR_ARG for another name or a packed
 * layout that does not fit. */
ensi_status session_choose_layout(const char *layout, const char *preset, const ensi_model_config *c,
                                  size_t rows, bool *packed);

/* Opens a session for `rows` tokens of the model on the named preset (layers: 0 = all). The
 * polynomial degrees come from approx_degrees (its intervals are calibrated here). packed: for the
 * packed layers (ensi/packed_forward.h: a bootstrapper of all slots and their keys). */
ensi_status session_open(session *s, const char *preset, const ensi_model *model, size_t rows,
                         int layers, const ensi_forward_options *approx_degrees, bool packed);
void session_close(session *s);

/* The encrypted pass in the session's layout: the client embeds and encrypts the tokens, the server
 * runs the layers (stats may be NULL), the client decrypts the last hidden states into hidden
 * (rows x hidden). seconds[0..3): encryption, the server's pass, decryption. */
ensi_status session_encrypted_pass(session *s, const ensi_model *m, const int32_t *tokens,
                                   size_t rows, ensi_henn_stats *stats, double *hidden,
                                   double seconds[3]);

/* max |got - want| / max |want| over n values: the error measure of `ensi run` and the benchmarks. */
double session_relative_error(const double *got, const double *want, size_t n);

#endif
