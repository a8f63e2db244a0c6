# csrc/base/ -- services every layer may use: allocator accounting, text
# buffer, RNG, clock, histograms, log ring.  Knows nothing of Lisp or BT.
list(APPEND LISPBT_CORE_SOURCES mem.c sbuf.c rng.c hist.c log.c)
