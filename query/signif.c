/*
 * signif.c — JLH and chi-square significance scores (signif.h).
 */
#include "signif.h"

#include <math.h>

double tw_sig_jlh(uint64_t fg_df, uint64_t fg_size, uint64_t bg_df, uint64_t bg_size) {
    if (!fg_df || !fg_size || !bg_df || !bg_size) return 0;
    double pf = (double)fg_df / (double)fg_size, pb = (double)bg_df / (double)bg_size;
    if (pf <= pb) return 0;
    return (pf - pb) * (pf / pb);
}

double tw_sig_chi2(uint64_t fg_df, uint64_t fg_size, uint64_t rest_df, uint64_t rest_size) {
    double n11 = (double)fg_df, n01 = (double)(fg_size - fg_df), n10 = (double)rest_df,
           n00 = (double)(rest_size - rest_df);
    double n_1 = (double)fg_size, n_0 = (double)rest_size, n1_ = n11 + n10, n0_ = n01 + n00, n = n_1 + n_0;
    if (n_1 == 0 || n_0 == 0 || n1_ == 0 || n0_ == 0) return 0;
    if (n11 / n_1 < n10 / n_0) return -INFINITY;
    double x = n11 * n00 - n01 * n10;
    return n * (x * x) / (n_1 * n1_ * n0_ * n_0);
}
