/* spikec C engine: one time-stepped, event-driven emulator for every target.
 *
 * A program is a list of populations in execution order and a list of projections between
 * them.  Each step, every population reads its delay-ring slot for this step, updates its
 * neurons, and scatters its events (spikes, or graded integer/float payloads) through its
 * outgoing projections into the target populations' rings, `delay` steps ahead.  A
 * zero-delay projection must point to a later population (checked in Python), so the work
 * of a step is proportional to the events it carries, not to the synapse count.
 *
 * Two arithmetic builds of the same code: double (float kernels) and int64 (fixed-point
 * kernels, bit-exact with spikec.ir's reference fixed mode).  All validation is done in
 * Python (spikec.runtime.program); the engine trusts the indices it is given.
 */
#ifndef SPIKEC_ENGINE_H
#define SPIKEC_ENGINE_H

#include <stdint.h>

#define SK_INPUT 0
#define SK_PASS 1
#define SK_CUBA_FLOAT 2
#define SK_CUBA_FIXED 3
#define SK_XYLO 4  /* Xylo Audio 2's integer neuron (int64 build only; see engine.c and runtime/xylo.py) */

#define SK_RESET_NONE 0
#define SK_RESET_VALUE 1
#define SK_RESET_SUBTRACT 2
#define SK_RESET_SUBTRACT_NEXT 3

#define SK_DENSE 0
#define SK_SPARSE 1
#define SK_CONV 2
#define SK_CROSSBAR 3  /* a ReRAM crossbar: noisy analog MVM per tile, DAC in, ADC per column (see engine.c) */

#define SK_ROUND_TOWARD_ZERO 0
#define SK_ROUND_FLOOR 1
#define SK_ROUND_NEAREST 2
/* Overflow of a fixed-point register (runtime.program.OVERFLOWS, in this order). */
#define SK_SATURATE 0
#define SK_WRAP 1
#define SK_LAVA_WRAP 2

/* Counter slots, per (sample, step, population) and per (sample, step, core). */
#define SK_C_SYNOPS 0     /* synaptic events on non-zero weights (source pop / destination core) */
#define SK_C_NU_ACTIVE 1  /* neuron updates with non-zero input or non-zero state after it (xylo: non-zero
                           * currents after delivery or membrane after the update) */
#define SK_C_NU_IDLE 2    /* neuron updates with zero input that leave a zero state */
#define SK_C_SPIKES 3     /* events emitted (spikes, or non-zero graded outputs; xylo: neurons that fire,
                           * one event however many spikes it carries) */
#define SK_C_MSG_LOCAL 4  /* event deliveries to the source's own core */
#define SK_C_MSG_REMOTE 5 /* event deliveries to another core (one per destination core) */
#define SK_C_HOPS_X 6     /* Manhattan hops along x of remote messages */
#define SK_C_HOPS_Y 7
#define SK_C_HOPS_MAX 8   /* longest route of any message (max, not sum) */
#define SK_C_WORDS 9      /* synapse memory words read */
#define SK_C_MSG_IN 10    /* messages received (booked to the destination core; to the source population) */
/* Crossbar projections only, booked to the source population and to each tile's core (and tile). */
#define SK_C_CELL_READS 11 /* devices read: 2 (a differential pair) x active rows x columns, per tile read */
#define SK_C_DAC 12        /* row-driver (DAC) pulses: active rows of a tile, per input bit read */
#define SK_C_ADC 13        /* column conversions: a tile's columns, per input bit read */
#define SK_C_XB_READS 14   /* tile reads: one per tile per input bit plane with an active row */
#define SK_C_CLIPS 15      /* conversions clipped at the ADC's full scale, plus inputs clipped by the DAC */
#define SK_NCOUNTERS 16

/* Per-neuron fan-out summary columns (fan_tot, int64, size x SK_NFAN). */
#define SK_F_SYN 0
#define SK_F_WORDS 1
#define SK_F_LOCAL 2
#define SK_F_REMOTE 3
#define SK_F_HX 4
#define SK_F_HY 5
#define SK_F_HMAX 6
#define SK_NFAN 7

typedef struct {
    int32_t kernel, size, spiking, reset, cuba, ring;
    int32_t uniform;  /* float: alpha_syn, gain_syn, alpha, gain, bias, v_threshold equal for all neurons */
    /* float parameters (NULL where unused; fire_* NULL = no membrane batch-norm) */
    const double *alpha_syn, *gain_syn, *alpha, *gain, *bias, *thr, *v_reset;
    const double *fire_scale, *fire_shift, *input_bias, *v_init, *u_init;
    /* fixed-point parameters */
    const int64_t *du, *dv, *ibias, *ithr, *iv_reset, *iinput_bias, *iv_init, *iu_init;
    int32_t decay_bits, input_shift, u_bits, v_bits, u_wrap, v_wrap, rounding;
    /* xylo (also ibias, and ithr: it fires while v >= ithr): bit-shift decays of the synaptic
     * currents (dash_syn2 NULL = one current) and of the membrane; most spikes per step */
    const int64_t *dash_syn, *dash_syn2, *dash_mem;
    int32_t max_spikes;
    /* core segments: neurons [seg_start[k], seg_start[k+1]) sit on core seg_core[k] */
    int32_t n_segs;
    const int32_t *seg_start, *seg_core;
    /* fan-out summary for the counters */
    const int64_t *fan_tot;           /* size x SK_NFAN */
    const int64_t *fan_ptr;           /* size + 1 */
    const int32_t *fan_core;          /* destination core of each entry */
    const int32_t *fan_syn, *fan_words;  /* per entry: at most one source's synapse words, < 2^31 */
    /* input injection (kernel SK_INPUT): (batch, in_steps, size) */
    const double *in_f;
    const int64_t *in_i;
    int32_t in_steps;
    /* recording, (batch, steps, size) each; NULL = not recorded */
    double *rec_out_f, *rec_v_f, *rec_u_f;
    int64_t *rec_out_i, *rec_v_i, *rec_u_i;
    int64_t *rec_count;     /* (batch, size) events per neuron over the run; NULL = off */
} sk_pop;

typedef struct {
    int32_t kind, src, dst, delay_base, has_delay;
    int32_t n_src, n_dst;
    /* dense: (n_src, n_dst) row-major, i.e. the transpose of the (out, in) weight matrix */
    const double *w_f;
    const int64_t *w_i;
    const int32_t *delay;   /* same layout as the weights; NULL = all zero */
    /* sparse: CSR by source */
    const int64_t *row_ptr;
    const int32_t *col;
    /* into a xylo population: the synaptic current fed (0 or 1), and the most events one
     * source's payload counts (a larger count delivers this many) */
    int32_t synapse, max_events;
    /* conv: weight (cout, cin/groups, kh, kw) */
    int32_t cin, hin, win, cout, hout, wout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    /* crossbar: w_f (both arithmetics) holds the programmed conductance differences in weight
     * units, dense (n_src, n_dst).  Source rows [r * xb_rows, (r + 1) * xb_rows) and the target
     * neurons of column group g (those on one core) form tile r * xb_groups + g. */
    int32_t xb_rows, xb_groups, xb_in_bits, xb_adc_bits, xb_stream;
    double xb_in_lsb, xb_adc_lsb, xb_read_sigma;
    uint64_t xb_seed;
    const int32_t *xb_group;       /* n_dst: column group of each target neuron */
    const int32_t *xb_group_core;  /* xb_groups: the core of each column group */
    const int32_t *xb_group_cols;  /* xb_groups: target neurons in each column group */
    int64_t *xb_tiles;             /* (batch, tiles, SK_NCOUNTERS) counters per tile over the run; NULL = off */
} sk_proj;

typedef struct {
    int32_t n_pops, n_projs, n_cores;
    int32_t batch, b_begin, b_end, steps, per_step;
    sk_pop *pops;
    sk_proj *projs;
    int64_t *pop_counters;   /* (batch, per_step ? steps : 1, n_pops, SK_NCOUNTERS) */
    int64_t *core_counters;  /* (batch, per_step ? steps : 1, n_cores, SK_NCOUNTERS) */
} sk_run_args;

/* Both return 0 on success, -1 if memory could not be allocated. */
int sk_run_float(const sk_run_args *args);
int sk_run_fixed(const sk_run_args *args);

/* One outgoing projection of a population, by source neuron, for sk_fanout: dense (every
 * source reads n_dst words, targets 0..n_dst-1) or CSR (source i reads words
 * row_ptr[i]..row_ptr[i+1]-1, word k reaching target col[k]); nz[k] = 1 where word k's weight
 * is non-zero; dst_core[j] = the core of target j. */
typedef struct {
    int32_t dense, n_dst;
    const int64_t *row_ptr;
    const int32_t *col;
    const uint8_t *nz;
    const int32_t *dst_core;
} sk_fan_part;

/* The fan-out table of a population of n_src neurons on cores own[i] (runtime/fanout.py's
 * FanoutTable), built in one pass per source without sorting: totals (n_src x SK_NFAN), ptr
 * (n_src + 1) and the entries core, syn, words, per source in the order their cores first
 * appear, into entry arrays of `room` entries (sum_i min(words read by source i, n_cores) is
 * enough).  core_xy: (n_cores, 2).  Returns 0, -1 if memory ran out, -2 if room was short. */
int sk_fanout(int32_t n_src, int32_t n_cores, int32_t n_parts, const sk_fan_part *parts, const int32_t *own,
              const int64_t *core_xy, int64_t *totals, int64_t *ptr, int64_t room, int32_t *core, int32_t *syn,
              int32_t *words);

#endif
