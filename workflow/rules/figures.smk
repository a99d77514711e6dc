# Figures of the simulation stage (paper Figs 1 and 2).
