/* The two sides of the non-interactive protocol, as the command-line tools run them: the client
 * (key directory: profile, secret and public key) and the server (a registered evaluation-key
 * bundle). Each side rebuilds the same setup for a prompt of a given length (same parameters,
 * bootstrapper, calibrated polynomials, token block), so a request the client encrypts is exactly
 * what the server's layers expect. Used by keygen/encrypt/eval/decrypt, serve and query. */
#ifndef ENSI_TOOLS_PARTY_H
#define ENSI_TOOLS_PARTY_H

#include <ensi/ensi.h>

/* Files of a key directory. */
#define PARTY_PROFILE_FILE "profile.bin"
#define PARTY_SECRET_FILE "secret.key"
#define PARTY_PUBLIC_FILE "public.key"
#define PARTY_BUNDLE_FILE "eval.bundle"

/* Largest file the tools read (a bundle at n16-boot is a few GiB). */
#define PARTY_MAX_FILE ((size_t)64 << 30)

typedef struct {
  ensi_params *params;
  ensi_context *ctx;
  ensi_bootstrapper *boot;        /* server (and the client at key generation) */
  ensi_bootstrap_config boot_config; /* both: the bootstrapper's slot count and input scale */
  ensi_profile profile;
  uint8_t id[32];         /* the profile id requests and responses carry */
  ensi_secret_key *sk;    /* client only */
  ensi_public_key *pk;    /* client only */
  ensi_eval_keys *keys;   /* server only (and the client at key generation) */
  uint8_t *saved_profile; /* the profile as saved */
  size_t saved_profile_length;
} party;

/* The client makes everything for prompts of at most max_tokens tokens of this model. */
ensi_status party_keygen(party *p, const char *preset, const ensi_model *model, size_t max_tokens);
/* Writes the key directory (created 0700 if missing; the secret key 0600). */
ensi_status party_save(const party *p, const char *dir);
/* The client's side from a key directory; the model must be the one the keys were made for. */
ensi_status party_open_client(party *p, const char *dir, const ensi_model *model);
/* The server's side from a bundle; the model must be the one of the bundle's profile.
 * allow_insecure: accept a profile below 128-bit security. */
ensi_status party_open_server(party *p, const uint8_t *bundle, size_t length,
                              const ensi_model *model, bool allow_insecure);
void party_close(party *p);

/* The setup of the encrypted forward pass for prompts of `rows` tokens (calibrated here). */
ensi_status party_setup(const party *p, const ensi_model *model, size_t rows,
                        ensi_henn_setup *setup);

/* The calibration every tool uses (ensi run too, so that its result and the protocol's agree):
 * the encrypted path's degrees, intervals from random prompts of `rows` tokens. */
#define PARTY_CALIBRATION_PROMPTS 32
#define PARTY_CALIBRATION_SEED 1
ensi_status party_calibrate(const ensi_model *model, size_t rows, ensi_forward_options *approx,
                            double *bound);

/* Client: tokenizes prompt with the model directory's tokenizer, keeps at most the profile's
 * token count (says so on stderr when it cuts), embeds and encrypts into a request. */
ensi_status party_encrypt(const party *p, const ensi_model *model, const char *model_dir,
                          const char *prompt, uint8_t **request, size_t *length);

/* Server: evaluates a request into a response. setup_hooks (may be NULL) lends its progress and
 * stop callbacks and layer count. */
ensi_status party_evaluate(const party *p, const ensi_model *model, const uint8_t *request,
                           size_t length, const ensi_henn_setup *hooks, uint8_t **response,
                           size_t *response_length, ensi_henn_stats *stats);

/* Client: decrypts a response, applies the final norm and LM head; the greedy next token and its
 * text (free() it). flood_bits > 0 floods the decrypted values with Gaussian noise of standard
 * deviation 2^-flood_bits times their largest magnitude before anything is computed from them
 * (docs/THREAT-MODEL.md, IND-CPA-D); 0 leaves them as decrypted. */
ensi_status party_decrypt(const party *p, const ensi_model *model, const char *model_dir,
                          const uint8_t *response, size_t length, int flood_bits,
                          int32_t *token, char **text);

#endif
