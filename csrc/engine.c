/* spikec C engine: neuron kernels and the two arithmetic builds of engine_impl.h.
 * Semantics are those of spikec.ir (see ir/neurons.py and ir/fixed.py); the Python tests
 * hold the engine to the reference simulator, bit for bit in fixed point. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* The float kernel is also compiled for AVX2 and picked at load time where the CPU has it
 * (GCC function multi-versioning); results are identical, as contraction stays off. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(SK_NO_CLONES)
#define SK_VECTORIZE __attribute__((target_clones("avx2", "default")))
#else
#define SK_VECTORIZE
#endif

/* ---- float kernel: LIF, CubaLIF, IF, LI, CubaLI, Integrator, Threshold ---------------- */

/* Pass 1 over neurons [lo, hi): input, integration, activity, and a firing flag per neuron
 * (f[i], a byte).  Branch-free so the compiler vectorises it; PARAM(a) reads a per-neuron
 * parameter (a[i]) or a population-wide one (a0).  FIRE(vv) is the firing condition. */
#define SK_PASS1(PARAM, FIRE)                                                                    \
    for (int32_t i = lo; i < hi; i++) {                                                          \
        const double xi = x[i];                                                                  \
        double drive = xi;                                                                       \
        if (cuba) drive = u[i] = PARAM(as) * u[i] + PARAM(gs) * xi;                              \
        const double vv = PARAM(al) * v[i] + PARAM(ga) * drive + PARAM(bi);                      \
        v[i] = vv;                                                                               \
        x[i] = 0.0;                                                                              \
        active += (xi != 0.0) | (u[i] != 0.0) | (vv != 0.0);                                     \
        f[i] = (uint8_t)(FIRE(vv));                                                              \
    }
#define SK_EACH(a) a[i]
#define SK_SAME(a) a##0
#define SK_FIRE_EACH(vv) (vv > thr[i])
#define SK_FIRE_SAME(vv) (vv > thr0)
#define SK_FIRE_BN(vv) (fs[i] * (vv) + fb[i] > thr[i])
#define SK_FIRE_NONE(vv) 0

/* Evaluated in the reference's order ((alpha*v + gain*drive) + bias) and compiled with
 * -ffp-contract=off, so a neuron's update rounds exactly as NumPy's does (vector lanes round
 * like scalars).  Two passes: the branch-free update above, then a scan of the firing flags
 * for the (rare) neurons that fired. */
SK_VECTORIZE
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
    /* The float kernel keeps no z[]: subtract_next reads last step's events instead, and z's
     * storage holds this step's firing flags. */
    uint8_t *restrict f = (uint8_t *)z;
    if (ib)
        for (int32_t i = 0; i < n; i++) x[i] += ib[i];
    for (int32_t k = 0; k < P->n_segs; k++) {
        const int32_t lo = P->seg_start[k], hi = P->seg_start[k + 1];
        int64_t active = 0;
        if (!spiking) {
            SK_PASS1(SK_EACH, SK_FIRE_NONE)
        } else if (fs) {
            SK_PASS1(SK_EACH, SK_FIRE_BN)
        } else if (P->uniform) {
            const double as0 = cuba ? as[0] : 0.0, gs0 = cuba ? gs[0] : 0.0;
            const double al0 = al[0], ga0 = ga[0], bi0 = bi[0], thr0 = thr[0];
            SK_PASS1(SK_SAME, SK_FIRE_SAME)
        } else {
            SK_PASS1(SK_EACH, SK_FIRE_EACH)
        }
        pc[SK_C_NU_ACTIVE] += active;
        pc[SK_C_NU_IDLE] += (hi - lo) - active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_ACTIVE] += active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_IDLE] += (hi - lo) - active;
    }
    /* subtract_next: last step's spikes (still in ev_idx) pay their threshold now, and decide
     * again whether they fire. */
    if (reset == SK_RESET_SUBTRACT_NEXT && spiking)
        for (int32_t e = 0; e < n_prev; e++) {
            const int32_t i = ev_idx[e];
            v[i] = v[i] - thr[i];
            f[i] = (uint8_t)(fs ? SK_FIRE_BN(v[i]) : SK_FIRE_EACH(v[i]));
        }
    if (!spiking) {
        for (int32_t i = 0; i < n; i++)
            if (v[i] != 0.0) { ev_idx[n_ev] = i; ev_val[n_ev] = v[i]; n_ev++; }
        if (yrec) memcpy(yrec, v, (size_t)n * sizeof(double));
    } else {
        /* Firing is rare: skip eight flags at a time. */
        for (int32_t i0 = 0; i0 < n; i0 += 8) {
            const int32_t i1 = i0 + 8 < n ? i0 + 8 : n;
            if (i1 - i0 == 8) {
                uint64_t word;
                memcpy(&word, f + i0, sizeof word);
                if (!word) continue;
            }
            for (int32_t i = i0; i < i1; i++) {
                if (!f[i]) continue;
                if (reset == SK_RESET_VALUE) v[i] = vr[i];
                else if (reset == SK_RESET_SUBTRACT) v[i] = v[i] - thr[i];
                ev_idx[n_ev] = i; ev_val[n_ev] = 1.0; n_ev++;
            }
        }
        if (yrec) {
            memset(yrec, 0, (size_t)n * sizeof(double));
            for (int32_t e = 0; e < n_ev; e++) yrec[ev_idx[e]] = 1.0;
        }
    }
    if (vrec) memcpy(vrec, v, (size_t)n * sizeof(double));
    if (urec) memcpy(urec, u, (size_t)n * sizeof(double));
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

/* Keep p in a signed `bits`-wide register: saturate, two's-complement wrap, or Lava's Loihi
 * model's wrap (one correction by 2**bits into (-half, half], which differs from two's
 * complement at -half; runtime.engine proves one correction suffices). */
static inline int64_t overflow(int64_t p, int32_t bits, int32_t mode) {
    const int64_t half = (int64_t)1 << (bits - 1);
    if (mode == SK_WRAP) {
        const uint64_t mask = ((uint64_t)1 << bits) - 1;
        return (int64_t)(((uint64_t)p + (uint64_t)half) & mask) - half;
    }
    if (mode == SK_LAVA_WRAP) return p > half ? p - 2 * half : (p <= -half ? p + 2 * half : p);
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
