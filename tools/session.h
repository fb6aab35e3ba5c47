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
  double calibrate_s, keygen_s;
} session;

/* Opens a session for `rows` tokens of the model on the named preset (layers: 0 = all). The
 * polynomial degrees come from approx_degrees (its intervals are calibrated here). packed: for the
 * packed layers (ensi/packed_forward.h: a bootstrapper of all slots and their keys). */
ensi_status session_open(session *s, const char *preset, const ensi_model *model, size_t rows,
                         int layers, const ensi_forward_options *approx_degrees, bool packed);
void session_close(session *s);

/* max |got - want| / max |want| over n values: the error measure of `ensi run` and the benchmarks. */
double session_relative_error(const double *got, const double *want, size_t n);

#endif
