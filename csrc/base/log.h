/*
** log.h -- per-host, thread-safe ring of log records (log_).
** See LICENSE for copyright.
**
** One ring per host keeps the newest 'capacity' records.  Records are
** fixed-size (category and message inline), allocated once by log_init, so
** writing never allocates: log_write formats straight into the ring slot
** under the ring's mutex.  Any thread may write (scheduler workers do);
** reading (log_count, log_copy, log_snapshot, log_dump) is also safe from
** any thread.  init, free and clear belong to the owner thread.
**
** The minimum level is checked with one relaxed atomic load before the lock
** is taken, so a filtered-out record costs a compare and no formatting.
** Sequence numbers start at 1 and keep increasing across wraparound and
** log_clear.  Timestamps are taken under the lock, so ts_ns never decreases
** along seq.  The per-level counters count every record written since
** log_init (log_clear does not reset them): they back Prometheus counters.
*/
#ifndef LISPBT_LOG_H
#define LISPBT_LOG_H

#include "conf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "mem.h"
#include "sbuf.h"

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NLEVELS };

#define LOG_CAT_LEN 16  /* category bytes incl. the NUL (silently cut) */
#define LOG_MSG_LEN 200 /* message bytes incl. the NUL (cut with "...") */
#define LOG_MAX_CAPACITY (1 << 24)

typedef struct log_Record {
    uint64_t seq;  /* >= 1 */
    int64_t ts_ns; /* the ring's clock when written (log_set_clock) */
    int64_t tick;  /* -1 = none */
    int32_t node;  /* -1 = none */
    uint8_t level; /* LOG_DEBUG.. */
    char category[LOG_CAT_LEN];
    char msg[LOG_MSG_LEN];
} log_Record;

typedef struct log_Ring {
    pthread_mutex_t mu; /* guards every field below except min_level */
    log_Record *r;      /* 'cap' records; seq s lives at r[(s-1) % cap] */
    mem_Heap *M;
    uint32_t cap;   /* records kept: exactly the requested capacity */
    uint32_t count; /* records held, <= cap */
    uint64_t seq;   /* seq of the next record */
    uint64_t written[LOG_NLEVELS];
    atomic_int min_level; /* records below it are dropped before locking */
    struct clk_Clock *clk; /* stamps records; NULL = the raw monotonic clock */
} log_Ring;

/* Allocate a ring keeping the newest 'capacity' (1..LOG_MAX_CAPACITY)
** records from 'M', which must outlive it.  Minimum level: LOG_DEBUG.
** Returns 0, or -1 (nothing allocated) on a bad capacity, allocation or
** mutex failure. */
int log_init(log_Ring *R, mem_Heap *M, int capacity);

/* Stamp records with clock 'k' (clock.h, must outlive the ring) instead of
** the raw monotonic clock.  Records are stamped under the ring's lock, so
** their stamps never decrease in seq order, whichever threads write. */
void log_set_clock(log_Ring *R, struct clk_Clock *k);

/* Free the ring.  No thread may be using it.  Safe to call twice. */
void log_free(log_Ring *R);

/* Drop all records.  Seq numbers and per-level counters keep going. */
void log_clear(log_Ring *R);

/* Name of 'level': "debug", "info", "warn", "error", or "unknown". */
const char *log_level_name(int level);

/* Set / get the minimum level written (clamped to LOG_DEBUG..LOG_ERROR). */
void log_set_level(log_Ring *R, int level);
int log_get_level(const log_Ring *R);

/* Whether a record of 'level' would be kept; lets callers skip building
** expensive arguments.  Lock-free. */
static inline int log_enabled(const log_Ring *R, int level) {
    return level >= atomic_load_explicit(&R->min_level, memory_order_relaxed);
}

/* Append a record (level clamped to a valid one).  'tick' -1 and 'node' -1
** mean none; 'category' is cut to LOG_CAT_LEN - 1 bytes, with blanks and
** control bytes turned into '_' and NULL/"" stored as "-"; the message is
** printf-formatted from 'fmt' directly into the slot and cut to
** LOG_MSG_LEN - 1 bytes ending in "..." (never inside a UTF-8 sequence).
** Thread-safe; never allocates. */
void log_write(log_Ring *R, int level, int64_t tick, int32_t node, const char *category,
               const char *fmt, ...) LISPBT_PRINTF(6, 7);

/* log_write with a va_list. */
void log_vwrite(log_Ring *R, int level, int64_t tick, int32_t node, const char *category,
                const char *fmt, va_list ap);

/* Number of records held (a moment's answer: writers may add more). */
int log_count(log_Ring *R);

/* Copy the 'i'-th record held (0 = oldest) into 'out' under the lock.
** Returns 0, or -1 when 'i' is out of range at the time of the call. */
int log_copy(log_Ring *R, int i, log_Record *out);

/* Copy the newest min(max, count) records, oldest first, into 'out' as one
** consistent snapshot.  Returns how many were copied. */
int log_snapshot(log_Ring *R, log_Record *out, int max);

/* Copy the per-level totals written since log_init into 'out'. */
void log_counts(log_Ring *R, uint64_t out[LOG_NLEVELS]);

/* Append the newest 'n' records (all when n < 0 or n > count), oldest
** first, one line each:
**   SEQ level=LEVEL ts_ns=N tick=N node=N category=CAT msg=TEXT
** TEXT escapes '\' as \\, newline as \n, CR as \r and other control bytes
** as \xHH, so one record is always one line.  The set of records is fixed
** when the call starts; the lock is taken per small batch and never held
** while 'b' grows, so writers are not stalled by a long dump.  Records
** overwritten during the dump are skipped. */
void log_dump(log_Ring *R, int n, sbuf *b);

/* Append one record as a dump line (no lock; 'rec' is a copy). */
void log_format(const log_Record *rec, sbuf *b);

#endif
