"""The experiment loop: read a config, train and evaluate everything it enables, write the
model bundle and the run report, record the run in MLflow, list, compare and promote runs."""
