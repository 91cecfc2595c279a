"""Quiz answers come from the model's own numbers, computed here independently of the app's code."""
from __future__ import annotations

import numpy as np
import torch

from albert_viz.analysis import walkthrough

from albert_viz.model.capture import capture
from albert_viz.teaching import quiz


def test_attention_answer_is_the_heads_argmax_for_the_asked_token(tiny_model):
    text = "the cat sat because it was tired"
    result = capture(tiny_model, text)
    question = quiz.attention_question(result, layer=2, head=1)
    encoded = tiny_model.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        attentions = tiny_model.encoder(**encoded, output_attentions=True).attentions[2][0, 1]  # [query, key]
    query = result.tokens.index("it")  # a pronoun is asked about first
    assert question.answer == int(attentions[query].argmax())
    assert "“it”" in question.prompt


def test_another_round_asks_about_an_ordinary_token_and_never_a_special_one(tiny_model):
    result = capture(tiny_model, "the cat sat on the mat")
    asked = {quiz.query_position(result, round_number) for round_number in range(1, 12)}
    assert asked and all(result.tokens[p] not in ("[CLS]", "[SEP]") for p in asked)
    assert quiz.query_position(result, 3) == quiz.query_position(result, 3)  # a reload keeps the question


def test_mask_answer_is_the_mlm_heads_argmax_and_the_hidden_word_is_a_choice(tiny_model):
    text = "i love programming"
    prediction = walkthrough.masked_word_predictions(tiny_model, text, "love", top_k=10).predictions[0]
    question = quiz.mask_question(prediction)
    encoded = tiny_model.tokenizer(text, return_tensors="pt")
    position = encoded["input_ids"][0].tolist().index(tiny_model.tokenizer.convert_tokens_to_ids("love"))
    encoded["input_ids"][0, position] = tiny_model.tokenizer.mask_token_id
    with torch.no_grad():
        logits = tiny_model.model(**encoded).prediction_logits[0, position]  # [vocab]
    expected = tiny_model.tokenizer.convert_ids_to_tokens(int(logits.argmax()))
    assert question.choices[question.answer] == expected
    assert "love" in question.choices


def test_order_answer_follows_the_sop_heads_probabilities(tiny_model):
    first, second = "the cat sat on the mat", "then it was tired"

    def in_order(a, b):
        encoded = tiny_model.tokenizer(a, b, return_tensors="pt")
        ids = encoded["input_ids"][0].tolist()
        first_sep = ids.index(tiny_model.tokenizer.sep_token_id)
        encoded["token_type_ids"] = torch.tensor([[0] * (first_sep + 1) + [1] * (len(ids) - first_sep - 1)])
        with torch.no_grad():
            logits = tiny_model.model(**encoded).sop_logits[0]
        return float(torch.softmax(logits, -1)[0])

    question = quiz.order_question(walkthrough.sentence_order(tiny_model, first, second))
    assert question.answer == int(np.argmax([in_order(first, second), in_order(second, first)]))
