"""Measuring models on the gold: grouped cross-validation of the block, topic and document
models, the baselines they are compared with, and re-scoring a saved model."""
