"""Scoring: a trained bundle turns pages into results. Loading the bundle, the Model API,
batch scoring in worker processes, the result schema, and writing or rendering results."""
