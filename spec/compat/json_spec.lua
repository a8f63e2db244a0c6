-- spec/compat/json_spec.lua -- json.encode and json.decode as muesli-bt
-- documents and implements them (docs/language/reference/builtins/json/):
-- the value mapping, map keys sorted as text, floats as %.17g, numbers
-- decoded as integers when they have no fraction or exponent and fit,
-- arrays decoded as lists and objects as maps with string keys, and the
-- errors.  Plus what we add: \u escapes, a nesting limit, an output limit.
local lispbt = require("lispbt")
local H = require("compat.helpers")

describe("compat: json", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  local function enc(src) return h:eval("(json.encode " .. src .. ")") end

  describe("the reference's documented examples", function()
    it("json.encode of a list", function()
      assert.are.equal("[1,2,3]", enc("(list 1 2 3)"))
    end)

    it("json.encode of a map with a symbol key and a list of floats", function()
      assert.are.equal('{"state":[0,1],"task_id":"demo"}', h:eval([[
        (begin
          (define m (map.make))
          (map.set! m 'task_id "demo")
          (map.set! m 'state (list 0.0 1.0))
          (json.encode m))]]))
    end)

    it("json.decode of an array gives a proper list", function()
      assert.are.equal("(1 2 3)", H.show(h, '(json.decode "[1,2,3]")'))
      assert.are.equal("#t", H.show(h, '(list? (json.decode "[1,2,3]"))'))
    end)

    it("json.decode of an object gives a map with string keys", function()
      assert.are.equal('"demo"', H.show(h, [[
        (define payload "{\"task\":\"demo\",\"ok\":true}")
        (map.get (json.decode payload) "task" "")]]))
      assert.are.equal("(#t nil)", H.show(h, [[
        (define m (json.decode "{\"task\":\"demo\",\"ok\":true}"))
        (list (map.get m "ok") (map.get m 'ok))]]))
    end)
  end)

  describe("encoding", function()
    it("maps every scalar", function()
      assert.are.equal('[null,true,false,0,-42,9223372036854775807,"text","sym",":kw"]',
        enc([[(list nil #t #f 0 -42 9223372036854775807 "text" 'sym ':kw)]]))
    end)

    it("writes floats with 17 significant digits, as the reference does", function()
      assert.are.equal("[0.5,0.10000000000000001,1,-0,1e+20,9.9999999999999995e-08,3.1415926535897931]",
        enc("(list 0.5 0.1 1.0 -0.0 1e20 1e-7 3.141592653589793)"))
    end)

    it("writes vecs as arrays, and nil / the empty list as null", function()
      assert.are.equal('[[1,[2]],[],null,null]', enc("(list #(1 #(2)) #() nil '())"))
    end)

    it("sorts object keys by their text; numbers are keys by their text", function()
      assert.are.equal('{"1":"one","10":"ten","2.5":"f","B":2,"a":1,"b":{"x":[]}}',
        enc([[(map.make 'b (map.make "x" #()) 'a 1 "B" 2 10 "ten" 1 "one" 2.5 "f")]]))
      assert.are.equal("{}", enc("(map.make)"))
    end)

    it("escapes strings and keys as JSON requires", function()
      assert.are.equal([=["q\"b\\s/\n\r\t"]=], enc([["q\"b\\s/\n\r\t"]]))
      -- control bytes other than \n \r \t, and DEL, come in from a Lua string
      h:set("ctl", "\1\31\127é")
      assert.are.equal([=["\u0001\u001f\u007fé"]=], h:eval("(json.encode ctl)"))
      assert.are.equal([=[{"a\"b":1}]=], enc([[(map.make "a\"b" 1)]]))
    end)

    it("rejects what JSON cannot hold", function()
      assert.are.equal("json.encode: non-finite floats are not supported", H.err(h, "(json.encode (/ 1.0 0))"))
      assert.are.equal("json.encode: non-finite floats are not supported",
        H.err(h, "(json.encode (list 1 (/ 0.0 0)))"))
      assert.are.equal("json.encode: expected a proper list", H.err(h, "(json.encode (cons 1 2))"))
      assert.are.equal("json.encode: unsupported value type: primitive_fn", H.err(h, "(json.encode car)"))
      assert.are.equal("json.encode: unsupported value type: closure",
        H.err(h, "(json.encode (list (lambda (x) x)))"))
      assert.are.equal("json.encode: unsupported value type: pq", H.err(h, "(json.encode (pq.make))"))
      assert.are.equal("json.encode: unsupported value type: bt_def",
        H.err(h, "(json.encode (bt (succeed)))"))
      assert.are.equal("json.encode: map key must be a string, symbol or number, got a boolean",
        H.err(h, "(json.encode #{#t 1})")) -- literals: map.make refuses such keys
      assert.are.equal("json.encode: map key must be a string, symbol or number, got a list",
        H.err(h, "(json.encode #{(1) 1})"))
    end)

    it("stops at 512 levels of nesting, which also ends cycles", function()
      local nest = "(define (nest n acc) (if (= n 0) acc (nest (- n 1) (list acc)))) "
      assert.are.equal(512 * 2 + 1, #h:eval(nest .. "(json.encode (nest 512 1))"))
      assert.are.equal("json.encode: value nested deeper than 512 levels (or cyclic)",
        H.err(h, nest .. "(json.encode (nest 513 1))"))
      assert.are.equal("json.encode: value nested deeper than 512 levels (or cyclic)",
        H.err(h, "(define v (vec.make)) (vec.push! v v) (json.encode v)"))
      assert.are.equal("json.encode: value nested deeper than 512 levels (or cyclic)",
        H.err(h, "(define m (map.make)) (map.set! m 'self m) (json.encode m)"))
    end)

    it("stops at 64 MiB of output", function()
      -- 30 levels that each share one list twice describe 2^30 elements
      assert.are.equal("json.encode: output longer than 67108864 bytes", H.err(h, [[
        (define (dup n acc) (if (= n 0) acc (dup (- n 1) (list acc acc))))
        (json.encode (dup 30 "xxxxxxxx"))]]))
    end)
  end)

  describe("decoding", function()
    it("decodes scalars and keeps integers apart from floats", function()
      assert.are.equal('(nil #t #f 0 -7 2.5 -300.0 1000.0 1.0 "s")',
        H.show(h, [[(json.decode "[null, true, false, 0, -7, 2.5, -3e2, 1E3, 1.0, \"s\"]")]]))
      assert.are.equal("(9223372036854775807 9.22337203685478e+18 -9223372036854775808)",
        H.show(h, [[(json.decode "[9223372036854775807, 9223372036854775808, -9223372036854775808]")]]))
    end)

    it("decodes [] as nil and {} as an empty map; the last of a repeated key wins", function()
      assert.are.equal("(nil <map:0> 2)",
        H.printed(h, [[(list (json.decode "[]") (json.decode "{}") (map.get (json.decode "{\"k\":1,\"k\":2}") "k"))]]))
    end)

    it("decodes nested documents", function()
      assert.are.equal('(("a" . 1) ("b" 1 (2 <map:1>)))', H.printed(h, [=[
        (define m (json.decode " { \"a\" : 1 , \"b\" : [1, [2, {\"c\": null}]] } "))
        (list (cons "a" (map.get m "a")) (cons "b" (map.get m "b")))]=]))
    end)

    it("decodes every escape, \\u escapes and surrogate pairs into UTF-8", function()
      local s = h:eval([[(json.decode "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"")]])
      assert.are.equal('"\\/\b\f\n\r\tAé€😀', s)
    end)

    it("round-trips what it encodes", function()
      assert.are.equal("#t", H.show(h, [[
        (define v (list 1 2.5 "x\ny" (list #t #f nil) (map.make "k" (list 1 (map.make "z" "w")))))
        (equal? (json.decode (json.encode v)) v)]]))
    end)

    it("raises on malformed text, with the reference's messages", function()
      local cases = {
        { [[""]], "unexpected end of input" },
        { [["   "]], "unexpected end of input" },
        { [["[1,"]], "unexpected end of input" },
        { [["[1 2]"]], "expected ," },
        { [["{\"a\" 1}"]], "expected :" },
        { [["{\"a\":1,}"]], "expected string key" },
        { [["{1:2}"]], "expected string key" },
        { [["nul"]], "invalid literal" },
        { [["tru"]], "invalid literal" },
        { [["1 2"]], "trailing characters" },
        { [=["[1]]"]=], "trailing characters" },
        { [["@"]], "unexpected token" },
        { [["-"]], "invalid number" },
        { [["-x"]], "invalid number" },
        { [["1e"]], "invalid exponent" },
        { [["1e999"]], "non-finite number" },
        { [["\"abc"]], "unterminated string" },
        { [["\"\\x\""]], "unsupported escape sequence" },
        { [["\"\\u12\""]], "invalid \\u escape" },
        { [["\"\\ud800\""]], "invalid \\u escape (lone high surrogate)" },
        { [["\"\\udc00\""]], "invalid \\u escape (lone low surrogate)" },
      }
      for _, c in ipairs(cases) do
        assert.are.equal("json.decode: " .. c[2], H.err(h, "(json.decode " .. c[1] .. ")"), c[1])
      end
      assert.are.equal("json.decode: expected a string, got 5", H.err(h, "(json.decode 5)"))
    end)

    it("stops at 512 levels of nesting and handles long arrays", function()
      local ok512 = string.rep("[", 512) .. string.rep("]", 512)
      h:set("text", ok512)
      assert.are.equal("#t", H.show(h, "(list? (json.decode text))"))
      h:set("text", string.rep("[", 513) .. string.rep("]", 513))
      assert.are.equal("json.decode: nested deeper than 512 levels", H.err(h, "(json.decode text)"))
      h:set("text", string.rep('{"a":', 600))
      assert.are.equal("json.decode: nested deeper than 512 levels", H.err(h, "(json.decode text)"))
      local items = {}
      for i = 1, 100000 do items[i] = tostring(i) end
      h:set("text", "[" .. table.concat(items, ",") .. "]")
      assert.are.equal("(100000 100000)", H.show(h, "(define l (json.decode text)) (list (length l) (car (reverse l)))"))
    end)

    it("decodes under gc_stress", function()
      local s = lispbt.new({ workers = 1, gc_stress = true })
      local out = s:eval([[(write-to-string (json.encode (json.decode
        "{\"b\":[1,\"two\",{\"c\":[3.5,null]}],\"a\":\"x\"}")))]])
      s:close()
      assert.are.equal([["{\"a\":\"x\",\"b\":[1,\"two\",{\"c\":[3.5,null]}]}"]], out)
    end)
  end)

  describe("the Lua mirror", function()
    it("is host.json.encode / host.json.decode, and lispbt.json.* on the default host", function()
      assert.are.equal("[1,2,3]", h.json.encode({ 1, 2, 3 }))
      assert.are.equal('{"a":[true,"x"]}', h.json.encode({ a = { true, "x" } }))
      local t = h.json.decode('{"k":[1,2.5,null,"s"]}')
      assert.are.same({ k = { 1, 2.5, nil, "s" } }, t)
      assert.are.equal(math.type(t.k[1]), "integer")
      assert.are.equal("[1]", lispbt.json.encode({ 1 }))
      local ok, e = pcall(h.json.decode, "[")
      assert.is_false(ok)
      assert.are.equal("json.decode: unexpected end of input", e)
    end)
  end)
end)
