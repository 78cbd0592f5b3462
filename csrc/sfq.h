/* spikec pulse-level SFQ kernel: a netlist of superconducting cells run by an event queue.
 *
 * Time is an integer number of femtoseconds (so picosecond delays such as 8.2 ps stay exact).
 * A pulse is one event (time, cell, port) in a binary min-heap ordered by time, then by the
 * order it was scheduled in, so a run is reproducible whatever the ties.
 *
 * Cells (SFQ_*): a JTL passes a pulse on; a splitter sends it to both outputs; a merger
 * (confluence buffer) passes a pulse unless one passed less than `window_fs` before, in which
 * case the two make one output and one collision is counted; a synapse turns one input pulse
 * into `level` pulses `spacing_fs` apart (stochastic: each of `slots` pulse slots passes with
 * probability level/slots, a counter-based RNG seeded per run); a neuron is a flux-storage loop
 * that counts fluxons (port 0 adds one, port 1, inhibition, removes one) and is read out by the
 * clock: at every clock edge v = decay(v) + (fluxons << shift) + bias, a pulse when v > threshold,
 * then reset.  Every cell has a delay line in front of it (`pre_delay_fs`, `pre_jtl` JTL stages
 * of path balancing) that its incoming pulses cross first.
 *
 * All indices are validated in Python (spikec.runtime.sfq); the kernel trusts them.
 */
#ifndef SPIKEC_SFQ_H
#define SPIKEC_SFQ_H

#include <stdint.h>

#define SFQ_JTL 0
#define SFQ_SPLIT 1
#define SFQ_MERGE 2
#define SFQ_SYN 3
#define SFQ_NEURON 4
#define SFQ_NTYPES 5

/* Per-sample counter columns (counters: batch x SFQ_NCOUNTERS). */
#define SFQ_C_SWITCH 0      /* JJ switches by cell type: columns 0..4 (SFQ_JTL..SFQ_NEURON) */
#define SFQ_C_PULSES 5      /* pulses emitted by cell type: columns 5..9 */
#define SFQ_C_COLLISIONS 10 /* pulses swallowed by a busy merger */
#define SFQ_C_BLOCKED 11    /* pulse slots a stochastic synapse did not pass */
#define SFQ_C_FLUXONS 12    /* fluxons that reached a neuron's storage loop */
#define SFQ_C_EVENTS 13     /* events processed by the queue */
#define SFQ_NCOUNTERS 14

typedef struct {
    /* netlist */
    int32_t n_cells;
    const int32_t *type;          /* SFQ_* */
    const int64_t *delay_fs;      /* input to output of the cell */
    const int64_t *pre_delay_fs;  /* delay line in front of the cell */
    const int32_t *jj;            /* junctions switched per pulse the cell emits */
    const int32_t *pre_jtl;       /* JTL stages of that delay line (2 JJ each, counted as JTL) */
    const int32_t *out0;          /* destination cells (-1: none) */
    const int32_t *out1;          /* second output of a splitter (-1 otherwise) */
    const int8_t *port;           /* port of the outputs that are neurons: 0 excitatory, 1 inhibitory */
    const int32_t *param;         /* synapse: level (pulses per input); neuron: its neuron index */
    int32_t jtl_jj;               /* JJs per JTL stage */
    int64_t window_fs;            /* merger window */
    int64_t spacing_fs;           /* gap between the pulses of one synapse */
    int32_t slots;                /* a synapse's pulse slots (its largest level) */
    int32_t stochastic;
    uint64_t seed;
    /* neurons */
    int32_t n_neurons;
    const int32_t *neuron_cell;
    const int64_t *threshold, *v_reset, *dv, *bias;
    const int32_t *reset_mode;    /* SK_RESET_VALUE or SK_RESET_SUBTRACT (engine.h) */
    int32_t decay_bits, input_shift;
    int64_t v_max;                /* the storage loop saturates at +-v_max */
    /* inputs: batch x steps x n_inputs pulse flags, injected into input_cell at each clock edge */
    int32_t n_inputs;
    const int32_t *input_cell;    /* -1: channel drives nothing */
    const uint8_t *inputs;
    /* run */
    int64_t period_fs;
    int32_t batch, b_begin, b_end, steps;
    uint8_t *spikes;              /* out: batch x steps x n_neurons */
    int64_t *counters;            /* out: batch x SFQ_NCOUNTERS */
} sk_sfq_args;

/* 0 on success, 1 when memory could not be allocated. */
int sk_sfq_run(const sk_sfq_args *a);

#endif
