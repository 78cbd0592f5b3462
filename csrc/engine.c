/* spikec C engine: neuron kernels and the two arithmetic builds of engine_impl.h.
 * Semantics are those of spikec.ir (see ir/neurons.py and ir/fixed.py); the Python tests
 * hold the engine to the reference simulator, bit for bit in fixed point. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* ---- float kernel: LIF, CubaLIF, IF, LI, CubaLI, Integrator, Threshold ---------------- */

/* Evaluated in the reference's order ((alpha*v + gain*drive) + bias) and compiled with
 * -ffp-contract=off, so a neuron's update rounds exactly as NumPy's does. */
static int32_t update_float(const sk_pop *P, double *u, double *v, double *z, double *x,
                            int32_t *ev_idx, double *ev_val, double *yrec, double *vrec,
                            double *urec, int64_t *pc, int64_t *cc) {
    int32_t n_ev = 0;
    const double *ib = P->input_bias;
    for (int32_t k = 0; k < P->n_segs; k++) {
        int64_t active = 0;
        const int32_t lo = P->seg_start[k], hi = P->seg_start[k + 1];
        for (int32_t i = lo; i < hi; i++) {
            const double xi = x[i] + (ib ? ib[i] : 0.0);
            x[i] = 0.0;
            active += (xi != 0.0) | (u[i] != 0.0) | (v[i] != 0.0);
            double drive = xi;
            if (P->cuba) {
                u[i] = P->alpha_syn[i] * u[i] + P->gain_syn[i] * xi;
                drive = u[i];
            }
            double vv = P->alpha[i] * v[i] + P->gain[i] * drive + P->bias[i];
            if (P->reset == SK_RESET_SUBTRACT_NEXT) vv = vv - P->thr[i] * z[i];
            double y;
            if (!P->spiking) {
                y = vv;
            } else {
                const double m = P->fire_scale ? P->fire_scale[i] * vv + P->fire_shift[i] : vv;
                const int fire = m > P->thr[i];
                if (fire) {
                    if (P->reset == SK_RESET_VALUE) vv = P->v_reset[i];
                    else if (P->reset == SK_RESET_SUBTRACT) vv = vv - P->thr[i];
                }
                z[i] = fire ? 1.0 : 0.0;
                y = z[i];
            }
            v[i] = vv;
            if (yrec) yrec[i] = y;
            if (vrec) vrec[i] = vv;
            if (urec) urec[i] = u[i];
            if (y != 0.0) { ev_idx[n_ev] = i; ev_val[n_ev] = y; n_ev++; }
        }
        pc[SK_C_NU_ACTIVE] += active;
        pc[SK_C_NU_IDLE] += (hi - lo) - active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_ACTIVE] += active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_IDLE] += (hi - lo) - active;
    }
    return n_ev;
}

/* ---- fixed-point kernel: FixedCubaLIF ---------------------------------------------------- */

/* Drop `bits` fraction bits of p.  Written without shifting negative numbers, which C
 * leaves implementation-defined or undefined. */
static inline int64_t shift_round(int64_t p, int32_t bits, int32_t rounding) {
    if (rounding == SK_ROUND_FLOOR) return p >= 0 ? (p >> bits) : -(((-p) - 1) >> bits) - 1;
    uint64_t mag = p < 0 ? (uint64_t)(-p) : (uint64_t)p;
    if (rounding == SK_ROUND_NEAREST) mag += (uint64_t)1 << (bits - 1);
    const int64_t r = (int64_t)(mag >> bits);
    return p < 0 ? -r : r;
}

/* Keep p in a signed `bits`-wide register: two's-complement wrap, or saturate. */
static inline int64_t overflow(int64_t p, int32_t bits, int32_t wrap) {
    const int64_t half = (int64_t)1 << (bits - 1);
    if (wrap) {
        const uint64_t mask = ((uint64_t)1 << bits) - 1;
        return (int64_t)(((uint64_t)p + (uint64_t)half) & mask) - half;
    }
    return p > half - 1 ? half - 1 : (p < -(half - 1) ? -(half - 1) : p);
}

static int32_t update_fixed(const sk_pop *P, int64_t *u, int64_t *v, int64_t *z, int64_t *x,
                            int32_t *ev_idx, int64_t *ev_val, int64_t *yrec, int64_t *vrec,
                            int64_t *urec, int64_t *pc, int64_t *cc) {
    int32_t n_ev = 0;
    const int64_t unity = (int64_t)1 << P->decay_bits, scale_in = (int64_t)1 << P->input_shift;
    const int64_t *ib = P->iinput_bias;
    const int32_t D = P->decay_bits, rnd = P->rounding;
    for (int32_t k = 0; k < P->n_segs; k++) {
        int64_t active = 0;
        const int32_t lo = P->seg_start[k], hi = P->seg_start[k + 1];
        for (int32_t i = lo; i < hi; i++) {
            const int64_t xi = x[i] + (ib ? ib[i] : 0);
            x[i] = 0;
            active += (xi != 0) | (u[i] != 0) | (v[i] != 0);
            const int64_t uu = overflow(shift_round(u[i] * (unity - P->du[i]), D, rnd) + xi * scale_in,
                                        P->u_bits, P->u_wrap);
            int64_t vv = shift_round(v[i] * (unity - P->dv[i]), D, rnd) + uu + P->ibias[i];
            if (P->reset == SK_RESET_SUBTRACT_NEXT) vv -= P->ithr[i] * z[i];
            vv = overflow(vv, P->v_bits, P->v_wrap);
            u[i] = uu;
            int64_t y;
            if (!P->spiking) {
                y = vv;
            } else {
                const int fire = vv > P->ithr[i];
                if (fire) {
                    if (P->reset == SK_RESET_VALUE) vv = P->iv_reset[i];
                    else if (P->reset == SK_RESET_SUBTRACT) vv -= P->ithr[i];
                }
                z[i] = fire;
                y = fire;
            }
            v[i] = vv;
            if (yrec) yrec[i] = y;
            if (vrec) vrec[i] = vv;
            if (urec) urec[i] = uu;
            if (y != 0) { ev_idx[n_ev] = i; ev_val[n_ev] = y; n_ev++; }
        }
        pc[SK_C_NU_ACTIVE] += active;
        pc[SK_C_NU_IDLE] += (hi - lo) - active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_ACTIVE] += active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_IDLE] += (hi - lo) - active;
    }
    return n_ev;
}

/* ---- the two builds ------------------------------------------------------------------------ */

#define VAL double
#define SK_FN(name) name##_f
#define SK_W(J) ((J)->w_f)
#define SK_U_INIT(P) ((P)->u_init)
#define SK_V_INIT(P) ((P)->v_init)
#define SK_REC_OUT(P) ((P)->rec_out_f)
#define SK_REC_V(P) ((P)->rec_v_f)
#define SK_REC_U(P) ((P)->rec_u_f)
#define SK_INPUT_OF(P) ((P)->in_f)
#define SK_INPUT_BIAS(P) ((P)->input_bias)
#define SK_NEURON_UPDATE update_float
#include "engine_impl.h"
#undef VAL
#undef SK_FN
#undef SK_W
#undef SK_U_INIT
#undef SK_V_INIT
#undef SK_REC_OUT
#undef SK_REC_V
#undef SK_REC_U
#undef SK_INPUT_OF
#undef SK_INPUT_BIAS
#undef SK_NEURON_UPDATE

#define VAL int64_t
#define SK_FN(name) name##_i
#define SK_W(J) ((J)->w_i)
#define SK_U_INIT(P) ((P)->iu_init)
#define SK_V_INIT(P) ((P)->iv_init)
#define SK_REC_OUT(P) ((P)->rec_out_i)
#define SK_REC_V(P) ((P)->rec_v_i)
#define SK_REC_U(P) ((P)->rec_u_i)
#define SK_INPUT_OF(P) ((P)->in_i)
#define SK_INPUT_BIAS(P) ((P)->iinput_bias)
#define SK_NEURON_UPDATE update_fixed
#include "engine_impl.h"

int sk_run_float(const sk_run_args *args) { return sk_run_f(args); }
int sk_run_fixed(const sk_run_args *args) { return sk_run_i(args); }
