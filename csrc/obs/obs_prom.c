/*
** obs_prom.c -- Prometheus text exposition helpers.  See obs_prom.h.
** See LICENSE for copyright.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "obs_prom.h"

/* ---- Prometheus ---- */

/* Append a sample value: integers exactly, else shortest round-trip. */
static void prom_value(sbuf *b, double v) {
    char tmp[40];
    int prec;
    if (isnan(v)) {
        sbuf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        sbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) { /* 2^53 */
        sbuf_printf(b, "%lld", (long long)v);
        return;
    }
    for (prec = 6; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    sbuf_puts(b, tmp);
}

/* Append 's' escaped for HELP text (label values also escape '"'). */
static void prom_escape(sbuf *b, const char *s, int quote) {
    for (; *s; s++) {
        if (*s == '\\') {
            sbuf_putn(b, "\\\\", 2);
        } else if (*s == '\n') {
            sbuf_putn(b, "\\n", 2);
        } else if (quote && *s == '"') {
            sbuf_putn(b, "\\\"", 2);
        } else {
            sbuf_putc(b, *s);
        }
    }
}

void prom_family(sbuf *b, const char *name, const char *type, const char *help) {
    sbuf_printf(b, "# HELP %s ", name);
    prom_escape(b, help ? help : "", 0);
    sbuf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* "name{labels[,extra]} v\n" with 'extra' a pre-rendered label or NULL. */
static void sample2(sbuf *b, const char *name, const char *suffix, const char *labels,
                    const char *extra, double v) {
    int has = labels && *labels;
    sbuf_puts(b, name);
    if (suffix) {
        sbuf_puts(b, suffix);
    }
    if (has || extra) {
        sbuf_putc(b, '{');
        if (has) {
            sbuf_puts(b, labels);
        }
        if (extra) {
            if (has) {
                sbuf_putc(b, ',');
            }
            sbuf_puts(b, extra);
        }
        sbuf_putc(b, '}');
    }
    sbuf_putc(b, ' ');
    prom_value(b, v);
    sbuf_putc(b, '\n');
}

void prom_sample(sbuf *b, const char *name, const char *labels, double v) {
    sample2(b, name, NULL, labels, NULL, v);
}

void prom_label(sbuf *b, const char *name, const char *value) {
    if (b->len > 0) {
        sbuf_putc(b, ',');
    }
    sbuf_printf(b, "%s=\"", name);
    prom_escape(b, value ? value : "", 1);
    sbuf_putc(b, '"');
}

void prom_counter(sbuf *b, const char *name, const char *help, const char *labels, double v) {
    if (help) {
        prom_family(b, name, "counter", help);
    }
    prom_sample(b, name, labels, v);
}

void prom_gauge(sbuf *b, const char *name, const char *help, const char *labels, double v) {
    if (help) {
        prom_family(b, name, "gauge", help);
    }
    prom_sample(b, name, labels, v);
}

void prom_summary(sbuf *b, const char *name, const char *help, const char *labels,
                  const double q[4], double sum, uint64_t count) {
    static const char *const qlabel[4] = {"quantile=\"0.5\"", "quantile=\"0.9\"",
                                          "quantile=\"0.99\"", "quantile=\"0.999\""};
    int k;
    if (help) {
        prom_family(b, name, "summary", help);
    }
    for (k = 0; k < 4; k++) {
        sample2(b, name, NULL, labels, qlabel[k], count ? q[k] : NAN);
    }
    sample2(b, name, "_sum", labels, NULL, sum);
    sample2(b, name, "_count", labels, NULL, (double)count);
}

void prom_summary_scaled(sbuf *b, const char *name, const char *help, const char *labels,
                         const hist_Hist *h, double divisor) {
    hist_Summary s;
    double qv[4];
    hist_summary(h, &s);
    qv[0] = (double)s.p50 / divisor;
    qv[1] = (double)s.p90 / divisor;
    qv[2] = (double)s.p99 / divisor;
    qv[3] = (double)s.p999 / divisor;
    prom_summary(b, name, help, labels, qv, (double)s.sum / divisor, s.count);
}

void prom_hist_summary(sbuf *b, const char *name, const char *help, const char *labels,
                       const hist_Hist *h) {
    prom_summary_scaled(b, name, help, labels, h, 1.0);
}
