/* Counters of CKKS operations, for the per-component breakdowns of the encrypted layers. Every
 * evaluator entry point bumps one counter with a relaxed atomic add, so counting is thread-safe
 * and costs a few nanoseconds against operations that take microseconds to milliseconds. */
#ifndef ENSI_CKKS_OP_COUNTS_H
#define ENSI_CKKS_OP_COUNTS_H

#include <ensi/ckks.h>

typedef enum { OP_COUNT_ADD, OP_COUNT_MUL_PLAIN, OP_COUNT_MUL, OP_COUNT_KEYSWITCH,
               OP_COUNT_ROTATION, OP_COUNT_RESCALE } op_count_kind;

void ensi_op_count(op_count_kind kind, uint64_t n);

#endif
