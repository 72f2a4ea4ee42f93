"""Features: what the models read of a page. Dense block features, hashed bags, cross-page
repetition, the stacking design, and sentences with their context and lexicon hits."""
