-- browser_check.lua PAGE DOM [--demo] -- check what headless Chromium drew
-- for an HTML report (lua/lispbt/report.lua): DOM is `chromium --dump-dom`
-- of PAGE.  The page's script writes a JSON summary of what it drew into
-- <pre id="summary">; every panel whose data is not empty must have drawn
-- something, the tree one element per node of bt_def, and the page must
-- have loaded no resource at all.  --demo: the page is `make demo`'s, and
-- every panel must have data.
package.path = "./lua/?.lua;" .. package.path
local report = require("lispbt.report")

local page, dom, demo = arg[1], arg[2], arg[3] == "--demo"
local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function fail(msg)
  io.stderr:write(("browser-check: %s: %s\n"):format(page, msg))
  os.exit(1)
end

local html, out = slurp(page), slurp(dom)
local data = assert(report.decode(html:match('<script type="application/json" id="data">(.-)</script>')))
local text = out:match('<pre id="summary">(.-)</pre>')
if not text or text == "" then
  fail("the page wrote no summary: its script did not run to the end")
end
text = text:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&amp;", "&")
local S, err = report.decode(text)
if not S then fail("summary is not JSON: " .. err) end
if S.ok ~= true then fail("summary not ok") end
if #S.errors > 0 then fail("script errors: " .. table.concat(S.errors, "; ")) end
if S.resources ~= 0 then fail(("the page loaded %s resources; it must load none"):format(S.resources)) end

local want_nodes = data.tree and #data.tree.nodes or 0
if S.tree_nodes ~= want_nodes then
  fail(("the tree has %d node elements, bt_def has %d nodes"):format(S.tree_nodes, want_nodes))
end
-- chart -> does the data have something for it
local has = {
  ticks = data.ticks.count > 0, hist = data.ticks.count > 0, gc = data.gc.count > 0,
  heap = #data.gc.heap > 0, alloc = #data.gc.alloc > 0, lanes = data.sched.count > 0,
  queue = #data.sched.depth > 0, planner = data.planner.count > 0, bb = data.bb.count > 0,
}
local drawn = {}
for chart, yes in pairs(has) do
  local n = S.charts[chart]
  if n == nil then fail("no figure for chart " .. chart) end
  if yes and n == 0 then fail(("chart %s has data but drew nothing"):format(chart)) end
  if not yes and n ~= 0 then fail(("chart %s has no data but drew %d"):format(chart, n)) end
  if yes then drawn[#drawn + 1] = chart .. "=" .. n end
end
if demo then
  if want_nodes == 0 then fail("the demo's page has no tree") end
  for _, chart in ipairs({ "ticks", "hist", "gc", "heap", "alloc", "lanes", "queue", "planner", "bb" }) do
    if not has[chart] then fail("the demo's page has no data for chart " .. chart) end
  end
end
table.sort(drawn)
print(("browser-check: %s: ok, %d tree nodes, %s"):format(page, S.tree_nodes, table.concat(drawn, " ")))
