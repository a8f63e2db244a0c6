# csrc/sched/ -- the worker-thread pool (see docs/scheduler.md).
list(APPEND LISPBT_CORE_SOURCES sched.c)
