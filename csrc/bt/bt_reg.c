/*
** bt_reg.c -- the per-host leaf registry and blackboard key table.
** See LICENSE for copyright.
**
** Leaf ids index 'leaves', an array of separately allocated entries whose
** addresses never change: compiled trees keep pointers to them (bt_LeafArgs),
** so a tick never looks an id up and a leaf may register leaves while it
** runs.  Two Lisp maps (conditions, actions) take a
** name symbol to its id and are used only at compile and registration
** time.  Registering a name that trees already use fills in the same
** entry, so compiled trees see the new implementation.
**
** Blackboard keys are host-wide small integers: a Lisp map from the key's
** name (a string) to its id, and a vec of names by id.  Symbols and strings
** with the same name are the same key.
*/
#include "conf.h"

#include <string.h>

#include "bt_node.h"
#include "host.h"

struct bt_Reg {
    lispbt_Host *H;
    bt_Leaf **leaves;
    int n, cap;
    lisp_Value maps[2]; /* BT_KCOND, BT_KACT: name symbol -> id */
    lisp_Value keymap;  /* name string -> key id */
    lisp_Value keynames; /* vec of name strings by id */
    void (*release)(lispbt_Host *H, const bt_Leaf *l);
};

/* The function of a leaf not registered (yet): fails with an error. */
static int unknownleaf(bt_Ctx *c, int64_t ud) {
    const bt_Leaf *l = c->a->leaf;
    (void)ud;
    return bt_leaf_error(c, "unknown %s '%s'", l->kind == BT_KCOND ? "condition" : "action",
                         l->cname);
}

bt_Reg *bt_reg_new(lispbt_Host *H) {
    bt_Reg *R = mem_calloc(&H->mem, sizeof(bt_Reg));
    if (R == NULL) {
        return NULL;
    }
    R->H = H;
    R->maps[0] = R->maps[1] = R->keymap = R->keynames = lisp_nil();
    return R;
}

void bt_reg_free(bt_Reg *R) {
    int i;
    if (R == NULL) {
        return;
    }
    for (i = 0; i < R->n; i++) {
        mem_free(&R->H->mem, R->leaves[i], sizeof(bt_Leaf));
    }
    mem_free(&R->H->mem, R->leaves, sizeof(bt_Leaf *) * (size_t)R->cap);
    mem_free(&R->H->mem, R, sizeof(bt_Reg));
}

void bt_reg_setrelease(bt_Reg *R, void (*f)(lispbt_Host *H, const bt_Leaf *l)) {
    R->release = f;
}

void bt_reg_mark(lisp_State *S, bt_Reg *R) {
    int i;
    lisp_markvalue(S, R->maps[0]);
    lisp_markvalue(S, R->maps[1]);
    lisp_markvalue(S, R->keymap);
    lisp_markvalue(S, R->keynames);
    for (i = 0; i < R->n; i++) {
        lisp_markvalue(S, R->leaves[i]->name);
    }
}

/* Create the maps lazily (the Lisp state must exist). */
static void ensuremaps(lisp_State *S, bt_Reg *R) {
    int base = lisp_gettop(S);
    if (R->maps[0].tag == LISP_TNIL) {
        R->maps[0] = lisp_map(S, 16);
        R->maps[1] = lisp_map(S, 16);
        R->keymap = lisp_map(S, 16);
        R->keynames = lisp_vec(S, 16);
    }
    lisp_settop(S, base);
}

int bt_reg_id(lisp_State *S, bt_Reg *R, int kind, lisp_Value name) {
    lisp_Value v;
    bt_Leaf *l;
    ensuremaps(S, R);
    if (lisp_mapget(R->maps[kind], name, &v)) {
        return (int)v.u.i;
    }
    if (R->n == R->cap) {
        int ncap = R->cap ? R->cap * 2 : 32;
        bt_Leaf **nl = mem_realloc(&R->H->mem, R->leaves, sizeof(bt_Leaf *) * (size_t)R->cap,
                                   sizeof(bt_Leaf *) * (size_t)ncap);
        if (nl == NULL) {
            lisp_error(S, "out of memory");
        }
        R->leaves = nl;
        R->cap = ncap;
    }
    l = mem_calloc(&R->H->mem, sizeof(bt_Leaf));
    if (l == NULL) {
        lisp_error(S, "out of memory");
    }
    l->name = name;
    l->cname = lisp_str(name, NULL);
    l->kind = (uint8_t)kind;
    l->impl = BT_IMPL_NONE;
    l->fn = unknownleaf;
    R->leaves[R->n++] = l; /* owned (and marked) before the map insert, which may raise */
    lisp_mapset(S, R->maps[kind], name, lisp_int(R->n - 1));
    return R->n - 1;
}

int bt_reg_define(lisp_State *S, bt_Reg *R, int kind, lisp_Value name, int impl, bt_LeafFn fn,
                  bt_HaltFn halt, int64_t ud, int64_t ud2) {
    int id = bt_reg_id(S, R, kind, name);
    bt_Leaf *l = R->leaves[id];
    if (l->impl != BT_IMPL_NONE && R->release) {
        R->release(R->H, l);
    }
    l->impl = (uint8_t)impl;
    l->fn = fn;
    l->halt = halt;
    l->ud = ud;
    l->ud2 = ud2;
    return id;
}

bt_Leaf *bt_reg_leaf(bt_Reg *R, int id) {
    return R->leaves[id];
}

int bt_key(lisp_State *S, lisp_Value name) {
    bt_Reg *R = H(S)->bt;
    size_t n;
    const char *s = lisp_str(name, &n);
    lisp_Value v;
    int base, id;
    if (s == NULL || n == 0) {
        lisp_error(S, "blackboard key must be a non-empty symbol or string");
    }
    ensuremaps(S, R);
    if (lisp_mapgetstr(R->keymap, s, n, &v)) {
        return (int)v.u.i;
    }
    base = lisp_gettop(S);
    lisp_push(S, name); /* 's' points into it */
    id = (int)lisp_veclen(R->keynames);
    {
        lisp_Value str = name.tag == LISP_TSTRING ? name : lisp_string(S, s, n);
        lisp_vecpush(S, R->keynames, str);
        lisp_mapset(S, R->keymap, str, lisp_int(id));
    }
    lisp_settop(S, base);
    return id;
}

int bt_key_find(lisp_State *S, const char *name, size_t len) {
    bt_Reg *R = H(S)->bt;
    lisp_Value v;
    if (R->keymap.tag == LISP_TNIL || !lisp_mapgetstr(R->keymap, name, len, &v)) {
        return -1;
    }
    return (int)v.u.i;
}

const char *bt_key_name(lispbt_Host *H, int key) {
    bt_Reg *R = H->bt;
    if (key < 0 || R->keynames.tag == LISP_TNIL || key >= lisp_veclen(R->keynames)) {
        return "?";
    }
    return lisp_str(lisp_vecitems(R->keynames)[key], NULL);
}

int bt_key_count(lispbt_Host *H) {
    bt_Reg *R = H->bt;
    return R->keynames.tag == LISP_TNIL ? 0 : (int)lisp_veclen(R->keynames);
}
