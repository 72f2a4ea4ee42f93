"""The gold: annotation files and the sheets annotators edit, the datasets the models learn
from, pre-labels, agreement between annotators, and the tools that create and check them."""
