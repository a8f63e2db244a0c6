/*
** fuzz_lua.c -- libFuzzer harness: the Lua surface.
** See LICENSE for copyright.
**
** One lua_State per process with the binding opened in it (its sources are
** compiled into this program, so nothing is dlopen'ed; liblua5.4 is linked
** as by spec/c/test_threads.c).  Each input is a byte-coded program that
** the Lua driver below (DRIVER) interprets: every byte picks an operation
** on up to four hosts, trees, instances and values -- lispbt.new with
** fuzzed options, eval of snippets or of fuzzed source, compile, instance,
** tick with input tables, halt/reset/trace switches, blackboard access,
** host:call/set/get, heap/gc/logs/stats, to_dsl, host:close, dropping a
** handle, Lua garbage collection, and lispbt.T.allocfail around another
** operation.  The Lua leaves and the builtin fz-cb registered on every
** host also take their behaviour from the byte stream: return a status or
** a value, raise, re-enter the host (eval, tick), keep ctx for later, or
** close the host from inside the call.  Every operation runs under pcall
** (errors are expected); what must hold is no sanitizer report and a
** consistent heap (lispbt.T.verify) on every host still open at the end.
** LISPBT_FUZZ_DEBUG=1 prints each operation's outcome to stderr.
**
** Why fresh hosts per input here, while the other harnesses reuse one:
** the lifecycle of hosts is what this harness fuzzes (close at any point,
** handles that outlive their host, collection of hosts, values of one
** host passed to another).  Hosts are cheap because the driver gives
** them max_depth <= 560 (the value stack is max_depth * 24 slots), and an
** input makes at most 6; one option byte value in 256 (90, not one of
** libFuzzer's favourite mutations) turns gc_stress on.  At the
** end of an input every host is closed and Lua collects everything, so
** inputs do not share state (except the Lua state's own allocator).
*/
#include "fuzz_common.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_lispbt(lua_State *L);

static const char DRIVER[] =
    "local lispbt, T, SANDBOX, fzabort = ...\n"
    "local byte, sub = string.byte, string.sub\n"
    "local DEBUG = os.getenv('LISPBT_FUZZ_DEBUG')\n"
    "local D, P = '', 1\n"
    "local function u8() if P > #D then return nil end local b = byte(D, P); P = P + 1; return b end\n"
    "local function n8() return u8() or 0 end\n"
    "local function fstr() local n = n8() % 64; local s = sub(D, P, P + n - 1); P = P + n; return s end\n"
    "local H, Tr, I, V = {}, {}, {}, {}\n"
    "local NH = 0 -- hosts made by this input (at most 6: host_new is the slow part)\n"
    "local function pick(t) return t[n8() % 4 + 1] end\n"
    "local function slot() return n8() % 4 + 1 end\n"
    "local EVAL = {\n"
    "  '(define (sq x) (* x x)) (sq 12)',\n"
    "  '(list 1 2.5 \"s\" (quote sym) (vec.make 3 0) (map.make \"a\" 1 (quote b) 2))',\n"
    "  '(define t (bt.compile (quote (seq (act lact) (cond lcond) (act fz-act)))))',\n"
    "  '(bt.tick (bt.new-instance (bt.compile (quote (sel (cond lcond) (act lact 1 2))))))',\n"
    "  '(fz-cb 1 \"two\" (quote three) (list 4 5))',\n"
    "  '(error \"boom\" 42)',\n"
    "  '(heap-stats)',\n"
    "  '(planner.mcts (map.make \"state\" (list 0.0) \"iters_max\" 10))',\n"
    "  '(define l (list 1 2 3)) (write-to-string (append l l))',\n"
    "  '(bt.logs.dump) (planner.logs.dump) (bt.scheduler.stats)',\n"
    "  '(save \"x.lisp\" (list 1 \"a\" (quote b))) (read-file \"x.lisp\")',\n"
    "  '(define d (bt.compile (quote (repeat 2 (act lact))))) (bt.save-dsl d \"t.lisp\") (bt.load-dsl \"t.lisp\")',\n"
    "  '(metrics.prometheus)',\n"
    "  '(apply fz-cb (list 1 2))',\n"
    "  '(define i (bt.new-instance (bt.compile (quote (act async-sleep-ms 1))))) (bt.tick i) (bt.halt i)',\n"
    "  '(gc-stats)',\n"
    "}\n"
    "local DSL = {\n"
    "  '(seq (act lact) (cond lcond))',\n"
    "  '(sel (seq (cond lcond x) (act lact 1)) (act lact 2.5 \"s\"))',\n"
    "  '(par 2 (act lact) (act running-then-success 2) (act async-sleep-ms 1))',\n"
    "  '(mem-seq (retry 2 (act lact)) (repeat 2 (invert (cond lcond))) (act bb-put-int x 1))',\n"
    "  '(sel (plan-action :state_key pos :action_key step :iters_max 10) (act apply-planned-1d))',\n"
    "  '(mem-sel (act lact) (act fz-act) (running))',\n"
    "  '(seq (cond bb-has x) (act bb-put-float y 1.5) (succeed))',\n"
    "  '(act undefined-leaf)',\n"
    "}\n"
    "local NAMES = { 'car', 'list', '+', 'vec.make', 'map.make', 'bt.tick', 'bt.stats', 'write-to-string',\n"
    "  'fz-cb', 'equal?', 'apply', 'bt.new-instance', 'error', 'length', 'bt.to-dsl', 'string-append' }\n"
    "local KEYS = { 'x', 'y', 'pos', 'k' }\n"
    "local function arg()\n"
    "  local b = n8()\n"
    "  local k = b % 10\n"
    "  if k == 0 then return nil elseif k == 1 then return b elseif k == 2 then return b / 3\n"
    "  elseif k == 3 then return 's' .. b elseif k == 4 then return { 1, 'two', { x = 3 } }\n"
    "  elseif k == 5 then return V[b % 4 + 1] elseif k == 6 then return I[b % 4 + 1]\n"
    "  elseif k == 7 then return Tr[b % 4 + 1] elseif k == 8 then return lispbt.symbol('sym' .. b % 3)\n"
    "  else return H[b % 4 + 1] end\n"
    "end\n"
    "local function fzpath(p)\n"
    "  if type(p) ~= 'string' then return p end\n"
    "  local n = p:gsub('[^%w%._%-]', ''):sub(1, 40)\n"
    "  if n == '' or n == '.' or n == '..' then n = 'f' end\n"
    "  return SANDBOX .. '/' .. n\n"
    "end\n"
    "local PRELUDE = [[\n"
    "(define save (let ((f save)) (lambda (p x) (f (fz-path p) x))))\n"
    "(define read-file (let ((f read-file)) (lambda (p) (f (fz-path p)))))\n"
    "(define %load (let ((f %load)) (lambda (p) (f (fz-path p)))))\n"
    "(define bt.save-dsl (let ((f bt.save-dsl)) (lambda (d p) (f d (fz-path p)))))\n"
    "(define bt.load-dsl (let ((f bt.load-dsl)) (lambda (p) (f (fz-path p)))))\n"
    "(define bt.export-dot (let ((f bt.export-dot)) (lambda (d p) (f d (fz-path p)))))\n"
    "(define time.sleep-ms (let ((f time.sleep-ms)) (lambda (ms) (f (if (and (int? ms) (>= ms 0) (<= ms 86400000)) 0 ms)))))\n"
    "(define bt.series.write (let ((f bt.series.write)) (lambda (i p . r) (apply f i (fz-path p) r))))\n"
    "(define planner.set-log-path (let ((f planner.set-log-path)) (lambda (p) (f (fz-path p)))))\n"
    "(planner.set-log-path \"planner-records.jsonl\")\n"
    "]]\n"
    "local function reenter(h)\n"
    "  local b = n8() % 4\n"
    "  if b == 0 then return h:eval(EVAL[n8() % #EVAL + 1])\n"
    "  elseif b == 1 then local i = pick(I); if i then return i:tick() end\n"
    "  elseif b == 2 then h:close()\n"
    "  else collectgarbage() end\n"
    "end\n"
    "local function callback(h, ...)\n"
    "  local b = n8() % 8\n"
    "  if b == 0 then return ... elseif b == 1 then error('fz-cb error ' .. b)\n"
    "  elseif b == 2 then return reenter(h) elseif b == 3 then return { 1, 'a', { x = 1 } }\n"
    "  elseif b == 4 then return lispbt.symbol('s') elseif b == 5 then V[slot()] = select('#', ...) > 0 and (...) or nil\n"
    "  elseif b == 6 then return 0 / 0 else return select('#', ...) end\n"
    "end\n"
    "local function leaf(h, act, ctx, ...)\n"
    "  local b = u8()\n"
    "  if b == nil then return act and 'success' or true end\n"
    "  local k = b % 12\n"
    "  if k == 0 then return 'success' elseif k == 1 then return act and 'failure' or false\n"
    "  elseif k == 2 then return act and 'running' or nil elseif k == 3 then error('leaf error')\n"
    "  elseif k == 4 then ctx:put(KEYS[b % 4 + 1], b) return true\n"
    "  elseif k == 5 then return ctx:get(KEYS[b % 4 + 1])\n"
    "  elseif k == 6 then ctx.memory.n = (ctx.memory.n or 0) + 1 return act and 'running' or true\n"
    "  elseif k == 7 then V[slot()] = ctx return 'success'\n"
    "  elseif k == 8 then reenter(h) return 'success'\n"
    "  elseif k == 9 then return ctx.halted, ctx.tick, ctx.node, ctx.name\n"
    "  elseif k == 10 then return 42\n"
    "  else return select('#', ...) > 0 and (...) or 'success' end\n"
    "end\n"
    "local function newhost()\n"
    "  local b1, b2, b3 = n8(), n8(), n8()\n"
    "  local h = lispbt.new{ workers = b1 % 2, max_depth = 50 + b2 * 2, heap_limit = (1 + b3 % 4) * 262144,\n"
    "    gc_stress = (b1 == 90), trace_capacity = 1 + b2 % 64, log_capacity = 1 + b3 % 32,\n"
    "    planner_capacity = 1 + b1 % 8 }\n"
    "  h:register_builtin('fz-path', fzpath)\n"
    "  h:register_builtin('fz-cb', function(...) return callback(h, ...) end)\n"
    "  h:eval(PRELUDE)\n"
    "  h:register_action('lact', function(ctx, ...) return leaf(h, true, ctx, ...) end,\n"
    "    b1 % 2 == 0 and function(ctx) if n8() % 4 == 0 then error('halt error') end end or nil)\n"
    "  h:register_condition('lcond', function(ctx, ...) return leaf(h, false, ctx, ...) end)\n"
    "  return h\n"
    "end\n"
    "local ops\n"
    "ops = {\n"
    "  [0] = function() if NH < 6 then NH = NH + 1; H[slot()] = newhost() end end,\n"
    "  function() local h = pick(H); if h then V[slot()] = h:eval(EVAL[n8() % #EVAL + 1]) end end,\n"
    "  function() local h = pick(H); if h then V[slot()] = h:eval(fstr()) end end,\n"
    "  function() local h = pick(H); if h then\n"
    "    local s = n8() % 4 == 0 and fstr() or DSL[n8() % #DSL + 1]; Tr[slot()] = h:compile(s) end end,\n"
    "  function() local t = pick(Tr); if t then I[slot()] = t:instance() end end,\n"
    "  function() local i = pick(I); if i then\n"
    "    local b = n8(); local inp\n"
    "    if b % 2 == 1 then inp = { [KEYS[(b >> 1) % 4 + 1]] = arg() } end\n"
    "    V[1] = i:tick(inp) end end,\n"
    "  function() local i = pick(I); if i then local b = n8() % 8\n"
    "    if b == 0 then i:halt() elseif b == 1 then i:reset() elseif b == 2 then i:clear_trace()\n"
    "    elseif b == 3 then i:set_trace_enabled(n8() % 2 == 0) elseif b == 4 then i:set_profile_level(n8() % 4)\n"
    "    elseif b == 5 then i:set_tick_budget_ms(n8()) elseif b == 6 then i:set_read_trace_enabled(true)\n"
    "    else V[2] = i:stats() end end end,\n"
    "  function() local h = pick(H); if h then h:close() end end,\n"
    "  function() local b = n8(); if b % 2 == 0 then collectgarbage('collect') else collectgarbage('step', b) end end,\n"
    "  function() local b = n8(); local t = ({ H, Tr, I, V })[b % 4 + 1]; t[(b >> 2) % 4 + 1] = nil end,\n"
    "  function() local h = pick(H); if h then V[slot()] = h:call(NAMES[n8() % #NAMES + 1], arg(), arg()) end end,\n"
    "  function() local h = pick(H); if h then\n"
    "    if n8() % 2 == 0 then h:set(KEYS[n8() % 4 + 1], arg()) else V[slot()] = h:get(NAMES[n8() % #NAMES + 1]) end end end,\n"
    "  function() local i = pick(I); if i then local b = n8() % 5\n"
    "    if b == 0 then V[3] = i:get(KEYS[n8() % 4 + 1]) elseif b == 1 then i:put(KEYS[n8() % 4 + 1], arg())\n"
    "    elseif b == 2 then V[3] = i:blackboard() elseif b == 3 then V[3] = i:trace(n8() % 8) else V[3] = i:stats() end end end,\n"
    "  function() local h = pick(H); if h then local b = n8() % 7\n"
    "    if b == 0 then V[4] = h:heap() elseif b == 1 then V[4] = h:gc() elseif b == 2 then V[4] = h:logs(n8() % 8)\n"
    "    elseif b == 3 then V[4] = h:scheduler_stats() elseif b == 4 then V[4] = h:planner_records(n8() % 4)\n"
    "    elseif b == 5 then V[4] = h.bt.stats(pick(I)) else V[4] = h.bt.trace.dump(pick(I)) end end end,\n"
    "  function() local t = pick(Tr); if t then V[slot()] = t:to_dsl() end end,\n"
    "  function() local h = pick(H); if h then\n"
    "    T.allocfail(h, 1 + n8() + 256 * (n8() % 4))\n"
    "    pcall(ops[n8() % 15])\n"
    "    T.allocfail(h, 0)\n"
    "    if T.verify(h) ~= 0 then fzabort('lispbt.T.verify: heap inconsistent after an allocation failure') end end end,\n"
    "  function() local h = pick(H); if h then\n"
    "    if n8() % 2 == 0 then h:register_action('lact', function(ctx, ...) return leaf(h, true, ctx, ...) end)\n"
    "    else h:register_condition('lcond', function(ctx) return n8() % 2 == 0 end) end end end,\n"
    "}\n"
    "local NOPS = #ops + 1\n"
    "return function(data)\n"
    "  D, P, NH = data, 1, 0\n"
    "  local n = 0\n"
    "  while P <= #D and n < 256 do\n"
    "    n = n + 1\n"
    "    local op = n8() % NOPS\n"
    "    local ok, e = pcall(ops[op])\n"
    "    if DEBUG then io.stderr:write(('op %d: %s\\n'):format(op, ok and 'ok' or tostring(e))) end\n"
    "  end\n"
    "  for k = 1, 4 do\n"
    "    local h = H[k]\n"
    "    if h then\n"
    "      local ok, r = pcall(T.verify, h)\n"
    "      if ok and r ~= 0 then fzabort('lispbt.T.verify: heap inconsistent') end\n"
    "      pcall(h.close, h)\n"
    "    end\n"
    "  end\n"
    "  for _, t in ipairs { H, Tr, I, V } do for k = 1, 4 do t[k] = nil end end\n"
    "  D = ''\n"
    "  collectgarbage('collect')\n"
    "  collectgarbage('collect')\n"
    "end\n";

static lua_State *L;
static int runref;

static int l_abort(lua_State *L1) {
    fz_die("lua", luaL_optstring(L1, 1, "abort"));
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_sandbox();
    L = luaL_newstate();
    if (L == NULL) {
        fz_die("lua", "cannot create a state");
    }
    luaL_openlibs(L);
    luaL_requiref(L, "lispbt", luaopen_lispbt, 0); /* the module, left on the stack */
    if (luaL_loadbuffer(L, DRIVER, sizeof DRIVER - 1, "=fuzz_lua") != LUA_OK) {
        fz_die("the driver does not compile", lua_tostring(L, -1));
    }
    lua_pushvalue(L, -2);
    lua_getfield(L, -1, "T");
    if (lua_isnil(L, -1)) {
        fz_die("lua", "no lispbt.T (a LISPBT_TESTS build is needed)");
    }
    lua_pushstring(L, fz.dir);
    lua_pushcfunction(L, l_abort);
    if (lua_pcall(L, 4, 1, 0) != LUA_OK) {
        fz_die("the driver fails to start", lua_tostring(L, -1));
    }
    runref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, runref);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        fz_die("the driver raised", lua_tostring(L, -1));
    }
    lua_settop(L, 0);
    fz_cleandir();
    return 0;
}
