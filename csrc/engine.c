/* spikec C engine: neuron kernels and the two arithmetic builds of engine_impl.h.
 * Semantics are those of spikec.ir (see ir/neurons.py and ir/fixed.py); the Python tests
 * hold the engine to the reference simulator, bit for bit in fixed point. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* x != 0 without a floating-point compare (so the activity count vectorises); -0.0 counts as 0. */
static inline int64_t nonzero(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits << 1) != 0;
}

/* ---- float kernel: LIF, CubaLIF, IF, LI, CubaLI, Integrator, Threshold ---------------- */

/* Evaluated in the reference's order ((alpha*v + gain*drive) + bias) and compiled with
 * -ffp-contract=off, so a neuron's update rounds exactly as NumPy's does.
 * Two passes per core segment: a branch-free update the compiler can vectorise, then a scan
 * for the (rare) neurons that fired.  The loop-invariant kernel switches (cuba, reset) are
 * unswitched by the compiler. */
static int32_t update_float(const sk_pop *P, double *restrict u, double *restrict v, double *restrict z,
                            double *restrict x, int32_t *ev_idx, double *ev_val, int32_t n_prev, double *yrec,
                            double *vrec, double *urec, int64_t *pc, int64_t *cc) {
    int32_t n_ev = 0;
    const double *restrict ib = P->input_bias;
    const double *restrict as = P->alpha_syn, *restrict gs = P->gain_syn;
    const double *restrict al = P->alpha, *restrict ga = P->gain, *restrict bi = P->bias;
    const double *restrict thr = P->thr, *restrict vr = P->v_reset;
    const double *restrict fs = P->fire_scale, *restrict fb = P->fire_shift;
    const int cuba = P->cuba, spiking = P->spiking, reset = P->reset;
    const int32_t n = P->size;
    (void)z;
    /* Pass 1, branch-free loops the compiler can vectorise: input, integration. */
    if (ib)
        for (int32_t i = 0; i < n; i++) x[i] += ib[i];
    if (cuba) {
        for (int32_t i = 0; i < n; i++) {
            const double uu = as[i] * u[i] + gs[i] * x[i];
            u[i] = uu;
            v[i] = al[i] * v[i] + ga[i] * uu + bi[i];
        }
    } else {
        for (int32_t i = 0; i < n; i++) v[i] = al[i] * v[i] + ga[i] * x[i] + bi[i];
    }
    /* subtract_next: last step's spikes (still in ev_idx) pay their threshold now. */
    if (reset == SK_RESET_SUBTRACT_NEXT)
        for (int32_t e = 0; e < n_prev; e++) v[ev_idx[e]] = v[ev_idx[e]] - thr[ev_idx[e]];
    for (int32_t k = 0; k < P->n_segs; k++) {
        int64_t active = 0;
        const int32_t lo = P->seg_start[k], hi = P->seg_start[k + 1];
        /* Pass 2: activity, firing, reset and events (one well-predicted branch per neuron).
         * An update is idle when the neuron had no input and its state is (still) zero. */
        if (!spiking) {
            for (int32_t i = lo; i < hi; i++) {
                active += nonzero(x[i]) | nonzero(u[i]) | nonzero(v[i]);
                x[i] = 0.0;
                if (v[i] != 0.0) { ev_idx[n_ev] = i; ev_val[n_ev] = v[i]; n_ev++; }
            }
            if (yrec) memcpy(yrec + lo, v + lo, (size_t)(hi - lo) * sizeof(double));
        } else {
            const int32_t first = n_ev;
            for (int32_t i = lo; i < hi; i++) {
                active += nonzero(x[i]) | nonzero(u[i]) | nonzero(v[i]);
                x[i] = 0.0;
                const double m = fs ? fs[i] * v[i] + fb[i] : v[i];
                if (!(m > thr[i])) continue;
                if (reset == SK_RESET_VALUE) v[i] = vr[i];
                else if (reset == SK_RESET_SUBTRACT) v[i] = v[i] - thr[i];
                ev_idx[n_ev] = i; ev_val[n_ev] = 1.0; n_ev++;
            }
            if (yrec) {
                memset(yrec + lo, 0, (size_t)(hi - lo) * sizeof(double));
                for (int32_t e = first; e < n_ev; e++) yrec[ev_idx[e]] = 1.0;
            }
        }
        if (vrec) memcpy(vrec + lo, v + lo, (size_t)(hi - lo) * sizeof(double));
        if (urec) memcpy(urec + lo, u + lo, (size_t)(hi - lo) * sizeof(double));
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
                            int32_t *ev_idx, int64_t *ev_val, int32_t n_prev, int64_t *yrec, int64_t *vrec,
                            int64_t *urec, int64_t *pc, int64_t *cc) {
    int32_t n_ev = 0;
    const int64_t unity = (int64_t)1 << P->decay_bits, scale_in = (int64_t)1 << P->input_shift;
    const int64_t *ib = P->iinput_bias;
    const int32_t D = P->decay_bits, rnd = P->rounding;
    (void)n_prev; /* the integer kernel keeps z[] for subtract_next */
    for (int32_t k = 0; k < P->n_segs; k++) {
        int64_t active = 0;
        const int32_t lo = P->seg_start[k], hi = P->seg_start[k + 1];
        for (int32_t i = lo; i < hi; i++) {
            const int64_t xi = x[i] + (ib ? ib[i] : 0);
            x[i] = 0;
            const int64_t uu = overflow(shift_round(u[i] * (unity - P->du[i]), D, rnd) + xi * scale_in,
                                        P->u_bits, P->u_wrap);
            int64_t vv = shift_round(v[i] * (unity - P->dv[i]), D, rnd) + uu + P->ibias[i];
            if (P->reset == SK_RESET_SUBTRACT_NEXT) vv -= P->ithr[i] * z[i];
            vv = overflow(vv, P->v_bits, P->v_wrap);
            active += (xi != 0) | (uu != 0) | (vv != 0);
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
