/*
** obs_prom.h -- Prometheus text exposition helpers (prom_).
** See LICENSE for copyright.
*/
#ifndef LISPBT_OBS_PROM_H
#define LISPBT_OBS_PROM_H

#include "conf.h"

#include "hist.h"
#include "sbuf.h"

/* ---- Prometheus text exposition (version 0.0.4) ----
**
** A metric family is announced once with prom_family (# HELP and # TYPE),
** then any number of samples follow, one per label set.  'labels' is the
** already-rendered inside of the braces, e.g. "host=\"1\",node=\"3\"", or
** NULL / "" for none; build it with prom_label so quotes, backslashes and
** newlines in values are escaped.  Values render as integers when integral
** and below 2^53 in magnitude, otherwise in shortest round-trip form; NaN
** and infinities as NaN, +Inf, -Inf.  The one-shot helpers below (prom_counter, prom_gauge,
** prom_hist_summary) emit the family header only when 'help' is non-NULL,
** so a caller passes 'help' for the first label set and NULL for the rest.
**
** Every helper only appends to 'b' (owned by the caller) and keeps no
** pointer to its arguments.  None raises or returns an error: an
** allocation failure sets b->oom (sbuf.h), which the caller checks once at
** the end.  Pure functions of their arguments: any thread, own 'b'.
*/

/* "# HELP name help\n# TYPE name type\n"; 'type' is "counter", "gauge",
** "summary", "histogram" or "untyped".  'help' is escaped (NULL renders
** as empty); 'name' and 'type' are written as given. */
void prom_family(sbuf *b, const char *name, const char *type, const char *help);

/* "name{labels} v\n" (no braces when 'labels' is NULL or empty). */
void prom_sample(sbuf *b, const char *name, const char *labels, double v);

/* Append 'name="value"' to a label list being built in 'b', preceded by a
** comma unless 'b' is empty; 'value' is escaped (NULL renders as ""). */
void prom_label(sbuf *b, const char *name, const char *value);

/* A counter / gauge sample, preceded by its family header when 'help' is
** non-NULL. */
void prom_counter(sbuf *b, const char *name, const char *help, const char *labels, double v);
void prom_gauge(sbuf *b, const char *name, const char *help, const char *labels, double v);

/* A Prometheus 'summary' of 'h': quantile="0.5", "0.9", "0.99", "0.999"
** lines, then name_sum and name_count, each carrying 'labels'.  Values are
** divided by 'divisor' (1e9 reports nanoseconds as seconds, the Prometheus
** base unit; dividing keeps 1000 ns exactly 1e-06); 'count' never is.  Quantiles of an empty
** histogram are NaN.  Family header only when 'help' is non-NULL. */
void prom_summary_scaled(sbuf *b, const char *name, const char *help, const char *labels,
                         const hist_Hist *h, double divisor);

/* A Prometheus 'summary' from values already computed: quantile="0.5",
** "0.9", "0.99", "0.999" lines with 'q[0..3]', then name_sum ('sum') and
** name_count ('count'), each carrying 'labels'.  The quantiles are written
** as NaN when 'count' is 0.  Family header only when 'help' is non-NULL. */
void prom_summary(sbuf *b, const char *name, const char *help, const char *labels,
                  const double q[4], double sum, uint64_t count);

/* prom_summary_scaled with 'divisor' 1. */
void prom_hist_summary(sbuf *b, const char *name, const char *help, const char *labels,
                       const hist_Hist *h);

#endif
