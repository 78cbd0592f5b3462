/* The arithmetic-independent part of the engine, compiled once per value type.
 *
 * Included by engine.c with VAL (double or int64_t), SK_FN(name) (name suffix), REC_OUT,
 * REC_V, REC_U, INPUT_OF, INPUT_BIAS_OF (field selectors), NEURON_UPDATE (the kernel of
 * this arithmetic) and SK_INTEGER (1 in the int64 build, the only one that runs xylo
 * populations) defined.  Keeping one copy of ring buffers, delivery and counters is what
 * guarantees float and fixed programs are timed and counted the same way.
 */

typedef struct {
    VAL *acc;          /* ring x size input accumulators */
    VAL *u, *v, *z;    /* neuron state (NULL for input and pass populations); xylo: u and z are
                        * the two synaptic currents */
    xy_queue q;        /* xylo: the events waiting for each ring slot (engine.c) */
    int32_t *ev_idx;   /* the events of the population's latest update */
    VAL *ev_val;
    int32_t n_ev;
    int32_t *core;     /* core of each neuron, expanded from the segments */
    int64_t *fired;    /* counters over the whole run only: events of each neuron in this sample */
    int32_t *outs;     /* indices of outgoing projections */
    int32_t n_outs;
} SK_FN(state);

/* out[j] += the rows w + idx[e] * n_dst of every event, for spikes (payload 1, where
 * row * 1 == row exactly).  Each out[j] still receives its events in order, one addition at a
 * time, so it rounds as the plain loop does; but a block of SK_BLOCK outputs stays in registers
 * across all the events, instead of a load and a store of out[j] per event. */
#define SK_BLOCK 16
#if defined(__GNUC__)
/* Four values per vector (GCC's vector extension: AVX2 registers in the AVX2 clone, pairs of
 * SSE2 registers otherwise); element-wise addition rounds as scalar addition does. */
typedef VAL SK_FN(vec) __attribute__((vector_size(4 * sizeof(VAL))));
#define SK_LANES 4
#endif
SK_VECTORIZE
static void SK_FN(dense_spikes)(VAL *restrict out, const VAL *restrict w, int64_t n_dst,
                                const int32_t *restrict idx, int32_t n_ev) {
    int64_t j0 = 0;
#if defined(__GNUC__)
    for (; j0 + SK_BLOCK <= n_dst; j0 += SK_BLOCK) {
        SK_FN(vec) acc[SK_BLOCK / SK_LANES];
        memcpy(acc, out + j0, sizeof acc);
        for (int32_t e = 0; e < n_ev; e++) {
            const VAL *restrict row = w + (int64_t)idx[e] * n_dst + j0;
            for (int32_t q = 0; q < SK_BLOCK / SK_LANES; q++) {
                SK_FN(vec) r;
                memcpy(&r, row + q * SK_LANES, sizeof r);
                acc[q] += r;
            }
        }
        memcpy(out + j0, acc, sizeof acc);
    }
    /* Outputs left over (all of a layer narrower than a block, such as a 10-class readout): one
     * vector at a time, then one value at a time, each kept in a register over the events. */
    for (; j0 + SK_LANES <= n_dst; j0 += SK_LANES) {
        SK_FN(vec) acc;
        memcpy(&acc, out + j0, sizeof acc);
        for (int32_t e = 0; e < n_ev; e++) {
            SK_FN(vec) r;
            memcpy(&r, w + (int64_t)idx[e] * n_dst + j0, sizeof r);
            acc += r;
        }
        memcpy(out + j0, &acc, sizeof acc);
    }
#endif
    for (; j0 < n_dst; j0++) {
        VAL acc = out[j0];
        for (int32_t e = 0; e < n_ev; e++) acc += w[(int64_t)idx[e] * n_dst + j0];
        out[j0] = acc;
    }
}

/* Scatter one population's events through one projection into the target's ring. */
static void SK_FN(deliver)(const sk_proj *J, const SK_FN(state) *src, int32_t n_ev,
                           SK_FN(state) *dst, int32_t dst_size, int32_t ring, int32_t t) {
    const VAL *w = SK_W(J);
    if (J->kind == SK_DENSE) {
        const int64_t n_dst = J->n_dst;
        if (!J->has_delay) {
            VAL *out = dst->acc + (int64_t)((t + J->delay_base) % ring) * dst_size;
            int32_t spikes = 1;
            for (int32_t e = 0; e < n_ev && spikes; e++) spikes = src->ev_val[e] == 1;
            if (spikes) {
                SK_FN(dense_spikes)(out, w, n_dst, src->ev_idx, n_ev);
                return;
            }
            for (int32_t e = 0; e < n_ev; e++) {
                const VAL *row = w + (int64_t)src->ev_idx[e] * n_dst;
                const VAL p = src->ev_val[e];
                for (int64_t j = 0; j < n_dst; j++) out[j] += row[j] * p;
            }
        } else {
            for (int32_t e = 0; e < n_ev; e++) {
                const int64_t off = (int64_t)src->ev_idx[e] * n_dst;
                const VAL p = src->ev_val[e];
                for (int64_t j = 0; j < n_dst; j++) {
                    const int32_t slot = (t + J->delay_base + J->delay[off + j]) % ring;
                    dst->acc[(int64_t)slot * dst_size + j] += w[off + j] * p;
                }
            }
        }
    } else if (J->kind == SK_SPARSE) {
        if (!J->has_delay) {
            VAL *out = dst->acc + (int64_t)((t + J->delay_base) % ring) * dst_size;
            for (int32_t e = 0; e < n_ev; e++) {
                const int32_t i = src->ev_idx[e];
                const VAL p = src->ev_val[e];
                const int64_t lo = J->row_ptr[i], hi = J->row_ptr[i + 1];
                if (p == 1)  /* a spike: w * 1 == w exactly */
                    for (int64_t k = lo; k < hi; k++) out[J->col[k]] += w[k];
                else
                    for (int64_t k = lo; k < hi; k++) out[J->col[k]] += w[k] * p;
            }
            return;
        }
        for (int32_t e = 0; e < n_ev; e++) {
            const int32_t i = src->ev_idx[e];
            const VAL p = src->ev_val[e];
            if (!J->has_delay) {
                VAL *out = dst->acc + (int64_t)((t + J->delay_base) % ring) * dst_size;
                for (int64_t k = J->row_ptr[i]; k < J->row_ptr[i + 1]; k++) out[J->col[k]] += w[k] * p;
            } else {
                for (int64_t k = J->row_ptr[i]; k < J->row_ptr[i + 1]; k++) {
                    const int32_t slot = (t + J->delay_base + J->delay[k]) % ring;
                    dst->acc[(int64_t)slot * dst_size + J->col[k]] += w[k] * p;
                }
            }
        }
    } else { /* SK_CONV: the input event at (c, y, x) reaches every output its kernel covers */
        VAL *out = dst->acc + (int64_t)((t + J->delay_base) % ring) * dst_size;
        const int32_t cin_g = J->cin / J->groups, cout_g = J->cout / J->groups;
        const int32_t plane = J->hin * J->win;
        for (int32_t e = 0; e < n_ev; e++) {
            const int32_t i = src->ev_idx[e];
            const VAL p = src->ev_val[e];
            const int32_t c = i / plane, y = (i / J->win) % J->hin, x = i % J->win;
            const int32_t g = c / cin_g, ci = c % cin_g;
            for (int32_t ky = 0; ky < J->kh; ky++) {
                const int32_t ny = y + J->ph - ky * J->dh;
                if (ny < 0 || ny % J->sh) continue;
                const int32_t oy = ny / J->sh;
                if (oy >= J->hout) continue;
                for (int32_t kx = 0; kx < J->kw; kx++) {
                    const int32_t nx = x + J->pw - kx * J->dw;
                    if (nx < 0 || nx % J->sw) continue;
                    const int32_t ox = nx / J->sw;
                    if (ox >= J->wout) continue;
                    for (int32_t co = g * cout_g; co < (g + 1) * cout_g; co++) {
                        const VAL wk = w[(((int64_t)co * cin_g + ci) * J->kh + ky) * J->kw + kx];
                        out[((int64_t)co * J->hout + oy) * J->wout + ox] += wk * p;
                    }
                }
            }
        }
    }
}

/* One step of a crossbar projection (engine.c, xb_mvm), computed in double whatever the
 * arithmetic: in the fixed build every term it adds is a whole number (integer LSBs). */
static void SK_FN(deliver_xb)(const sk_proj *J, const SK_FN(state) *src, int32_t n_ev, SK_FN(state) *dst,
                              int32_t dst_size, int32_t ring, int32_t b, int32_t t, const xb_scratch *w,
                              int64_t *pc, int64_t *cc) {
    if (!n_ev) return;
    for (int32_t e = 0; e < n_ev; e++) w->x[e] = (double)src->ev_val[e];
    memset(w->out, 0, (size_t)J->n_dst * sizeof(double));
    xb_mvm(J, src->ev_idx, w->x, n_ev, b, t, w->out, w->col, w->code, pc, cc);
    VAL *out = dst->acc + (int64_t)((t + J->delay_base) % ring) * dst_size;
    for (int32_t j = 0; j < J->n_dst; j++) out[j] += (VAL)w->out[j];
}

/* Counters for this step's events: fan-out totals to the source population and core,
 * synapse work to each destination core. */
static void SK_FN(count_events)(const sk_pop *P, const SK_FN(state) *s, int32_t n_ev,
                                int64_t *pc, int64_t *cc) {
    pc[SK_C_SPIKES] += n_ev;
    /* Sums over the events, added to the population once; to the source core once per run of
     * events on one core (neurons on a core are contiguous, so runs are long). */
    int64_t syn = 0, words = 0, local = 0, remote = 0, hx = 0, hy = 0, hmax = pc[SK_C_HOPS_MAX];
    int64_t *c = NULL;
    int64_t c_sp = 0, c_local = 0, c_remote = 0, c_hx = 0, c_hy = 0;
    for (int32_t e = 0; e < n_ev; e++) {
        const int32_t i = s->ev_idx[e];
        const int64_t *f = P->fan_tot + (int64_t)i * SK_NFAN;
        int64_t *ci = cc + (int64_t)s->core[i] * SK_NCOUNTERS;
        if (ci != c) {
            if (c) {
                c[SK_C_SPIKES] += c_sp; c[SK_C_MSG_LOCAL] += c_local; c[SK_C_MSG_REMOTE] += c_remote;
                c[SK_C_HOPS_X] += c_hx; c[SK_C_HOPS_Y] += c_hy;
            }
            c = ci;
            c_sp = c_local = c_remote = c_hx = c_hy = 0;
        }
        c_sp += 1;
        syn += f[SK_F_SYN];
        words += f[SK_F_WORDS];
        local += f[SK_F_LOCAL];
        remote += f[SK_F_REMOTE];
        hx += f[SK_F_HX];
        hy += f[SK_F_HY];
        if (f[SK_F_HMAX] > hmax) hmax = f[SK_F_HMAX];
        c_local += f[SK_F_LOCAL];
        c_remote += f[SK_F_REMOTE];
        c_hx += f[SK_F_HX];
        c_hy += f[SK_F_HY];
        if (f[SK_F_HMAX] > c[SK_C_HOPS_MAX]) c[SK_C_HOPS_MAX] = f[SK_F_HMAX];
        for (int64_t k = P->fan_ptr[i]; k < P->fan_ptr[i + 1]; k++) {
            int64_t *d = cc + (int64_t)P->fan_core[k] * SK_NCOUNTERS;
            d[SK_C_SYNOPS] += P->fan_syn[k];
            d[SK_C_WORDS] += P->fan_words[k];
            d[SK_C_MSG_IN] += 1;
        }
    }
    if (c) {
        c[SK_C_SPIKES] += c_sp; c[SK_C_MSG_LOCAL] += c_local; c[SK_C_MSG_REMOTE] += c_remote;
        c[SK_C_HOPS_X] += c_hx; c[SK_C_HOPS_Y] += c_hy;
    }
    pc[SK_C_SYNOPS] += syn;
    pc[SK_C_WORDS] += words;
    pc[SK_C_MSG_LOCAL] += local;
    pc[SK_C_MSG_REMOTE] += remote;
    pc[SK_C_MSG_IN] += local + remote;
    pc[SK_C_HOPS_X] += hx;
    pc[SK_C_HOPS_Y] += hy;
    pc[SK_C_HOPS_MAX] = hmax;
}

/* count_events for a whole sample at once (counters over the run): every counter but the
 * longest route is a sum over events, so neuron i's fired[i] events add fired[i] times its
 * fan-out, which costs one pass over the neurons instead of one fan-out per event. */
static void SK_FN(count_fired)(const sk_pop *P, const SK_FN(state) *s, int64_t *pc, int64_t *cc) {
    for (int32_t i = 0; i < P->size; i++) {
        const int64_t m = s->fired[i];
        if (!m) continue;
        const int64_t *f = P->fan_tot + (int64_t)i * SK_NFAN;
        int64_t *c = cc + (int64_t)s->core[i] * SK_NCOUNTERS;
        pc[SK_C_SPIKES] += m;
        pc[SK_C_SYNOPS] += m * f[SK_F_SYN];
        pc[SK_C_WORDS] += m * f[SK_F_WORDS];
        pc[SK_C_MSG_LOCAL] += m * f[SK_F_LOCAL];
        pc[SK_C_MSG_REMOTE] += m * f[SK_F_REMOTE];
        pc[SK_C_MSG_IN] += m * (f[SK_F_LOCAL] + f[SK_F_REMOTE]);
        pc[SK_C_HOPS_X] += m * f[SK_F_HX];
        pc[SK_C_HOPS_Y] += m * f[SK_F_HY];
        if (f[SK_F_HMAX] > pc[SK_C_HOPS_MAX]) pc[SK_C_HOPS_MAX] = f[SK_F_HMAX];
        c[SK_C_SPIKES] += m;
        c[SK_C_MSG_LOCAL] += m * f[SK_F_LOCAL];
        c[SK_C_MSG_REMOTE] += m * f[SK_F_REMOTE];
        c[SK_C_HOPS_X] += m * f[SK_F_HX];
        c[SK_C_HOPS_Y] += m * f[SK_F_HY];
        if (f[SK_F_HMAX] > c[SK_C_HOPS_MAX]) c[SK_C_HOPS_MAX] = f[SK_F_HMAX];
        for (int64_t k = P->fan_ptr[i]; k < P->fan_ptr[i + 1]; k++) {
            int64_t *d = cc + (int64_t)P->fan_core[k] * SK_NCOUNTERS;
            d[SK_C_SYNOPS] += m * P->fan_syn[k];
            d[SK_C_WORDS] += m * P->fan_words[k];
            d[SK_C_MSG_IN] += m;
        }
    }
}

static void SK_FN(free_states)(SK_FN(state) *st, int32_t n) {
    if (!st) return;
    for (int32_t p = 0; p < n; p++) {
        free(st[p].acc); free(st[p].u); free(st[p].v); free(st[p].z);
        free(st[p].ev_idx); free(st[p].ev_val); free(st[p].core); free(st[p].outs); free(st[p].fired);
        free(st[p].q.proj); free(st[p].q.idx); free(st[p].q.val); free(st[p].q.n);
    }
    free(st);
}

int SK_FN(sk_run)(const sk_run_args *a) {
    SK_FN(state) *st = (SK_FN(state) *)calloc((size_t)(a->n_pops > 0 ? a->n_pops : 1), sizeof *st);
    if (!st) return -1;
    size_t xs = 1, xd = 1;
    for (int32_t j = 0; j < a->n_projs; j++)
        if (a->projs[j].kind == SK_CROSSBAR) {
            if ((size_t)a->projs[j].n_src > xs) xs = (size_t)a->projs[j].n_src;
            if ((size_t)a->projs[j].n_dst > xd) xd = (size_t)a->projs[j].n_dst;
        }
    xb_scratch xw = {(double *)malloc(xs * sizeof(double)), (double *)malloc(xd * sizeof(double)),
                     (double *)malloc(xd * sizeof(double)), (int64_t *)malloc(xs * sizeof(int64_t))};
    if (!xw.x || !xw.col || !xw.out || !xw.code) goto oom;
    for (int32_t p = 0; p < a->n_pops; p++) {
        const sk_pop *P = &a->pops[p];
        const size_t n = (size_t)(P->size > 0 ? P->size : 1);
        st[p].acc = (VAL *)calloc(n * (size_t)P->ring, sizeof(VAL));
        st[p].ev_idx = (int32_t *)malloc(n * sizeof(int32_t));
        st[p].ev_val = (VAL *)malloc(n * sizeof(VAL));
        st[p].core = (int32_t *)malloc(n * sizeof(int32_t));
        st[p].outs = (int32_t *)malloc((size_t)(a->n_projs > 0 ? a->n_projs : 1) * sizeof(int32_t));
        if (!st[p].acc || !st[p].ev_idx || !st[p].ev_val || !st[p].core || !st[p].outs) goto oom;
        if (!a->per_step && !(st[p].fired = (int64_t *)calloc(n, sizeof(int64_t)))) goto oom;
        if (P->kernel >= SK_CUBA_FLOAT) {
            st[p].u = (VAL *)calloc(n, sizeof(VAL));
            st[p].v = (VAL *)calloc(n, sizeof(VAL));
            st[p].z = (VAL *)calloc(n, sizeof(VAL));
            if (!st[p].u || !st[p].v || !st[p].z) goto oom;
        }
        if (P->kernel == SK_XYLO) {
            xy_queue *q = &st[p].q;
            for (int32_t j = 0; j < a->n_projs; j++)
                if (a->projs[j].dst == p) q->cap += a->projs[j].n_src;
            const size_t room = (size_t)(q->cap > 0 ? q->cap : 1) * (size_t)P->ring;
            q->proj = (int32_t *)malloc(room * sizeof(int32_t));
            q->idx = (int32_t *)malloc(room * sizeof(int32_t));
            q->val = (int64_t *)malloc(room * sizeof(int64_t));
            q->n = (int32_t *)calloc((size_t)P->ring, sizeof(int32_t));
            if (!q->proj || !q->idx || !q->val || !q->n) goto oom;
        }
        for (int32_t k = 0; k < P->n_segs; k++)
            for (int32_t i = P->seg_start[k]; i < P->seg_start[k + 1]; i++) st[p].core[i] = P->seg_core[k];
        for (int32_t j = 0; j < a->n_projs; j++)
            if (a->projs[j].src == p) st[p].outs[st[p].n_outs++] = j;
    }
    const int64_t tsteps = a->per_step ? a->steps : 1;
    for (int32_t b = a->b_begin; b < a->b_end; b++) {
        for (int32_t p = 0; p < a->n_pops; p++) {
            const sk_pop *P = &a->pops[p];
            memset(st[p].acc, 0, (size_t)P->size * (size_t)P->ring * sizeof(VAL));
            if (st[p].u) {
                for (int32_t i = 0; i < P->size; i++) {
                    st[p].u[i] = SK_U_INIT(P) ? SK_U_INIT(P)[i] : 0;
                    st[p].v[i] = SK_V_INIT(P) ? SK_V_INIT(P)[i] : 0;
                    st[p].z[i] = 0;
                }
            }
            /* events the last sample sent past its end */
            if (st[p].q.n) memset(st[p].q.n, 0, (size_t)P->ring * sizeof(int32_t));
        }
        for (int32_t t = 0; t < a->steps; t++) {
            const int64_t row = (int64_t)b * tsteps + (a->per_step ? t : 0);
            int64_t *cc = a->core_counters + row * a->n_cores * SK_NCOUNTERS;
            for (int32_t p = 0; p < a->n_pops; p++) {
                const sk_pop *P = &a->pops[p];
                SK_FN(state) *s = &st[p];
                const int64_t n = P->size;
                const int64_t rec = ((int64_t)b * a->steps + t) * n;
                VAL *x = s->acc + (int64_t)(t % P->ring) * n;
                int64_t *pc = a->pop_counters + (row * a->n_pops + p) * SK_NCOUNTERS;
                VAL *yrec = SK_REC_OUT(P) ? SK_REC_OUT(P) + rec : NULL;
                int32_t n_ev = 0;
                if (t == 0) s->n_ev = 0;
                if (P->kernel == SK_INPUT || P->kernel == SK_PASS) {
                    const VAL *in = NULL;
                    if (P->kernel == SK_INPUT && t < P->in_steps)
                        in = SK_INPUT_OF(P) + ((int64_t)b * P->in_steps + t) * n;
                    const VAL *ib = SK_INPUT_BIAS(P);
                    /* Branch-free event list: inputs are dense enough (a third of them, say)
                     * that a branch per value mispredicts often. */
                    for (int64_t i = 0; i < n; i++) {
                        VAL y = P->kernel == SK_INPUT ? (in ? in[i] : 0) : x[i] + (ib ? ib[i] : 0);
                        x[i] = 0;
                        if (yrec) yrec[i] = y;
                        s->ev_idx[n_ev] = (int32_t)i;
                        s->ev_val[n_ev] = y;
                        n_ev += y != 0;
                    }
                }
#if SK_INTEGER
                else if (P->kernel == SK_XYLO) {
                    xy_deliver(a->projs, &s->q, (int32_t)(t % P->ring), s->u, s->z);
                    n_ev = update_xylo(P, s->u, s->z, s->v, s->ev_idx, s->ev_val, yrec,
                                       SK_REC_V(P) ? SK_REC_V(P) + rec : NULL,
                                       SK_REC_U(P) ? SK_REC_U(P) + rec : NULL, pc, cc);
                }
#endif
                else {
                    n_ev = SK_NEURON_UPDATE(P, s->u, s->v, s->z, x, s->ev_idx, s->ev_val, s->n_ev, yrec,
                                            SK_REC_V(P) ? SK_REC_V(P) + rec : NULL,
                                            SK_REC_U(P) ? SK_REC_U(P) + rec : NULL, pc, cc);
                }
                s->n_ev = n_ev;
                if (s->fired)
                    for (int32_t e = 0; e < n_ev; e++) s->fired[s->ev_idx[e]]++;
                else
                    SK_FN(count_events)(P, s, n_ev, pc, cc);
                if (P->rec_count) {
                    int64_t *cnt = P->rec_count + (int64_t)b * n;
                    for (int32_t e = 0; e < n_ev; e++) cnt[s->ev_idx[e]]++;
                }
                for (int32_t k = 0; k < s->n_outs; k++) {
                    const sk_proj *J = &a->projs[s->outs[k]];
                    const sk_pop *D = &a->pops[J->dst];
#if SK_INTEGER
                    if (D->kernel == SK_XYLO)
                        xy_enqueue(&st[J->dst].q, s->outs[k], s->ev_idx, s->ev_val, n_ev,
                                   (t + J->delay_base) % D->ring);
                    else
#endif
                    if (J->kind == SK_CROSSBAR)
                        SK_FN(deliver_xb)(J, s, n_ev, &st[J->dst], D->size, D->ring, b, t, &xw, pc, cc);
                    else
                        SK_FN(deliver)(J, s, n_ev, &st[J->dst], D->size, D->ring, t);
                }
            }
        }
        if (!a->per_step && a->steps > 0)
            for (int32_t p = 0; p < a->n_pops; p++) {
                int64_t *pc = a->pop_counters + ((int64_t)b * a->n_pops + p) * SK_NCOUNTERS;
                SK_FN(count_fired)(&a->pops[p], &st[p], pc, a->core_counters + (int64_t)b * a->n_cores * SK_NCOUNTERS);
                memset(st[p].fired, 0, (size_t)a->pops[p].size * sizeof(int64_t));
            }
    }
    SK_FN(free_states)(st, a->n_pops);
    free(xw.x); free(xw.col); free(xw.out); free(xw.code);
    return 0;
oom:
    SK_FN(free_states)(st, a->n_pops);
    free(xw.x); free(xw.col); free(xw.out); free(xw.code);
    return -1;
}
