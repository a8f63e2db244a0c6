# csrc/planner/ -- MCTS core and models, planner records, the planner.*
# builtins and the planner leaves: plan-action, apply-planned-1d (see docs/planner.md).
list(APPEND LISPBT_CORE_SOURCES planner_mcts.c planner_models.c planner_plan.c planner_record.c planner_req.c planner_lib.c planner_leaf.c)
