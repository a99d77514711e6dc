# Report and job-accounting rules (issue 7); appends its outputs to ALL_TARGETS.
