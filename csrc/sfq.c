/* Pulse-level SFQ kernel (see sfq.h for the cell semantics). */
#include "sfq.h"
#include "engine.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t t;
    int64_t seq;
    int32_t cell;
    int32_t port;
} ev;

typedef struct {
    ev *e;
    int64_t n, cap, seq;
} heap;

static int before(const ev *x, const ev *y) {
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static int push(heap *h, int64_t t, int32_t cell, int32_t port) {
    if (h->n == h->cap) {
        int64_t cap = h->cap ? 2 * h->cap : 1024;
        ev *e = (ev *)realloc(h->e, (size_t)cap * sizeof(ev));
        if (!e) return 1;
        h->e = e;
        h->cap = cap;
    }
    int64_t i = h->n++;
    ev x = {t, h->seq++, cell, port};
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!before(&x, &h->e[p])) break;
        h->e[i] = h->e[p];
        i = p;
    }
    h->e[i] = x;
    return 0;
}

static ev pop(heap *h) {
    ev top = h->e[0];
    ev last = h->e[--h->n];
    int64_t i = 0;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(&h->e[c + 1], &h->e[c])) c++;
        if (!before(&h->e[c], &last)) break;
        h->e[i] = h->e[c];
        i = c;
    }
    if (h->n > 0) h->e[i] = last;
    return top;
}

/* splitmix64: a counter-based draw, so a synapse's pulses do not depend on other cells' draws. */
static uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Drop `bits` fraction bits toward zero (the fixed neuron's rounding, ir/fixed.py). */
static int64_t drop_toward_zero(int64_t p, int32_t bits) {
    return p >= 0 ? (p >> bits) : -((-p) >> bits);
}

typedef struct {
    const sk_sfq_args *a;
    heap h;
    int64_t *busy;      /* merger: end of its current window */
    int64_t *draws;     /* synapse: pulses drawn so far (the RNG counter) */
    int64_t *v, *acc;   /* neuron state and fluxons of this period */
    int64_t *cnt;       /* this sample's counters */
    uint64_t sample_key;
} run_state;

/* A pulse emitted by `from` at `t` travels to `to` through `to`'s delay line. */
static int send(run_state *s, int32_t to, int32_t port, int64_t t) {
    if (to < 0) return 0;
    return push(&s->h, t + s->a->pre_delay_fs[to], to, port);
}

static int emit(run_state *s, int32_t c, int64_t t) {
    const sk_sfq_args *a = s->a;
    s->cnt[SFQ_C_SWITCH + a->type[c]] += a->jj[c];
    s->cnt[SFQ_C_PULSES + a->type[c]] += 1;
    if (send(s, a->out0[c], a->port[c], t + a->delay_fs[c])) return 1;
    return send(s, a->out1[c], a->port[c], t + a->delay_fs[c]);
}

static int process(run_state *s, ev e) {
    const sk_sfq_args *a = s->a;
    int32_t c = e.cell;
    s->cnt[SFQ_C_EVENTS] += 1;
    s->cnt[SFQ_C_SWITCH + SFQ_JTL] += (int64_t)a->pre_jtl[c] * a->jtl_jj;
    switch (a->type[c]) {
    case SFQ_MERGE:
        /* A pulse inside the window of the last one is swallowed (one output for the two). */
        if (e.t < s->busy[c]) {
            s->cnt[SFQ_C_COLLISIONS] += 1;
            return 0;
        }
        s->busy[c] = e.t + a->window_fs;
        return emit(s, c, e.t);
    case SFQ_SYN: {
        int32_t level = a->param[c];
        int64_t t = e.t;
        if (!a->stochastic) {
            for (int32_t m = 0; m < level; m++, t += a->spacing_fs)
                if (emit(s, c, t)) return 1;
            return 0;
        }
        /* Each slot passes with probability level / slots: compare 32 random bits with the bound. */
        uint64_t bound = ((uint64_t)level << 32) / (uint64_t)a->slots;
        for (int32_t m = 0; m < a->slots; m++, t += a->spacing_fs) {
            uint64_t r = mix(s->sample_key ^ mix(((uint64_t)c << 32) ^ (uint64_t)s->draws[c]++)) >> 32;
            if (r < bound) {
                if (emit(s, c, t)) return 1;
            } else {
                /* the blocked pulse escapes through one junction */
                s->cnt[SFQ_C_BLOCKED] += 1;
                s->cnt[SFQ_C_SWITCH + SFQ_SYN] += 1;
            }
        }
        return 0;
    }
    case SFQ_NEURON:
        /* the loop's input junction switches once per stored (or annihilated) fluxon */
        s->acc[a->param[c]] += e.port ? -1 : 1;
        s->cnt[SFQ_C_FLUXONS] += 1;
        s->cnt[SFQ_C_SWITCH + SFQ_NEURON] += 1;
        return 0;
    default: /* JTL, splitter */
        return emit(s, c, e.t);
    }
}

static int drain(run_state *s, int64_t until) {
    while (s->h.n > 0 && s->h.e[0].t < until)
        if (process(s, pop(&s->h))) return 1;
    return 0;
}

/* The clock edge of step `t`: every storage loop is read out (see sfq.h). */
static int clock_edge(run_state *s, int32_t b, int32_t t, int64_t now) {
    const sk_sfq_args *a = s->a;
    uint8_t *out = a->spikes + ((int64_t)b * a->steps + t) * a->n_neurons;
    for (int32_t i = 0; i < a->n_neurons; i++) {
        int64_t v = drop_toward_zero(s->v[i] * (((int64_t)1 << a->decay_bits) - a->dv[i]), a->decay_bits);
        /* fluxons beyond the loop's capacity cannot count: clamping first keeps the shift in range */
        int64_t acc = s->acc[i] > a->v_max ? a->v_max : (s->acc[i] < -a->v_max ? -a->v_max : s->acc[i]);
        v += acc * ((int64_t)1 << a->input_shift) + a->bias[i];
        if (v > a->v_max) v = a->v_max;
        if (v < -a->v_max) v = -a->v_max;
        s->acc[i] = 0;
        out[i] = (uint8_t)(v > a->threshold[i]);
        if (out[i]) {
            v = a->reset_mode[i] == SK_RESET_SUBTRACT ? v - a->threshold[i] : a->v_reset[i];
            if (emit(s, a->neuron_cell[i], now)) return 1;
        }
        s->v[i] = v;
    }
    return 0;
}

static int run_sample(run_state *s, int32_t b) {
    const sk_sfq_args *a = s->a;
    memset(s->v, 0, (size_t)a->n_neurons * sizeof(int64_t));
    memset(s->acc, 0, (size_t)a->n_neurons * sizeof(int64_t));
    memset(s->draws, 0, (size_t)a->n_cells * sizeof(int64_t));
    for (int32_t c = 0; c < a->n_cells; c++) s->busy[c] = INT64_MIN;
    s->h.n = 0;
    s->h.seq = 0;
    s->cnt = a->counters + (int64_t)b * SFQ_NCOUNTERS;
    s->sample_key = mix(a->seed ^ mix((uint64_t)b));
    for (int32_t t = 0; t < a->steps; t++) {
        int64_t now = (int64_t)t * a->period_fs;
        if (drain(s, now) || clock_edge(s, b, t, now)) return 1;
        const uint8_t *in = a->inputs + ((int64_t)b * a->steps + t) * a->n_inputs;
        for (int32_t k = 0; k < a->n_inputs; k++)
            if (in[k] && send(s, a->input_cell[k], 0, now)) return 1;
    }
    /* Pulses still in flight after the last edge happen too: the counters include them. */
    return drain(s, INT64_MAX);
}

int sk_sfq_run(const sk_sfq_args *a) {
    run_state s;
    memset(&s, 0, sizeof s);
    s.a = a;
    size_t nc = (size_t)(a->n_cells > 0 ? a->n_cells : 1), nn = (size_t)(a->n_neurons > 0 ? a->n_neurons : 1);
    s.busy = (int64_t *)malloc(nc * sizeof(int64_t));
    s.draws = (int64_t *)malloc(nc * sizeof(int64_t));
    s.v = (int64_t *)malloc(nn * sizeof(int64_t));
    s.acc = (int64_t *)malloc(nn * sizeof(int64_t));
    int code = !(s.busy && s.draws && s.v && s.acc);
    for (int32_t b = a->b_begin; !code && b < a->b_end; b++) code = run_sample(&s, b);
    free(s.busy);
    free(s.draws);
    free(s.v);
    free(s.acc);
    free(s.h.e);
    return code;
}
