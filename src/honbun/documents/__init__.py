"""One label per document: the linear classifier of the livedoor benchmark."""
