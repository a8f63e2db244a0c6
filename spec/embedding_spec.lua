-- spec/embedding_spec.lua -- docs/embedding.md quotes examples/embed.c
-- exactly (the ctest example_embed builds and runs the file itself).
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("embedding doc", function()
  it("quotes examples/embed.c byte for byte in its ```c block", function()
    local doc, src = read("docs/embedding.md"), read("examples/embed.c")
    local quoted = doc:match("\n```c\n(/%* embed%.c.-\n)```\n")
    assert.is_not_nil(quoted, "no ```c block starting with the file's first line")
    assert.are.equal(src, quoted)
  end)

  it("shows what the example prints, as the ctest expects it", function()
    local doc, cm = read("docs/embedding.md"), read("CMakeLists.txt")
    local expect = cm:match('PASS_REGULAR_EXPRESSION "(ticks=[^"]*)"')
    assert.is_not_nil(expect)
    assert.is_truthy(doc:find(expect, 1, true))
  end)
end)
