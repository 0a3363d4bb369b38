"""Running files: the proof cache and its replay, workers for several files, the typeset model for LaTeX."""
