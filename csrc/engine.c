/* spikec C engine: neuron kernels and the two arithmetic builds of engine_impl.h.
 * Semantics are those of spikec.ir (see ir/neurons.py and ir/fixed.py); the Python tests
 * hold the engine to the reference simulator, bit for bit in fixed point. */
#include "engine.h"

#include <math.h>
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

/* Pass 1 over neurons [lo, hi): input, integration and activity.  Branch-free so the compiler
 * vectorises it; PARAM(a) reads a per-neuron parameter (a[i]) or a population-wide one (a0). */
#define SK_PASS1(PARAM)                                                                          \
    for (int32_t i = lo; i < hi; i++) {                                                          \
        const double xi = x[i];                                                                  \
        double drive = xi;                                                                       \
        if (cuba) drive = u[i] = PARAM(as) * u[i] + PARAM(gs) * xi;                              \
        const double vv = PARAM(al) * v[i] + PARAM(ga) * drive + PARAM(bi);                      \
        v[i] = vv;                                                                               \
        x[i] = 0.0;                                                                              \
        active += (xi != 0.0) | (u[i] != 0.0) | (vv != 0.0);                                     \
    }
#define SK_EACH(a) a[i]
#define SK_SAME(a) a##0
#define SK_FIRE_EACH(vv) (vv > thr[i])
#define SK_FIRE_SAME(vv) (vv > thr0)
#define SK_FIRE_BN(vv) (fs[i] * (vv) + fb[i] > thr[i])

/* fire ? a : b through a bit mask: a select GCC keeps branch-free (it turns `?:` back into a
 * branch here), bit for bit one of the two values. */
static inline double sk_pick(int fire, double a, double b) {
    uint64_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    const uint64_t m = (uint64_t)0 - (uint64_t)(fire != 0);
    const uint64_t r = (ua & m) | (ub & ~m);
    double out;
    memcpy(&out, &r, sizeof out);
    return out;
}

/* Pass 2: the neurons whose membrane v[i] meets FIRE fire, eight tested at a time, and a group
 * where none fires skipped (firing is often rare).  Inside a group where one fires, no branch per
 * neuron: a layer where a quarter fire (the digits model's) mispredicted one in four.  Every
 * neuron's event slot is written and the count advanced only if it fired (the lists hold n
 * entries), and the reset value is selected.  FIRE is evaluated on the stored membrane, the
 * value pass 1 computed (or that subtract_next left), so it decides as it would have in pass 1. */
#define SK_PASS2(FIRE)                                                                           \
    for (int32_t i0 = 0; i0 < n; i0 += 8) {                                                      \
        const int32_t i1 = i0 + 8 < n ? i0 + 8 : n;                                             \
        int any = 0;                                                                             \
        for (int32_t i = i0; i < i1; i++) any |= FIRE(v[i]);                                     \
        if (!any) continue;                                                                      \
        for (int32_t i = i0; i < i1; i++) {                                                      \
            const double vi = v[i];                                                              \
            const int fire = FIRE(vi);                                                           \
            double after = vi;                                                                   \
            if (reset == SK_RESET_VALUE) after = vr[i];                                          \
            else if (reset == SK_RESET_SUBTRACT) after = vi - thr[i];                            \
            v[i] = sk_pick(fire, after, vi);                                                     \
            ev_idx[n_ev] = i; ev_val[n_ev] = 1.0; n_ev += fire;                                  \
        }                                                                                        \
    }

/* Evaluated in the reference's order ((alpha*v + gain*drive) + bias) and compiled with
 * -ffp-contract=off, so a neuron's update rounds exactly as NumPy's does (vector lanes round
 * like scalars).  Two passes: the branch-free update above, then a scan for the (rare) neurons
 * that fire. */
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
    /* The float kernel keeps no z[]: subtract_next reads last step's events instead. */
    (void)z;
    if (ib)
        for (int32_t i = 0; i < n; i++) x[i] += ib[i];
    for (int32_t k = 0; k < P->n_segs; k++) {
        const int32_t lo = P->seg_start[k], hi = P->seg_start[k + 1];
        int64_t active = 0;
        if (P->uniform && spiking && !fs) {
            const double as0 = cuba ? as[0] : 0.0, gs0 = cuba ? gs[0] : 0.0;
            const double al0 = al[0], ga0 = ga[0], bi0 = bi[0];
            SK_PASS1(SK_SAME)
        } else {
            SK_PASS1(SK_EACH)
        }
        pc[SK_C_NU_ACTIVE] += active;
        pc[SK_C_NU_IDLE] += (hi - lo) - active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_ACTIVE] += active;
        cc[(int64_t)P->seg_core[k] * SK_NCOUNTERS + SK_C_NU_IDLE] += (hi - lo) - active;
    }
    /* subtract_next: last step's spikes (still in ev_idx) pay their threshold now, before pass 2
     * decides whether they fire. */
    if (reset == SK_RESET_SUBTRACT_NEXT && spiking)
        for (int32_t e = 0; e < n_prev; e++) {
            const int32_t i = ev_idx[e];
            v[i] = v[i] - thr[i];
        }
    if (!spiking) {
        for (int32_t i = 0; i < n; i++)
            if (v[i] != 0.0) { ev_idx[n_ev] = i; ev_val[n_ev] = v[i]; n_ev++; }
        if (yrec) memcpy(yrec, v, (size_t)n * sizeof(double));
    } else {
        if (fs) {
            SK_PASS2(SK_FIRE_BN)
        } else if (P->uniform) {
            const double thr0 = thr[0];
            SK_PASS2(SK_FIRE_SAME)
        } else {
            SK_PASS2(SK_FIRE_EACH)
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

/* ---- crossbar projection: noisy analog MVM, DAC per row, ADC per column --------------------- */

/* SplitMix64's finaliser (Steele, Lea & Flood, OOPSLA 2014): a bijective 64-bit mix, so a
 * counter hashed through it is a stream that needs no state and no thread's order. */
static inline uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* One standard normal draw per (seed, stream, sample, step, row block, bit, column): Box-Muller
 * on two uniforms taken from the hash (u1 in (0, 1], so the log is finite). */
static double xb_normal(uint64_t seed, uint64_t stream, uint64_t b, uint64_t t, uint64_t rb, uint64_t bit,
                        uint64_t col) {
    uint64_t h = mix64(seed ^ mix64(stream));
    h = mix64(h ^ b);
    h = mix64(h ^ t);
    h = mix64(h ^ ((rb << 8) | bit));
    h = mix64(h ^ col);
    const uint64_t h2 = mix64(h ^ 0xD1B54A32D192ED03ULL);
    const double u1 = ((double)(h >> 11) + 1.0) * 0x1.0p-53, u2 = (double)(h2 >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Round half away from zero (how spikec.ir and the ADC model round). */
static inline double round_away(double v) { return v < 0 ? -floor(-v + 0.5) : floor(v + 0.5); }

/* One step of a crossbar projection for the events (idx[e], x[e]) of its source.
 *
 * DAC: each input becomes a sign and a magnitude code min(round(|x| / in_lsb), 2^in_bits - 1),
 * applied bit-serially, one tile read per bit plane that has an active row.  A read sums, per
 * column, the active rows' conductance differences (sign x w), plus the read noise of the
 * 2 x active devices (independent Gaussians of sigma read_sigma each: their sum is one draw of
 * sigma read_sigma * sqrt(2 x active)).  ADC: q = round(sum / adc_lsb), clipped to
 * +-(2^(adc_bits-1) - 1); the digital periphery adds q * adc_lsb * 2^bit * in_lsb into out.
 * With adc_lsb = in_lsb = 1, integer weights, no noise and no clipping this is the exact
 * integer product, which is what makes the fixed-point build bit-exact with the reference. */
static void xb_mvm(const sk_proj *J, const int32_t *idx, const double *x, int32_t n_ev, int32_t b, int32_t t,
                   double *out, double *col, int64_t *code, int64_t *pc, int64_t *cc) {
    const int32_t R = J->xb_rows, G = J->xb_groups, nd = J->n_dst;
    const int32_t n_rb = (J->n_src + R - 1) / R;
    const int64_t in_max = ((int64_t)1 << J->xb_in_bits) - 1;
    const double qmax = ldexp(1.0, J->xb_adc_bits - 1) - 1.0;
    int64_t *tiles = J->xb_tiles ? J->xb_tiles + (int64_t)b * n_rb * G * SK_NCOUNTERS : NULL;
    for (int32_t e = 0; e < n_ev; e++) {
        const double m = round_away(fabs(x[e]) / J->xb_in_lsb);
        code[e] = m > (double)in_max ? in_max : (int64_t)m;
        if (m > (double)in_max) pc[SK_C_CLIPS]++;
    }
    for (int32_t rb = 0; rb < n_rb; rb++) {
        for (int32_t bit = 0; bit < J->xb_in_bits; bit++) {
            int64_t active = 0;
            memset(col, 0, (size_t)nd * sizeof(double));
            for (int32_t e = 0; e < n_ev; e++) {
                if (idx[e] / R != rb || !((code[e] >> bit) & 1)) continue;
                const double *row = J->w_f + (int64_t)idx[e] * nd;
                if (x[e] < 0) for (int32_t j = 0; j < nd; j++) col[j] -= row[j];
                else for (int32_t j = 0; j < nd; j++) col[j] += row[j];
                active++;
            }
            if (!active) continue;
            const double noise = J->xb_read_sigma * sqrt(2.0 * (double)active);
            const double scale = J->xb_adc_lsb * ldexp(J->xb_in_lsb, bit);
            for (int32_t j = 0; j < nd; j++) {
                double s = col[j];
                if (noise > 0) s += noise * xb_normal(J->xb_seed, (uint64_t)J->xb_stream, (uint64_t)b, (uint64_t)t,
                                                      (uint64_t)rb, (uint64_t)bit, (uint64_t)j);
                double q = round_away(s / J->xb_adc_lsb);
                if (q > qmax || q < -qmax) {
                    q = q > 0 ? qmax : -qmax;
                    pc[SK_C_CLIPS]++;
                    const int32_t g = J->xb_group[j];
                    cc[(int64_t)J->xb_group_core[g] * SK_NCOUNTERS + SK_C_CLIPS]++;
                    if (tiles) tiles[((int64_t)rb * G + g) * SK_NCOUNTERS + SK_C_CLIPS]++;
                }
                out[j] += q * scale;
            }
            for (int32_t g = 0; g < G; g++) {
                const int64_t cols = J->xb_group_cols[g];
                int64_t *c = cc + (int64_t)J->xb_group_core[g] * SK_NCOUNTERS;
                c[SK_C_CELL_READS] += 2 * active * cols;
                c[SK_C_DAC] += active;
                c[SK_C_ADC] += cols;
                c[SK_C_XB_READS] += 1;
                if (tiles) {
                    int64_t *tc = tiles + ((int64_t)rb * G + g) * SK_NCOUNTERS;
                    tc[SK_C_CELL_READS] += 2 * active * cols;
                    tc[SK_C_DAC] += active;
                    tc[SK_C_ADC] += cols;
                    tc[SK_C_XB_READS] += 1;
                }
            }
            pc[SK_C_CELL_READS] += 2 * active * nd;
            pc[SK_C_DAC] += active * G;
            pc[SK_C_ADC] += nd;
            pc[SK_C_XB_READS] += G;
        }
    }
}

/* Work buffers of the crossbar kernel, sized for the largest crossbar projection of a run. */
typedef struct {
    double *x, *col, *out;
    int64_t *code;
} xb_scratch;

/* ---- Xylo Audio 2's integer neuron (SK_XYLO) ---------------------------------------------- */

/* The arithmetic of targets/xylo/reference.py (checked there against SynSense's xylosim), which
 * tests/runtime/test_xylo_kernel.py holds this code to, state for state.  Registers are 16-bit
 * and every addition saturates to [-2^15, 2^15 - 1], one addition at a time, so a population's
 * input cannot be summed ahead in the delay ring as other kernels' is: its sources' events wait
 * in a queue per ring slot and are added, in arrival order, into the currents when it updates.
 * Arrival order is population order, then source index: Xylo's order (inputs, then hidden
 * neurons by index) when the populations are listed as the chip numbers its neurons. */

#define XY_MIN (-32768)
#define XY_MAX 32767

static inline int64_t xy_sat(int64_t x) { return x < XY_MIN ? XY_MIN : (x > XY_MAX ? XY_MAX : x); }

/* How much a register decays in one step: x >> s (rounding down, written without shifting a
 * negative number), and at least one step toward zero. */
static inline int64_t xy_decay(int64_t x, int64_t s) {
    const int64_t d = x >= 0 ? (x >> s) : -(((-x) - 1) >> s) - 1;
    return (d == 0 && x != 0) ? (x > 0 ? 1 : -1) : d;
}

/* Events waiting for a xylo population, per ring slot: at most one per (projection, source
 * neuron), so a slot holds `cap` = the incoming projections' source neurons. */
typedef struct {
    int32_t *proj, *idx;  /* projection and source neuron of each queued event */
    int64_t *val;         /* its payload: a count of events */
    int32_t *n;           /* events queued in each slot */
    int64_t cap;
} xy_queue;

static void xy_enqueue(xy_queue *q, int32_t proj, const int32_t *idx, const int64_t *val, int32_t n_ev,
                       int32_t slot) {
    const int64_t at = (int64_t)slot * q->cap + q->n[slot];
    for (int32_t e = 0; e < n_ev; e++) {
        q->proj[at + e] = proj;
        q->idx[at + e] = idx[e];
        q->val[at + e] = val[e];
    }
    q->n[slot] += n_ev;
}

/* Add the events queued in `slot` into the currents: per event, count x weight into each of
 * its targets, saturated (count x weight equals count saturated additions of one weight, as
 * they share a sign).  Weights arrive shifted by the projection's weight shift. */
static void xy_deliver(const sk_proj *projs, xy_queue *q, int32_t slot, int64_t *i1, int64_t *i2) {
    const int64_t base = (int64_t)slot * q->cap;
    for (int32_t e = 0; e < q->n[slot]; e++) {
        const sk_proj *J = &projs[q->proj[base + e]];
        const int32_t i = q->idx[base + e];
        const int64_t cap = J->max_events, v = q->val[base + e];
        const int64_t n = v > cap ? cap : (v < -cap ? -cap : v);
        int64_t *cur = J->synapse ? i2 : i1;
        if (J->kind == SK_DENSE) {
            const int64_t *row = J->w_i + (int64_t)i * J->n_dst;
            for (int32_t j = 0; j < J->n_dst; j++) cur[j] = xy_sat(cur[j] + n * row[j]);
        } else { /* SK_SPARSE */
            for (int64_t k = J->row_ptr[i]; k < J->row_ptr[i + 1]; k++)
                cur[J->col[k]] = xy_sat(cur[J->col[k]] + n * J->w_i[k]);
        }
    }
    q->n[slot] = 0;
}

/* One step of a xylo population whose currents i1, i2 hold this step's delivered events:
 * decay the currents, then dv = sat(wrap16(-decay(v)) + i1 + i2), dv = sat(dv + bias),
 * v = sat(v + dv); then fire while v >= threshold, up to max_spikes times, subtracting the
 * threshold each time.  The event's payload is the number of spikes. */
static int32_t update_xylo(const sk_pop *P, int64_t *i1, int64_t *i2, int64_t *v, int32_t *ev_idx, int64_t *ev_val,
                           int64_t *yrec, int64_t *vrec, int64_t *urec, int64_t *pc, int64_t *cc) {
    int32_t n_ev = 0;
    const int64_t *d1 = P->dash_syn, *d2 = P->dash_syn2, *dm = P->dash_mem;
    const int64_t most = P->max_spikes;
    for (int32_t k = 0; k < P->n_segs; k++) {
        int64_t active = 0;
        const int32_t lo = P->seg_start[k], hi = P->seg_start[k + 1];
        for (int32_t i = lo; i < hi; i++) {
            const int64_t a1 = i1[i], a2 = d2 ? i2[i] : 0;
            i1[i] = a1 - xy_decay(a1, d1[i]);
            if (d2) i2[i] = a2 - xy_decay(a2, d2[i]);
            int64_t leak = -xy_decay(v[i], dm[i]);
            if (leak > XY_MAX) leak -= 65536; /* -(-2^15) in a 16-bit register is -2^15 */
            const int64_t dv = xy_sat(xy_sat(leak + i1[i] + (d2 ? i2[i] : 0)) + P->ibias[i]);
            int64_t vv = xy_sat(v[i] + dv);
            const int64_t th = P->ithr[i];
            int64_t n = 0;
            if (vv >= th) {
                n = th == 0 ? most : (vv - th) / th + 1;
                if (n > most) n = most;
                vv -= n * th;
            }
            v[i] = vv;
            active += (a1 != 0) | (a2 != 0) | (vv != 0);
            if (yrec) yrec[i] = n;
            if (vrec) vrec[i] = vv;
            if (urec) urec[i] = i1[i];
            if (n) { ev_idx[n_ev] = i; ev_val[n_ev] = n; n_ev++; }
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
#define SK_INTEGER 0
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
#undef SK_INTEGER

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
#define SK_INTEGER 1
#include "engine_impl.h"

int sk_run_float(const sk_run_args *args) { return sk_run_f(args); }
int sk_run_fixed(const sk_run_args *args) { return sk_run_i(args); }

/* ---- fan-out tables (runtime/fanout.py's rule, without its sort) ---------------------------- */

int sk_fanout(int32_t n_src, int32_t n_cores, int32_t n_parts, const sk_fan_part *parts, const int32_t *own,
              const int64_t *core_xy, int64_t *totals, int64_t *ptr, int64_t room, int32_t *core, int32_t *syn,
              int32_t *words) {
    const size_t nc = (size_t)(n_cores > 0 ? n_cores : 1);
    int64_t *seen = (int64_t *)malloc(nc * sizeof(int64_t));  /* the last source that touched each core */
    int64_t *c_syn = (int64_t *)malloc(nc * sizeof(int64_t)), *c_words = (int64_t *)malloc(nc * sizeof(int64_t));
    int32_t *touched = (int32_t *)malloc(nc * sizeof(int32_t));
    if (!seen || !c_syn || !c_words || !touched) {
        free(seen); free(c_syn); free(c_words); free(touched);
        return -1;
    }
    for (size_t c = 0; c < nc; c++) seen[c] = -1;
    int64_t at = 0;
    for (int32_t i = 0; i < n_src; i++) {
        int32_t n_t = 0;
        for (int32_t q = 0; q < n_parts; q++) {
            const sk_fan_part *J = &parts[q];
            const int64_t lo = J->dense ? (int64_t)i * J->n_dst : J->row_ptr[i];
            const int64_t hi = J->dense ? lo + J->n_dst : J->row_ptr[i + 1];
            for (int64_t k = lo; k < hi; k++) {
                const int32_t c = J->dst_core[J->dense ? k - lo : J->col[k]];
                if (seen[c] != i) { seen[c] = i; c_syn[c] = 0; c_words[c] = 0; touched[n_t++] = c; }
                c_syn[c] += J->nz[k];
                c_words[c] += 1;
            }
        }
        /* A message goes to each core holding a non-zero synapse; its words are every synapse
         * word read there, zero weights included. */
        int64_t *f = totals + (int64_t)i * SK_NFAN;
        for (int32_t k = 0; k < SK_NFAN; k++) f[k] = 0;
        const int32_t me = own[i];
        ptr[i] = at;
        for (int32_t e = 0; e < n_t; e++) {
            const int32_t c = touched[e];
            if (!c_syn[c]) continue;
            if (at >= room) { at = -2; goto done; }
            core[at] = c; syn[at] = (int32_t)c_syn[c]; words[at] = (int32_t)c_words[c];
            at++;
            f[SK_F_SYN] += c_syn[c];
            f[SK_F_WORDS] += c_words[c];
            if (c == me) { f[SK_F_LOCAL] += 1; continue; }
            const int64_t dx = llabs(core_xy[2 * (int64_t)c] - core_xy[2 * (int64_t)me]);
            const int64_t dy = llabs(core_xy[2 * (int64_t)c + 1] - core_xy[2 * (int64_t)me + 1]);
            f[SK_F_REMOTE] += 1;
            f[SK_F_HX] += dx;
            f[SK_F_HY] += dy;
            if (dx + dy > f[SK_F_HMAX]) f[SK_F_HMAX] = dx + dy;
        }
    }
    ptr[n_src] = at;
done:
    free(seen); free(c_syn); free(c_words); free(touched);
    return at < 0 ? (int)at : 0;
}
