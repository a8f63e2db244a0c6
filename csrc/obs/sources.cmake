# csrc/obs/ -- exporters that read every engine layer: Prometheus exposition,
# the metrics.* builtins and the event stream (obs_events.c, obs_evt_*.c).
list(APPEND LISPBT_CORE_SOURCES obs_prom.c obs_lib.c obs_events.c obs_evt_fmt.c
     obs_evt_write.c)
