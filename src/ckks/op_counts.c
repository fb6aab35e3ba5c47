/* Process-wide CKKS operation counters (see op_counts.h and ensi_op_counts_get). */
#include "ckks/op_counts.h"

static uint64_t counters[OP_COUNT_RESCALE + 1];

void ensi_op_count(op_count_kind kind, uint64_t n) {
  __atomic_fetch_add(&counters[kind], n, __ATOMIC_RELAXED);
}

void ensi_op_counts_get(ensi_op_counts *out) {
  if (!out)
    return;
  out->add = __atomic_load_n(&counters[OP_COUNT_ADD], __ATOMIC_RELAXED);
  out->mul_plain = __atomic_load_n(&counters[OP_COUNT_MUL_PLAIN], __ATOMIC_RELAXED);
  out->mul = __atomic_load_n(&counters[OP_COUNT_MUL], __ATOMIC_RELAXED);
  out->keyswitch = __atomic_load_n(&counters[OP_COUNT_KEYSWITCH], __ATOMIC_RELAXED);
  out->rotation = __atomic_load_n(&counters[OP_COUNT_ROTATION], __ATOMIC_RELAXED);
  out->rescale = __atomic_load_n(&counters[OP_COUNT_RESCALE], __ATOMIC_RELAXED);
}
