/*
** bt_reg.c -- the leaf registry and blackboard key table of a lisp_State,
** and the services (bt_Env) its host gave the engine.  See LICENSE for
** copyright.
**
** Leaf ids index 'leaves', an array of separately allocated entries whose
** addresses never change: compiled trees keep pointers to them (bt_LeafArgs),
** so a tick never looks an id up and a leaf may register leaves while it
** runs.  Two Lisp maps (conditions, actions) take a
** name symbol to its id and are used only at compile and registration
** time.  Registering a name that trees already use fills in the same
** entry, so compiled trees see the new implementation.  A third map takes
** the head symbol of a leaf form (bt_CLeaf.form) to its entry.
**
** Blackboard keys are state-wide small integers: a Lisp map from the key's
** name (a string) to its id, and a vec of names by id.  Symbols and strings
** with the same name are the same key.
*/
#include "conf.h"

#include <string.h>

#include "bt_node.h"

struct bt_Reg {
    bt_Env env;
    bt_Leaf **leaves;
    int n, cap;
    lisp_Value maps[2]; /* BT_KCOND, BT_KACT: name symbol -> id */
    lisp_Value forms;   /* form head symbol -> id */
    lisp_Value keymap;  /* name string -> key id */
    lisp_Value keynames; /* vec of name strings by id */
};

/* The function of a leaf not registered (yet): fails with an error. */
static int unknownleaf(bt_Ctx *c, int64_t ud) {
    const bt_Leaf *l = c->a->leaf;
    (void)ud;
    return bt_leaf_error(c, "unknown %s '%s'", l->kind == BT_KCOND ? "condition" : "action",
                         l->cname);
}

bt_Reg *bt_reg_new(lisp_State *S, const bt_Env *env) {
    bt_Reg *R = mem_calloc(env->mem, sizeof(bt_Reg));
    if (R == NULL) {
        return NULL;
    }
    R->env = *env;
    R->maps[0] = R->maps[1] = R->forms = R->keymap = R->keynames = lisp_nil();
    lisp_setslot(S, LISPBT_SLOT_BT, R);
    if (bt_leaves_open(S, R) != LISP_OK) {
        lisp_setslot(S, LISPBT_SLOT_BT, NULL);
        bt_reg_free(R);
        return NULL;
    }
    return R;
}

bt_Reg *bt_reg(lisp_State *S) {
    return lisp_slot(S, LISPBT_SLOT_BT);
}

bt_Env *bt_reg_env(bt_Reg *R) {
    return &R->env;
}

void bt_reg_free(bt_Reg *R) {
    int i;
    if (R == NULL) {
        return;
    }
    for (i = 0; i < R->n; i++) {
        mem_free(R->env.mem, R->leaves[i], sizeof(bt_Leaf));
    }
    mem_free(R->env.mem, R->leaves, sizeof(bt_Leaf *) * (size_t)R->cap);
    mem_free(R->env.mem, R, sizeof(bt_Reg));
}

void bt_reg_mark(lisp_State *S, bt_Reg *R) {
    int i;
    lisp_markvalue(S, R->maps[0]);
    lisp_markvalue(S, R->maps[1]);
    lisp_markvalue(S, R->forms);
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
        R->forms = lisp_map(S, 4);
        R->keymap = lisp_map(S, 16);
        R->keynames = lisp_vec(S, 16);
    }
    lisp_settop(S, base);
}

/* A new unresolved entry (owned and marked before any map insert, which
** may raise). */
static int newentry(lisp_State *S, bt_Reg *R, int kind, lisp_Value name) {
    bt_Leaf *l;
    if (R->n == R->cap) {
        int ncap = R->cap ? R->cap * 2 : 32;
        bt_Leaf **nl = mem_realloc(R->env.mem, R->leaves, sizeof(bt_Leaf *) * (size_t)R->cap,
                                   sizeof(bt_Leaf *) * (size_t)ncap);
        if (nl == NULL) {
            lisp_memerror(S);
        }
        R->leaves = nl;
        R->cap = ncap;
    }
    l = mem_calloc(R->env.mem, sizeof(bt_Leaf));
    if (l == NULL) {
        lisp_memerror(S);
    }
    l->name = name;
    l->cname = lisp_str(name, NULL);
    l->kind = (uint8_t)kind;
    l->impl = BT_IMPL_NONE;
    l->fn = unknownleaf;
    R->leaves[R->n++] = l;
    return R->n - 1;
}

int bt_reg_id(lisp_State *S, bt_Reg *R, int kind, lisp_Value name) {
    lisp_Value v;
    int id;
    ensuremaps(S, R);
    if (lisp_mapget(R->maps[kind], name, &v)) {
        return (int)v.u.i;
    }
    id = newentry(S, R, kind, name);
    lisp_mapset(S, R->maps[kind], name, lisp_int(id));
    return id;
}

/* Release what a replaced entry held: the pins of a Lisp leaf, the
** callback keys of a Lua leaf (the binding drops them). */
static void release(lisp_State *S, bt_Reg *R, const bt_Leaf *l) {
    if (l->impl == BT_IMPL_LISP) {
        lisp_unpin(S, (int)l->ud);
        if (l->ud2 >= 0) {
            lisp_unpin(S, (int)l->ud2);
        }
    } else if (l->impl == BT_IMPL_LUA && R->env.deadkey) {
        R->env.deadkey(R->env.deadkey_ud, l->ud);
        if (l->ud2 > 0) {
            R->env.deadkey(R->env.deadkey_ud, l->ud2);
        }
    }
}

int bt_reg_define(lisp_State *S, bt_Reg *R, int kind, lisp_Value name, int impl, bt_LeafFn fn,
                  bt_HaltFn halt, int64_t ud, int64_t ud2) {
    int id = bt_reg_id(S, R, kind, name);
    bt_Leaf *l = R->leaves[id];
    if (l->impl != BT_IMPL_NONE) {
        release(S, R, l);
    }
    l->impl = (uint8_t)impl;
    l->fn = fn;
    l->halt = halt;
    l->drop = NULL;
    l->check = NULL;
    l->ud = ud;
    l->ud2 = ud2;
    return id;
}

/* Id of the leaf form whose head is 'name' (a symbol), or -1. */
int bt_reg_form(bt_Reg *R, lisp_Value name) {
    lisp_Value v;
    if (R->forms.tag == LISP_TNIL || !lisp_mapget(R->forms, name, &v)) {
        return -1;
    }
    return (int)v.u.i;
}

typedef struct OpenArgs {
    bt_Reg *R;
    const bt_CLeaf *l;
} OpenArgs;

static void openleaves(lisp_State *S, void *ud) {
    OpenArgs *a = ud;
    bt_Reg *R = a->R;
    const bt_CLeaf *c;
    ensuremaps(S, R);
    for (c = a->l; c->name; c++) {
        int base = lisp_gettop(S), id;
        lisp_Value name = lisp_cintern(S, c->name);
        bt_Leaf *l;
        if (c->form) {
            if (bt_kindof(name) >= 0 || bt_reg_form(R, name) >= 0) {
                lisp_error(S, "bt: leaf form '%s' is already a node kind or form", c->name);
            }
            id = newentry(S, R, BT_KACT, name);
            lisp_mapset(S, R->forms, name, lisp_int(id));
            l = R->leaves[id];
            l->form = 1;
            l->impl = BT_IMPL_C;
            l->fn = c->fn;
            l->halt = c->halt;
        } else {
            id = bt_reg_define(S, R, c->kind, name, BT_IMPL_C, c->fn, c->halt, 0, 0);
            l = R->leaves[id];
        }
        l->drop = c->drop;
        l->check = c->check;
        lisp_settop(S, base);
    }
}

int bt_reg_open(lisp_State *S, bt_Reg *R, const bt_CLeaf *l) {
    OpenArgs a;
    a.R = R;
    a.l = l;
    return lisp_pcall(S, openleaves, &a);
}

bt_Leaf *bt_reg_leaf(bt_Reg *R, int id) {
    return R->leaves[id];
}

int bt_key(lisp_State *S, lisp_Value name) {
    bt_Reg *R = bt_reg(S);
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
    bt_Reg *R = bt_reg(S);
    lisp_Value v;
    if (R->keymap.tag == LISP_TNIL || !lisp_mapgetstr(R->keymap, name, len, &v)) {
        return -1;
    }
    return (int)v.u.i;
}

const char *bt_key_name(lisp_State *S, int key) {
    bt_Reg *R = bt_reg(S);
    if (key < 0 || R->keynames.tag == LISP_TNIL || key >= lisp_veclen(R->keynames)) {
        return "?";
    }
    return lisp_str(lisp_vecitems(R->keynames)[key], NULL);
}

int bt_key_count(lisp_State *S) {
    bt_Reg *R = bt_reg(S);
    return R->keynames.tag == LISP_TNIL ? 0 : (int)lisp_veclen(R->keynames);
}
