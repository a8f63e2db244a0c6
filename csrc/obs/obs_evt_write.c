/*
** obs_evt_write.c -- the event stream's writer: the stream's ring (copies
** of the tick's records, on the host's thread), the writer thread and
** flush, the tail events.dump reads, and the listener queue.  See
** obs_evt_int.h and docs/events.md.  See LICENSE for copyright.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "obs_evt_int.h"

/* ---- the writer: lines out, the writer thread ---- */

/* Keep line 'b' in the tail and write it to the file.  A tail slot keeps
** its buffer when its line is replaced, so once the tail is warm a line
** costs a copy, not an allocation. */
void obsW_emitline(obs_Events *V, const sbuf *b) {
    int slot;
    if (b->oom) {
        atomic_fetch_add_explicit(&V->drops, 1, memory_order_relaxed);
        return;
    }
    if (V->listening) {
        char *c = NULL;
        if (V->lqcount < OBS_EVT_LISTEN_MAX && (c = malloc(b->len + 1)) != NULL) {
            int k = (V->lqhead + V->lqcount) % OBS_EVT_LISTEN_MAX;
            memcpy(c, b->p, b->len);
            c[b->len] = '\0';
            V->lq[k] = c;
            V->lqlen[k] = b->len;
            V->lqcount++;
        } else {
            V->ldrops++;
        }
    }
    if (V->f != NULL) {
        fwrite(b->p, 1, b->len, V->f);
        fputc('\n', V->f);
        if (V->flush_each) {
            fflush(V->f);
        }
    }
    if (V->tcount == V->tail_size) { /* the oldest goes */
        V->thead = V->thead + 1 == V->tail_size ? 0 : V->thead + 1;
        V->tcount--;
    }
    slot = V->thead + V->tcount;
    slot -= slot >= V->tail_size ? V->tail_size : 0;
    if (V->tcap[slot] < b->len + 1 || (V->tcap[slot] > 256 && b->len + 1 <= V->tcap[slot] / 4)) {
        /* grow, or give back most of a long line's buffer: a slot keeps at
        ** most max(256, 4 * its line's length) bytes (docs/reference/events.md) */
        size_t ncap = b->len + 1 < 256 ? 256 : b->len + 1;
        char *p = realloc(V->tail[slot], ncap); /* the writer's: not the host's heap */
        if (p != NULL) {
            V->tail[slot] = p;
            V->tcap[slot] = ncap;
        } else if (V->tcap[slot] < b->len + 1) {
            return; /* the file has it; the tail keeps the lines before */
        }
    }
    memcpy(V->tail[slot], b->p, b->len);
    V->tail[slot][b->len] = '\0';
    V->tlen[slot] = b->len;
    V->tcount++;
}

/* Write every published record not yet written (the writer; see the
** header).  Called with 'mu' held, on either thread. */
void obsW_flush(obs_Events *V) {
    uint64_t s = atomic_load_explicit(&V->done, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&V->pub, memory_order_acquire), nmsg = 0;
    const trace_Rec *ev = V->ring.ev;
    uint32_t mask = V->ring.mask;
    trace_Event e;
    if (s == end) {
        return;
    }
    for (; s < end; s++) {
        const trace_Rec *r = &ev[s & mask];
        if ((r->w & 15) == TRACE_RUN) { /* k leaves: enter and exit each */
            int k = (int)r->aux, l;
            for (l = 0; l < k; l++) {
                e = trace_event(TRACE_NODE_ENTER, r->tick, (int32_t)(r->w >> 10) - 1 + l, r->ts_ns);
                obsF_recordline(V, &e);
                e.kind = TRACE_NODE_EXIT;
                e.status = (uint8_t)(r->w >> (l + 1 == k ? 4 : 7) & 7);
                obsF_recordline(V, &e);
            }
            continue;
        }
        if ((r->w & 15) == TRACE_TICK_BEGIN && (r->w >> 4 & 7) == NOTE) {
            obs_Note *n = (obs_Note *)(uintptr_t)r->x;
            sbuf *b = obsF_envelope(V, n->type, r->ts_ns, r->tick);
            sbuf_putn(b, n->data, n->len);
            obsF_finishline(V);
            free(n);
            continue;
        }
        obsF_decode(r, s, &e);
        nmsg += e.msg != 0;
        obsF_recordline(V, &e);
    }
    atomic_fetch_add_explicit(&V->nmsg_done, nmsg, memory_order_relaxed);
    atomic_store_explicit(&V->done, end, memory_order_release);
    if (V->f != NULL) {
        fflush(V->f);
    }
}

/* On the host's thread: write everything published, now. */
void obsW_syncflush(obs_Events *V) {
    pthread_mutex_lock(&V->mu);
    V->hold = 0;
    obsW_flush(V);
    pthread_mutex_unlock(&V->mu);
}

/* The writer thread: flush whenever records are published. */
static void *writer(void *ud) {
    obs_Events *V = ud;
    pthread_mutex_lock(&V->mu);
    while (!V->quit) {
        struct timespec ts;
        if (!V->hold && atomic_load_explicit(&V->pub, memory_order_acquire) !=
                            atomic_load_explicit(&V->done, memory_order_relaxed)) {
            obsW_flush(V);
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += OBS_EVT_WRITER_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&V->cv, &V->mu, &ts);
    }
    pthread_mutex_unlock(&V->mu);
    return NULL;
}

void obsW_startwriter(obs_Events *V) {
    if (V->thread_on) {
        return;
    }
    V->quit = 0;
    /* without a thread, the host's thread writes at every sync point */
    V->thread_on = pthread_create(&V->thread, NULL, writer, V) == 0;
}

void obsW_stopwriter(obs_Events *V) {
    if (!V->thread_on) {
        return;
    }
    pthread_mutex_lock(&V->mu);
    V->quit = 1;
    pthread_cond_signal(&V->cv);
    pthread_mutex_unlock(&V->mu);
    pthread_join(V->thread, NULL);
    V->thread_on = 0;
}

/* ---- the host's thread: putting records in the ring ---- */

/* Room for one more record in the stream's ring without overwriting one
** not yet written: else the host's thread writes the pending lines itself
** (ring pressure, the one point where a tick waits for the writer). */
static void room(obs_Events *V) {
    if (lispbt_unlikely(V->ring.seq - V->done_seen >= (uint64_t)V->ring.cap)) {
        V->done_seen = atomic_load_explicit(&V->done, memory_order_acquire);
        if (V->ring.seq - V->done_seen >= (uint64_t)V->ring.cap) {
            obsW_publish(V);
            obsW_syncflush(V);
            V->done_seen = V->ring.seq;
        }
    }
}

/* Copy message text 't' into the ring's message slots; its id.  When all
** slots hold messages not yet written, the pending lines are written first. */
static uint32_t putmsg(obs_Events *V, const char *t) {
    trace_Ring *R = &V->ring;
    uint32_t id = R->msg_next;
    trace_MsgSlot *slot;
    size_t n = strlen(t != NULL ? t : "");
    if (V->nmsg - atomic_load_explicit(&V->nmsg_done, memory_order_relaxed) >= R->nmsgs - 1) {
        obsW_publish(V);
        obsW_syncflush(V);
    }
    slot = &R->msgs[id % R->nmsgs];
    R->msg_next = id + 1 == 0 ? 1 : id + 1;
    V->nmsg++;
    slot->id = id;
    n = n < sizeof slot->text - 1 ? n : sizeof slot->text - 1; /* already cut to fit */
    memcpy(slot->text, t != NULL ? t : "", n);
    slot->text[n] = '\0';
    return id;
}

/* Note the name of blackboard key 'key' for the writer (cold: once per key
** and stream; under the lock, which the writer holds while reading them). */
LISPBT_COLD static void knownkey(obs_Events *V, int key) {
    const char *name = bt_key_name(V->S, key);
    char *copy = malloc(strlen(name) + 1);
    pthread_mutex_lock(&V->mu);
    if (key >= V->nknames) {
        int ncap = V->nknames ? V->nknames : 16;
        char **p;
        while (ncap <= key) {
            ncap *= 2;
        }
        p = realloc(V->knames, sizeof *p * (size_t)ncap);
        if (p == NULL) {
            pthread_mutex_unlock(&V->mu);
            free(copy);
            return; /* written as "?" */
        }
        memset(p + V->nknames, 0, sizeof *p * (size_t)(ncap - V->nknames));
        V->knames = p;
        V->nknames = ncap;
    }
    if (copy != NULL) {
        strcpy(copy, name);
        free(V->knames[key]);
        V->knames[key] = copy;
    }
    pthread_mutex_unlock(&V->mu);
}

/* Append record 'r' (a marker, or a record copied from ring 'T' whose
** message it refers to; T is NULL for markers) to the stream's ring. */
void obsW_putrec(obs_Events *V, const trace_Ring *T, const trace_Rec *r) {
    trace_Rec *d;
    int kind = (int)(r->w & 15);
    if (lispbt_unlikely(kind == TRACE_BB_READ)) {
        return; /* not part of the stream */
    }
    room(V);
    d = &V->ring.ev[V->ring.seq & V->ring.mask];
    *d = *r;
    if (lispbt_unlikely(kind >= TRACE_BB_WRITE && kind != TRACE_RUN && T != NULL)) {
        trace_Event e;
        obsF_decode(r, 0, &e);
        if (kind == TRACE_BB_WRITE && (e.key >= V->nknames || V->knames[e.key] == NULL)) {
            knownkey(V, e.key);
        }
        if (e.msg != 0) { /* its text, into the stream ring's message slots */
            uint32_t id = putmsg(V, trace_msg_text(T, &e));
            if (kind == TRACE_BB_WRITE) {
                d->x = id;
            } else {
                d->aux = id;
            }
        }
    }
    V->ring.seq++;
}

/* Push the pending markers that go before instance record 'q'. */
static void pendto(obs_Events *V, uint64_t q) {
    while (V->npend_done < V->npend && V->pend[V->npend_done].at <= q) {
        obsW_putrec(V, NULL, &V->pend[V->npend_done++].rec);
    }
}

/* Copy the instance records [lo, hi) of 'T' that hold events of their own. */
static void copyrange(obs_Events *V, const trace_Ring *T, uint64_t lo, uint64_t hi) {
    trace_Rec *ev = V->ring.ev;
    uint32_t mask = V->ring.mask;
    if (lispbt_likely(V->npend_done == V->npend &&
                      V->ring.seq + (hi - lo) - V->done_seen <= (uint64_t)V->ring.cap)) {
        /* no marker pending and room for all: plain copies up to the first
        ** record that needs more (a message, a key name, a bb_read) */
        const trace_Rec *src = T->ev;
        uint64_t s = V->ring.seq, tm = T->mask;
        for (; lo < hi; lo++) {
            const trace_Rec *r = &src[lo & tm];
            int kind = (int)(r->w & 15);
            if (lispbt_unlikely(kind >= TRACE_BB_WRITE && kind != TRACE_RUN)) {
                break;
            }
            ev[s++ & mask] = *r;
        }
        V->ring.seq = s;
    }
    for (; lo < hi; lo++) {
        const trace_Rec *r = &T->ev[lo & T->mask];
        int kind = (int)(r->w & 15);
        if (lispbt_likely((kind < TRACE_BB_WRITE || kind == TRACE_RUN) &&
                          V->npend_done == V->npend &&
                          V->ring.seq - V->done_seen < (uint64_t)V->ring.cap)) {
            ev[V->ring.seq++ & mask] = *r; /* node and tick records: a plain copy */
            continue;
        }
        if (V->npend_done < V->npend) {
            pendto(V, lo);
        }
        obsW_putrec(V, T, r);
    }
}

/* Is slot 'j' of 'T' the record of a run (that ends there)? */
static int runat(const trace_Ring *T, uint64_t j) {
    const trace_Rec *r = &T->ev[j & T->mask];
    return (r->w & 15) == TRACE_RUN && r->x + 2 * (uint64_t)r->aux - 1 == j;
}

/* Copy instance records [start, end) forward: the fallback of copytick
** for ticks with very many runs.  A run's record comes after the slots of
** its seqs, which hold older records; they are skipped when it is found. */
static void copyforward(obs_Events *V, const trace_Ring *T, uint64_t start, uint64_t end) {
    uint64_t from = start, q;
    for (q = start; q < end; q++) {
        if (runat(T, q)) {
            uint64_t x = T->ev[q & T->mask].x;
            copyrange(V, T, from, x > from ? x : from);
            copyrange(V, T, q, q + 1);
            from = q + 1;
        }
    }
    copyrange(V, T, from, end);
}

/* copytick for a short tick (at most COPY_SMALL slots, no marker pending,
** room for all): one backward pass takes the records of events into
** 'buf' (the slots a run's record covers hold older records and are
** skipped), then they go into the ring in order.  Returns 0, having
** copied nothing, when a record needs more than a copy (a message, a key
** name, a bb_read, which is left out): the general path takes the tick.
** Not a limit: longer ticks take the general path too. */
#define COPY_SMALL 32
static int copysmall(obs_Events *V, const trace_Ring *T, uint64_t start, uint64_t end) {
    trace_Rec buf[COPY_SMALL], *dst = V->ring.ev;
    const trace_Rec *src = T->ev;
    uint64_t j = end, tm = T->mask, mask = V->ring.mask, s = V->ring.seq;
    int m = COPY_SMALL;
    while (j > start) {
        const trace_Rec *r = &src[--j & tm];
        uint32_t kind = r->w & 15;
        if (kind == TRACE_RUN) {
            if (r->x + 2 * (uint64_t)r->aux - 1 == j) { /* the slots [x, j) hold older records */
                j = r->x > start ? r->x : start;
            }
        } else if (lispbt_unlikely(kind >= TRACE_BB_WRITE)) {
            return 0;
        }
        buf[--m] = *r;
    }
    for (; m < COPY_SMALL; m++) {
        dst[s++ & mask] = buf[m]; /* node and tick records: a plain copy */
    }
    V->ring.seq = s;
    return 1;
}

/* Copy the instance records [start, end) into the stream's ring: a pass
** backward finds the runs (a run's record is the last slot of its seqs,
** the slots before it hold older records), so only the slots of events
** are read and copied, in stretches. */
static void copytick(obs_Events *V, const trace_Ring *T, uint64_t start, uint64_t end) {
    uint64_t lo[OBS_EVT_SEGS], hi[OBS_EVT_SEGS], j = end, top = end;
    int n = 0;
    if (lispbt_likely(end - start <= COPY_SMALL && V->npend == 0 &&
                      V->ring.seq + (end - start) - V->done_seen <= (uint64_t)V->ring.cap) &&
        copysmall(V, T, start, end)) {
        V->npend_done = 0;
        return;
    }
    while (j > start) {
        if (runat(T, j - 1)) {
            uint64_t x = T->ev[(j - 1) & T->mask].x;
            if (x + 1 < j) { /* a gap of older records: [x, j - 1) */
                if (n == OBS_EVT_SEGS) {
                    copyforward(V, T, start, top);
                    break;
                }
                lo[n] = j - 1;
                hi[n++] = top;
                top = j = x > start ? x : start;
                continue;
            }
        }
        j--;
        if (j == start) {
            if (n == OBS_EVT_SEGS) {
                copyforward(V, T, start, top);
                break;
            }
            lo[n] = start;
            hi[n++] = top;
        }
    }
    while (n > 0) {
        n--;
        copyrange(V, T, lo[n], hi[n]);
    }
    pendto(V, UINT64_MAX);
    V->npend = V->npend_done = 0;
}

/* Lines made on the host's thread: after everything published. */
void obsW_coldbegin(obs_Events *V) {
    obsW_publish(V);
    pthread_mutex_lock(&V->mu);
    V->hold = 0;
    obsW_flush(V);
}

void obsW_coldend(obs_Events *V) {
    pthread_mutex_unlock(&V->mu);
}

/* The tick's node path (the stack at the last leaf's exit), root status
** and duration, from its records as copied: stream ring [p0, ring.seq),
** where a run of leaves is one record (audit mode). */
static void auditscan(const obs_Events *V, uint64_t p0, obs_Audit *a) {
    const trace_Ring *R = &V->ring;
    int depth = 0, lastenter = -1;
    int32_t stack[OBS_EVT_PATH_MAX];
    for (; p0 < R->seq; p0++) {
        const trace_Rec *r = &R->ev[p0 & R->mask];
        int kind = (int)(r->w & 15), node = (int)(r->w >> 10) - 1;
        if (kind == TRACE_RUN) { /* its last leaf is the deepest node so far */
            int n = depth < OBS_EVT_PATH_MAX ? depth : OBS_EVT_PATH_MAX;
            memcpy(a->path, stack, sizeof stack[0] * (size_t)n);
            if (n < OBS_EVT_PATH_MAX) {
                a->path[n++] = node + (int)r->aux - 1;
            }
            a->npath = n;
            lastenter = -1;
        } else if (kind == TRACE_NODE_ENTER) {
            if (depth < OBS_EVT_PATH_MAX) {
                stack[depth] = node;
            }
            depth++;
            lastenter = node;
        } else if (kind == TRACE_NODE_EXIT) {
            if (node == lastenter) { /* a leaf, or a node whose children did not run */
                a->npath = depth < OBS_EVT_PATH_MAX ? depth : OBS_EVT_PATH_MAX;
                memcpy(a->path, stack, sizeof stack[0] * (size_t)a->npath);
            }
            depth -= depth > 0;
        } else if (kind == TRACE_TICK_END) {
            a->status = (uint8_t)(r->w >> 4 & 7);
            a->tick_ns = (int64_t)r->x;
        }
    }
}

/* Copy the tick's records [seq0, ...) of I's trace ring into the stream's
** ring; with 'a', the tick's audit figures and marker after them. */
void obsW_copyrecs(obs_Events *V, bt_Inst *I, uint64_t seq0, obs_Audit *a) {
    const trace_Ring *T = bt_inst_trace(I);
    uint64_t first = T->seq - (uint64_t)trace_count(T), p0;
    if (lispbt_unlikely(seq0 < first)) { /* more than the instance ring keeps */
        char msg[96];
        trace_Rec r;
        uint32_t id;
        uint64_t lost = first - seq0, j;
        for (j = first; j < T->seq && j < first + 2 * TRACE_RUN_MAX; j++) {
            if (runat(T, j)) { /* the first run: if it began before 'first', the */
                if (T->ev[j & T->mask].x < first) { /* slots up to it hold older */
                    lost += j + 1 - first;            /* records, and it is lost too */
                    first = j + 1;
                }
                break;
            }
        }
        snprintf(msg, sizeof msg, "events dropped: %llu (instance trace ring too small)",
                 (unsigned long long)lost);
        atomic_fetch_add_explicit(&V->drops, lost, memory_order_relaxed);
        if (a != NULL) {
            a->dropped = 1;
        }
        r.tick = bt_inst_ticks(I);
        r.ts_ns = clk_now(V->clock);
        r.x = 0;
        r.w = (uint32_t)TRACE_ERROR;
        id = putmsg(V, msg);
        r.aux = id;
        obsW_putrec(V, NULL, &r);
        seq0 = first;
    }
    p0 = V->ring.seq;
    copytick(V, T, seq0, T->seq);
    if (a != NULL) {
        trace_Event m;
        auditscan(V, p0, a);
        room(V);
        V->audit[V->ring.seq % (uint64_t)V->ring_size] = *a;
        m = trace_event(TRACE_TICK_BEGIN, bt_inst_ticks(I), -1, clk_now(V->clock));
        m.status = AUDIT;
        trace_push(&V->ring, &m);
    }
}

/* ---- the tail and the file (allocated, freed; under the lock) ---- */

void obsW_lqclear(obs_Events *V) {
    while (V->lqcount > 0) {
        free(V->lq[V->lqhead]);
        V->lqhead = (V->lqhead + 1) % OBS_EVT_LISTEN_MAX;
        V->lqcount--;
    }
}

int obsW_alloctail(obs_Events *V, int n) {
    int nt = n < OBS_EVT_TAIL_MAX ? n : OBS_EVT_TAIL_MAX;
    V->tail = mem_calloc(V->M, sizeof *V->tail * (size_t)nt);
    V->tlen = mem_calloc(V->M, sizeof *V->tlen * (size_t)nt);
    V->tcap = mem_calloc(V->M, sizeof *V->tcap * (size_t)nt);
    V->ring_size = n;
    V->tail_size = nt;
    if (V->audit_on) {
        V->audit = mem_calloc(V->M, sizeof *V->audit * (size_t)n);
    }
    if (V->tail == NULL || V->tlen == NULL || V->tcap == NULL ||
        (V->audit_on && V->audit == NULL) || trace_init(&V->ring, V->M, n) != 0) {
        return -1;
    }
    V->ring_size = n;
    V->thead = V->tcount = 0;
    atomic_store_explicit(&V->pub, V->ring.seq, memory_order_relaxed);
    atomic_store_explicit(&V->done, V->ring.seq, memory_order_relaxed);
    V->done_seen = V->ring.seq;
    V->nmsg = 0;
    atomic_store_explicit(&V->nmsg_done, 0, memory_order_relaxed);
    return 0;
}

void obsW_freetail(obs_Events *V) {
    int i;
    if (V->tail != NULL && V->tcap != NULL) {
        for (i = 0; i < V->tail_size; i++) {
            free(V->tail[i]); /* the writer's */
        }
    }
    if (V->tail != NULL) {
        mem_free(V->M, V->tail, sizeof *V->tail * (size_t)V->tail_size);
    }
    if (V->tlen != NULL) {
        mem_free(V->M, V->tlen, sizeof *V->tlen * (size_t)V->tail_size);
    }
    if (V->tcap != NULL) {
        mem_free(V->M, V->tcap, sizeof *V->tcap * (size_t)V->tail_size);
    }
    if (V->audit != NULL) {
        mem_free(V->M, V->audit, sizeof *V->audit * (size_t)V->ring_size);
    }
    V->audit = NULL;
    V->tail = NULL;
    V->tlen = NULL;
    V->tcap = NULL;
    V->tcount = 0;
    trace_free(&V->ring);
}

void obsW_closefile(obs_Events *V) {
    if (V->f != NULL) {
        fclose(V->f);
        V->f = NULL;
    }
    if (V->path != NULL) {
        mem_free(V->M, V->path, strlen(V->path) + 1);
        V->path = NULL;
    }
}

/* ---- the listener queue (host.events.on_line) ---- */

int obs_events_listen(lisp_State *S, int on) {
    obs_Events *V = obsE_getev(S);
    int ok = 1;
    pthread_mutex_lock(&V->mu);
    if (on && V->lq == NULL) {
        V->lq = calloc(OBS_EVT_LISTEN_MAX, sizeof *V->lq);
        V->lqlen = calloc(OBS_EVT_LISTEN_MAX, sizeof *V->lqlen);
        if (V->lq == NULL || V->lqlen == NULL) {
            free(V->lq);
            free(V->lqlen);
            V->lq = NULL;
            V->lqlen = NULL;
            ok = 0;
        }
    }
    if (!on && V->lq != NULL) {
        obsW_lqclear(V);
    }
    V->listening = on && ok;
    pthread_mutex_unlock(&V->mu);
    return ok ? 0 : -1;
}

char *obs_events_nextline(lisp_State *S, size_t *len) {
    obs_Events *V = obsE_getev(S);
    char *line = NULL;
    pthread_mutex_lock(&V->mu);
    if (V->lqcount > 0) {
        line = V->lq[V->lqhead];
        *len = V->lqlen[V->lqhead];
        V->lqhead = (V->lqhead + 1) % OBS_EVT_LISTEN_MAX;
        V->lqcount--;
    }
    pthread_mutex_unlock(&V->mu);
    return line;
}

uint64_t obs_events_listen_drops(lisp_State *S) {
    obs_Events *V = obsE_getev(S);
    uint64_t n;
    pthread_mutex_lock(&V->mu);
    n = V->ldrops;
    pthread_mutex_unlock(&V->mu);
    return n;
}

void obs_events_sync(lisp_State *S) {
    obs_Events *V = obsE_getev(S);
    obsW_publish(V);
    obsW_syncflush(V);
}
