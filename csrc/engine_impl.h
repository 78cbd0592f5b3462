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
    int32_t *outs;     /* indices of outgoing projections */
    int32_t n_outs;
} SK_FN(state);

/* Scatter one population's events through one projection into the target's ring. */
static void SK_FN(deliver)(const sk_proj *J, const SK_FN(state) *src, int32_t n_ev,
                           SK_FN(state) *dst, int32_t dst_size, int32_t ring, int32_t t) {
    const VAL *w = SK_W(J);
    if (J->kind == SK_DENSE) {
        const int64_t n_dst = J->n_dst;
        if (!J->has_delay) {
            VAL *out = dst->acc + (int64_t)((t + J->delay_base) % ring) * dst_size;
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
    for (int32_t e = 0; e < n_ev; e++) {
        const int32_t i = s->ev_idx[e];
        const int64_t *f = P->fan_tot + (int64_t)i * SK_NFAN;
        int64_t *c = cc + (int64_t)s->core[i] * SK_NCOUNTERS;
        c[SK_C_SPIKES] += 1;
        pc[SK_C_SYNOPS] += f[SK_F_SYN];
        pc[SK_C_WORDS] += f[SK_F_WORDS];
        pc[SK_C_MSG_LOCAL] += f[SK_F_LOCAL];
        pc[SK_C_MSG_REMOTE] += f[SK_F_REMOTE];
        pc[SK_C_MSG_IN] += f[SK_F_LOCAL] + f[SK_F_REMOTE];
        pc[SK_C_HOPS_X] += f[SK_F_HX];
        pc[SK_C_HOPS_Y] += f[SK_F_HY];
        if (f[SK_F_HMAX] > pc[SK_C_HOPS_MAX]) pc[SK_C_HOPS_MAX] = f[SK_F_HMAX];
        c[SK_C_MSG_LOCAL] += f[SK_F_LOCAL];
        c[SK_C_MSG_REMOTE] += f[SK_F_REMOTE];
        c[SK_C_HOPS_X] += f[SK_F_HX];
        c[SK_C_HOPS_Y] += f[SK_F_HY];
        if (f[SK_F_HMAX] > c[SK_C_HOPS_MAX]) c[SK_C_HOPS_MAX] = f[SK_F_HMAX];
        for (int64_t k = P->fan_ptr[i]; k < P->fan_ptr[i + 1]; k++) {
            int64_t *d = cc + (int64_t)P->fan_core[k] * SK_NCOUNTERS;
            d[SK_C_SYNOPS] += P->fan_syn[k];
            d[SK_C_WORDS] += P->fan_words[k];
            d[SK_C_MSG_IN] += 1;
        }
    }
}

static void SK_FN(free_states)(SK_FN(state) *st, int32_t n) {
    if (!st) return;
    for (int32_t p = 0; p < n; p++) {
        free(st[p].acc); free(st[p].u); free(st[p].v); free(st[p].z);
        free(st[p].ev_idx); free(st[p].ev_val); free(st[p].core); free(st[p].outs);
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
                    for (int64_t i = 0; i < n; i++) {
                        VAL y = P->kernel == SK_INPUT ? (in ? in[i] : 0) : x[i] + (ib ? ib[i] : 0);
                        x[i] = 0;
                        if (yrec) yrec[i] = y;
                        if (y != 0) { s->ev_idx[n_ev] = (int32_t)i; s->ev_val[n_ev] = y; n_ev++; }
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
    }
    SK_FN(free_states)(st, a->n_pops);
    free(xw.x); free(xw.col); free(xw.out); free(xw.code);
    return 0;
oom:
    SK_FN(free_states)(st, a->n_pops);
    free(xw.x); free(xw.col); free(xw.out); free(xw.code);
    return -1;
}
