/* The report of `ensi run`: the timing breakdown with the bootstrapping share, the operation
 * counts, the errors and tokens, as text and as one closing JSON object. */
#ifndef ENSI_TOOLS_RUN_REPORT_H
#define ENSI_TOOLS_RUN_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <ensi/ensi.h>

typedef struct {
  const char *preset, *layout;
  int threads, layers;
  size_t rows, slots, key_bytes;
  const int32_t *prompt;
  int32_t token_encrypted, token_reference, token_sigmoid, token_exact;
  const char *text_encrypted;    /* the decoded next token (may be NULL) */
  double error_reference;        /* max |encrypted - reference| / max |reference| */
  double error_sigmoid;          /* the same against exact sigmoid attention and exact functions
                                    (what the polynomials cost) */
  double error_exact;            /* the same against the exact model (softmax attention, exact
                                    functions: what ENSI's changes to the model cost) */
  double calibrate_s, keygen_s, encrypt_s, server_s, decrypt_s;
  ensi_henn_stats stats;
} run_report;

void run_report_print(FILE *out, const run_report *r);
void run_report_json(FILE *out, const run_report *r);

#endif
