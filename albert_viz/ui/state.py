"""Session-state keys shared across pages, in one place so pages agree on them."""

MODEL_SPEC = "model_spec"  # the ModelSpec every page uses
SENTENCE = "sentence"  # the sentence the pages analyse
SENTENCE_PAIR = "sentence_pair"  # optional second sentence
DEFAULT_SENTENCE = "I love programming"
