/*
 * kernels_scalar.c — the portable level of the container kernels: plain C,
 * built for the baseline target, the only level on non-x86 machines and the
 * reference the SIMD levels are tested against (contracts in kernels.h).
 */
#define TW_KSUF scalar
#define TW_TARGET
#include "kernels_impl.h"

const tw_kernels tw_kernels_scalar_table = {
    TW_SIMD_SCALAR,
    "scalar",
    tw_k_and_aa_merge_scalar,
    tw_k_count_aa_merge_scalar,
    tw_k_and_ab_scalar,
    tw_k_count_ab_scalar,
    tw_k_and_bb_scalar,
    tw_k_count_bb_scalar,
    tw_k_and_ar_scalar,
    tw_k_count_ar_scalar,
    tw_k_and_br_scalar,
    tw_k_count_br_scalar,
    tw_k_and_rr_scalar,
    tw_k_count_rr_scalar,
};
