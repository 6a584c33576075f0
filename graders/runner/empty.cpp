// An executable needs at least one source of its own; the grader main comes from a library.
