# csrc/sched/ -- the worker-thread pool (see docs/scheduler.md), and its
# Lisp-facing side: the async-sleep-ms leaf and the bt.scheduler.* builtins.
list(APPEND LISPBT_CORE_SOURCES sched.c sched_stats.c sched_lib.c)
