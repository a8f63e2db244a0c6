/*
** log.c -- per-host, thread-safe log ring.  See log.h.
** See LICENSE for copyright.
**
** Invariants (under 'mu'):
**   - 0 <= count <= cap;
**   - the records held have seq in [seq - count, seq - 1], and the record
**     with seq s is r[(s - 1) % cap].  Addressing by seq instead of a head
**     index keeps log_clear trivial (count = 0) and lets a reader that drops
**     the lock find "record s" again, or learn it was overwritten;
**   - written[l] counts every record of level l ever stored.
**
** 'min_level' is the one field read without the lock, through an atomic,
** because the level check must come before the lock (a filtered record
** must cost nothing but the compare).
**
** The message is formatted under the lock straight into its slot: the
** slot is not visible to readers until the lock is released, and formatting
** elsewhere first would need a second 200-byte copy or an allocation.
** Readers copy records out under the lock in small batches and format
** outside it.
*/
#include "conf.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static const char *const level_names[LOG_NLEVELS] = {"debug", "info", "warn", "error"};

const char *log_level_name(int level) {
    return level >= 0 && level < LOG_NLEVELS ? level_names[level] : "unknown";
}

static int clamp_level(int level) {
    return level < LOG_DEBUG ? LOG_DEBUG : (level > LOG_ERROR ? LOG_ERROR : level);
}

int log_init(log_Ring *R, mem_Heap *M, int capacity) {
    memset(R, 0, sizeof *R);
    atomic_init(&R->min_level, LOG_DEBUG);
    if (capacity <= 0 || capacity > LOG_MAX_CAPACITY) {
        return -1;
    }
    R->r = mem_alloc(M, (size_t)capacity * sizeof(log_Record));
    if (R->r == NULL) {
        return -1;
    }
    if (pthread_mutex_init(&R->mu, NULL) != 0) {
        mem_free(M, R->r, (size_t)capacity * sizeof(log_Record));
        R->r = NULL;
        return -1;
    }
    R->M = M;
    R->cap = (uint32_t)capacity;
    R->seq = 1;
    return 0;
}

void log_set_clock(log_Ring *R, clk_Clock *k) {
    R->clk = k;
}

void log_free(log_Ring *R) {
    if (R->r == NULL) {
        return;
    }
    pthread_mutex_destroy(&R->mu);
    mem_free(R->M, R->r, (size_t)R->cap * sizeof(log_Record));
    R->r = NULL;
    R->M = NULL;
    R->cap = R->count = 0;
}

void log_clear(log_Ring *R) {
    pthread_mutex_lock(&R->mu);
    R->count = 0;
    pthread_mutex_unlock(&R->mu);
}

void log_set_level(log_Ring *R, int level) {
    atomic_store_explicit(&R->min_level, clamp_level(level), memory_order_relaxed);
}

int log_get_level(const log_Ring *R) {
    return atomic_load_explicit(&R->min_level, memory_order_relaxed);
}

/* Store 'cat' into 'dst' as one blank-free token (see log_write). */
static void set_category(char *dst, const char *cat) {
    size_t i = 0;
    if (cat == NULL || *cat == '\0') {
        cat = "-";
    }
    for (; i < LOG_CAT_LEN - 1 && cat[i]; i++) {
        unsigned char c = (unsigned char)cat[i];
        dst[i] = (c <= ' ' || c == 0x7f) ? '_' : (char)c;
    }
    dst[i] = '\0';
}

void log_vwrite(log_Ring *R, int level, int64_t tick, int32_t node, const char *category,
                const char *fmt, va_list ap) {
    log_Record *rec;
    int n;
    level = clamp_level(level);
    if (!log_enabled(R, level)) {
        return;
    }
    pthread_mutex_lock(&R->mu);
    rec = &R->r[(R->seq - 1) % R->cap];
    rec->seq = R->seq++;
    rec->ts_ns = R->clk != NULL ? clk_now(R->clk) : lispbt_now_ns();
    rec->tick = tick;
    rec->node = node;
    rec->level = (uint8_t)level;
    set_category(rec->category, category);
    n = vsnprintf(rec->msg, LOG_MSG_LEN, fmt ? fmt : "", ap);
    if (n < 0) {
        memcpy(rec->msg, "<format error>", sizeof "<format error>");
    } else if (n >= LOG_MSG_LEN) {
        size_t cut = LOG_MSG_LEN - 4; /* room for "..." and the NUL */
        while (cut > 0 && ((unsigned char)rec->msg[cut] & 0xC0) == 0x80) {
            cut--; /* do not split a UTF-8 sequence */
        }
        memcpy(rec->msg + cut, "...", 4);
    }
    R->count += R->count < R->cap;
    R->written[level]++;
    pthread_mutex_unlock(&R->mu);
}

void log_write(log_Ring *R, int level, int64_t tick, int32_t node, const char *category,
               const char *fmt, ...) {
    va_list ap;
    if (!log_enabled(R, clamp_level(level))) {
        return;
    }
    va_start(ap, fmt);
    log_vwrite(R, level, tick, node, category, fmt, ap);
    va_end(ap);
}

int log_count(log_Ring *R) {
    int n;
    pthread_mutex_lock(&R->mu);
    n = (int)R->count;
    pthread_mutex_unlock(&R->mu);
    return n;
}

int log_copy(log_Ring *R, int i, log_Record *out) {
    int rc = -1;
    pthread_mutex_lock(&R->mu);
    if (i >= 0 && (uint32_t)i < R->count) {
        uint64_t s = R->seq - R->count + (uint64_t)i;
        *out = R->r[(s - 1) % R->cap];
        rc = 0;
    }
    pthread_mutex_unlock(&R->mu);
    return rc;
}

int log_snapshot(log_Ring *R, log_Record *out, int max) {
    uint64_t s;
    int n, i;
    pthread_mutex_lock(&R->mu);
    n = max < 0 ? 0 : ((uint32_t)max < R->count ? max : (int)R->count);
    s = R->seq - (uint64_t)n;
    for (i = 0; i < n; i++, s++) {
        out[i] = R->r[(s - 1) % R->cap];
    }
    pthread_mutex_unlock(&R->mu);
    return n;
}

void log_counts(log_Ring *R, uint64_t out[LOG_NLEVELS]) {
    pthread_mutex_lock(&R->mu);
    memcpy(out, R->written, sizeof R->written);
    pthread_mutex_unlock(&R->mu);
}


void log_format(const log_Record *rec, sbuf *b) {
    sbuf_printf(b, "%llu level=%s ts_ns=%lld tick=%lld node=%ld category=%s msg=",
                (unsigned long long)rec->seq, log_level_name(rec->level), (long long)rec->ts_ns,
                (long long)rec->tick, (long)rec->node, rec->category);
    sbuf_oneline(b, rec->msg);
    sbuf_putc(b, '\n');
}

#define DUMP_BATCH 8

void log_dump(log_Ring *R, int n, sbuf *b) {
    log_Record batch[DUMP_BATCH];
    uint64_t s, newest;
    int k, i;
    pthread_mutex_lock(&R->mu);
    if (n < 0 || (uint32_t)n > R->count) {
        n = (int)R->count;
    }
    newest = R->seq - 1;
    pthread_mutex_unlock(&R->mu);
    s = newest + 1 - (uint64_t)n;
    while (s <= newest) {
        pthread_mutex_lock(&R->mu);
        if (s < R->seq - R->count) { /* overwritten (or cleared) meanwhile */
            s = R->seq - R->count;
        }
        for (k = 0; k < DUMP_BATCH && s + (uint64_t)k <= newest; k++) {
            batch[k] = R->r[(s + (uint64_t)k - 1) % R->cap];
        }
        pthread_mutex_unlock(&R->mu);
        for (i = 0; i < k; i++) {
            log_format(&batch[i], b);
        }
        if (k == 0) {
            break;
        }
        s += (uint64_t)k;
    }
}
