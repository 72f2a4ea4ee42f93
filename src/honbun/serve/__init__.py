"""Serving the scorer elsewhere: as an MLflow pyfunc (REST) and on Apache Spark."""
