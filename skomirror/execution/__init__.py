"""Running a plan: the worker pool, the layer-aware scheduler, per-registry limits and the byte meter."""
