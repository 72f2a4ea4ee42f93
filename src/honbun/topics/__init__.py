"""The topic tagger: multi-label topics per sentence, rolled up to paragraphs and documents.
Config, features, fitting, the lexicon cold start and the numpy export."""
