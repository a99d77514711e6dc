# lyapunov stage (see its issue); appends its final outputs to ALL_TARGETS.
