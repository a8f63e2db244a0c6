/*
** ctest_json.h -- the one JSON validator of the C tests.  See LICENSE.
**
** A small strict checker of the RFC 8259 grammar (objects, arrays, strings
** with escapes, numbers without leading zeros, true/false/null; nesting up
** to 64), so a C test needs nothing outside this repository to check the
** JSON the engine writes (planner records, Chrome trace export).  It only
** validates: values are not decoded.  The Lua specs decode JSON with
** lua-cjson (spec/support/bt_helpers.lua's json_decode), the one decoder
** on that side.
**
**   json_ok(s)                  one JSON object, NUL-terminated
**   json_object_ok(s, n, &j)    one JSON object spanning [s, s+n); its
**                               top-level keys land in j.keys ("a,b,")
**   json_valid(s)               one JSON value of any kind, NUL-terminated
*/
#ifndef LISPBT_CTEST_JSON_H
#define LISPBT_CTEST_JSON_H

#include <string.h>

typedef struct ctest_Json {
    const char *p, *end;
    int depth;
    char keys[1024];
    size_t klen;
    int nkeys;
} ctest_Json;

static inline int j_value(ctest_Json *j);

static inline void j_ws(ctest_Json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
        j->p++;
    }
}

static inline int j_lit(ctest_Json *j, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) {
        return -1;
    }
    j->p += n;
    return 0;
}

static inline int j_isdigit(char c) {
    return c >= '0' && c <= '9';
}

static inline int j_number(ctest_Json *j) {
    if (j->p < j->end && *j->p == '-') {
        j->p++;
    }
    if (j->p >= j->end) {
        return -1;
    }
    if (*j->p == '0') {
        j->p++;
    } else if (j_isdigit(*j->p)) {
        while (j->p < j->end && j_isdigit(*j->p)) {
            j->p++;
        }
    } else {
        return -1;
    }
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || !j_isdigit(*j->p)) {
            return -1;
        }
        while (j->p < j->end && j_isdigit(*j->p)) {
            j->p++;
        }
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) {
            j->p++;
        }
        if (j->p >= j->end || !j_isdigit(*j->p)) {
            return -1;
        }
        while (j->p < j->end && j_isdigit(*j->p)) {
            j->p++;
        }
    }
    return 0;
}

/* A string; its raw (still escaped) body goes to *s, *n. */
static inline int j_string(ctest_Json *j, const char **s, size_t *n) {
    const char *start;
    if (j->p >= j->end || *j->p != '"') {
        return -1;
    }
    start = ++j->p;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20) {
            return -1;
        }
        if (c == '\\') {
            j->p++;
            if (j->p >= j->end) {
                return -1;
            }
            if (*j->p == 'u') {
                int k;
                for (k = 0; k < 4; k++) {
                    j->p++;
                    if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p)) {
                        return -1;
                    }
                }
            } else if (!strchr("\"\\/bfnrt", *j->p)) {
                return -1;
            }
        }
        j->p++;
    }
    if (j->p >= j->end) {
        return -1;
    }
    if (s) {
        *s = start;
        *n = (size_t)(j->p - start);
    }
    j->p++;
    return 0;
}

static inline int j_object(ctest_Json *j) {
    int top = j->depth == 1;
    j->p++;
    j_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        const char *k;
        size_t kn;
        j_ws(j);
        if (j_string(j, &k, &kn) != 0) {
            return -1;
        }
        if (top && j->klen + kn + 1 < sizeof j->keys) {
            memcpy(j->keys + j->klen, k, kn);
            j->klen += kn;
            j->keys[j->klen++] = ',';
            j->nkeys++;
        }
        j_ws(j);
        if (j->p >= j->end || *j->p != ':') {
            return -1;
        }
        j->p++;
        if (j_value(j) != 0) {
            return -1;
        }
        j_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return 0;
        }
        return -1;
    }
}

static inline int j_array(ctest_Json *j) {
    j->p++;
    j_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        if (j_value(j) != 0) {
            return -1;
        }
        j_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return 0;
        }
        return -1;
    }
}

static inline int j_value(ctest_Json *j) {
    int rc;
    j_ws(j);
    if (j->p >= j->end || j->depth > 64) {
        return -1;
    }
    j->depth++;
    switch (*j->p) {
        case '{': rc = j_object(j); break;
        case '[': rc = j_array(j); break;
        case '"': rc = j_string(j, NULL, NULL); break;
        case 't': rc = j_lit(j, "true"); break;
        case 'f': rc = j_lit(j, "false"); break;
        case 'n': rc = j_lit(j, "null"); break;
        default: rc = j_number(j); break;
    }
    j->depth--;
    return rc;
}

/* Is [s, s+n) exactly one JSON object (surrounding white space allowed)?
** Its top-level keys go to j->keys, each followed by ',', NUL-terminated. */
static inline int json_object_ok(const char *s, size_t n, ctest_Json *j) {
    memset(j, 0, sizeof *j);
    j->p = s;
    j->end = s + n;
    j_ws(j);
    if (j->p >= j->end || *j->p != '{' || j_value(j) != 0) {
        return 0;
    }
    j_ws(j);
    if (j->p != j->end) {
        return 0;
    }
    j->keys[j->klen] = '\0';
    return 1;
}

/* Is NUL-terminated 's' exactly one JSON object? */
static inline int json_ok(const char *s) {
    ctest_Json j;
    return json_object_ok(s, strlen(s), &j);
}

/* Is NUL-terminated 's' exactly one JSON value of any kind? */
static inline int json_valid(const char *s) {
    ctest_Json j;
    memset(&j, 0, sizeof j);
    j.p = s;
    j.end = s + strlen(s);
    j.depth = 1; /* keys of a top-level object are not collected */
    if (j_value(&j) != 0) {
        return 0;
    }
    j_ws(&j);
    return j.p == j.end;
}

#endif
