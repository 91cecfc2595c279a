"""Sentence-order pairs: consecutive runs of whole sentences, swapped half the time with label 1; held-out SOP and MLM figures."""
from __future__ import annotations

import random

import torch
from transformers import AlbertConfig, AlbertForPreTraining

from albert_viz.pretrain import data, distill, heldout_report, losses, sop_probe
from albert_viz.pretrain.corpus import Document


class TinyTokenizer:
    """Whitespace 'WordPiece': words ending in '+' continue into a '##' piece; no teacher package needed."""

    cls_token_id, sep_token_id, mask_token_id, pad_token_id = 0, 1, 2, 3
    vocab_size = 1000

    def __init__(self):
        self.vocab = {"[CLS]": 0, "[SEP]": 1, "[MASK]": 2, "[PAD]": 3}

    def _id(self, token: str) -> int:
        return self.vocab.setdefault(token, len(self.vocab))

    def __call__(self, texts, add_special_tokens=False):
        rows = []
        for text in texts:
            pieces = []
            for word in text.split():
                pieces += [word[:-1], "##x"] if word.endswith("+") else [word]
            rows.append([self._id(p) for p in pieces])
        return {"input_ids": rows}

    def convert_ids_to_tokens(self, ids):
        names = {i: t for t, i in self.vocab.items()}
        return [names[i] for i in ids]


def example(first, second, swap_roll):
    class Roll(random.Random):
        def random(self):  # first call decides the swap; later ones (masking) see a fixed value
            value, self.rolls = (swap_roll if not self.rolls else 0.95), self.rolls + 1
            return value

    rng = Roll(0)
    rng.rolls = 0
    return data.make_example(data.Pair(tuple(first), tuple(second)), TinyTokenizer(), data.DataConfig(), rng)


def test_in_order_pair_has_label_0_and_segment_ids_follow_the_text():
    e = example([10, 11, 12], [20, 21], swap_roll=0.9)
    assert e.sop_label == 0
    assert e.original == [0, 10, 11, 12, 1, 20, 21, 1]
    assert e.token_types == [0, 0, 0, 0, 0, 1, 1, 1]


def test_swapped_pair_has_label_1_and_segment_ids_follow_the_swapped_text():
    e = example([10, 11, 12], [20, 21], swap_roll=0.1)
    assert e.sop_label == 1  # AlbertForPreTraining: 0 = in order, 1 = swapped
    assert e.original == [0, 20, 21, 1, 10, 11, 12, 1]
    assert e.token_types == [0, 0, 0, 0, 1, 1, 1, 1]  # segment A is now the (shorter) second segment


def test_collated_batch_carries_the_labels_and_about_half_are_swapped():
    tok = TinyTokenizer()
    rng = random.Random(0)
    pair = data.Pair(tuple(range(10, 30)), tuple(range(30, 50)))
    examples = [data.make_example(pair, tok, data.DataConfig(), rng) for _ in range(400)]
    batch = data.collate(examples, tok.pad_token_id)
    labels = batch["sentence_order_label"].tolist()
    assert labels == [e.sop_label for e in examples]
    assert 150 < sum(labels) < 250
    for e, types in zip(examples, batch["token_type_ids"].tolist()):
        first = e.original[1] == 10
        assert e.sop_label == int(not first)
        assert types[1 + 20 + 1] == 1 and types[1 + 20] == 0  # [CLS] + 20 tokens + [SEP], then segment B


def test_pairs_are_consecutive_and_cut_after_a_sentence_end():
    tok = TinyTokenizer()
    text = "the cat sat on the mat . then it slept for a long while . the end came soon after that day"
    pairs = data.document_pairs((Document("t", text),), tok, data.DataConfig(min_segment=2), seed=0)
    ids = tok([text])["input_ids"][0]
    assert len(pairs) == 1
    p = pairs[0]
    assert list(p.first + p.second) == ids
    assert tok.convert_ids_to_tokens([p.first[-1]]) == ["."]


def test_segments_are_whole_sentences_so_punctuation_cannot_give_the_order_away():
    tok = TinyTokenizer()
    text = " ".join(f"w{i} x{i} y{i} z{i} ." for i in range(40))  # 40 sentences of 5 tokens: several chunks
    pairs = data.document_pairs((Document("t", text),), tok, data.DataConfig(max_length=23, min_segment=2), seed=0)
    assert len(pairs) == 10
    for p in pairs:
        for segment in (p.first, p.second):
            tokens = tok.convert_ids_to_tokens(list(segment))
            assert tokens[0].startswith("w") and tokens[-1] == "."


def test_a_single_sentence_is_an_mlm_example_without_an_order_label():
    tok = TinyTokenizer()
    doc = Document("t", "a fine film with a great cast .")
    pairs = data.document_pairs((doc,), tok, data.DataConfig(min_segment=2), seed=0)
    e = data.make_example(pairs[0], tok, data.DataConfig(), random.Random(0))
    assert pairs[0].second == () and e.sop_label == data.SOP_UNLABELLED
    assert e.original.count(tok.sep_token_id) == 1 and set(e.token_types) == {0}


def test_a_full_stop_inside_a_word_does_not_end_a_sentence():
    assert data.sentence_spans(["it", "costs", "3", ".", "##5", "now", ".", "ok"]) == [(0, 7), (7, 8)]


def test_a_batch_without_sentence_pairs_has_zero_sop_loss_not_nan():
    config = AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_attention_heads=2,
                          intermediate_size=32, num_hidden_layers=1)
    student = AlbertForPreTraining(config)
    loss, hits = losses.sentence_order(student, torch.randn(3, 16), torch.full((3,), data.SOP_UNLABELLED))
    assert loss.item() == 0.0 and hits.item() == 0


def test_each_epoch_cuts_a_chunk_again_at_a_sentence_end_so_pairs_cannot_be_memorised():
    tok = TinyTokenizer()
    text = " ".join(f"w{i} x{i} y{i} z{i} ." for i in range(4))  # one chunk of four 5-token sentences
    pair = data.document_pairs((Document("t", text),), tok, data.DataConfig(min_segment=2), seed=0)[0]
    rng = random.Random(0)
    recut = [data.recut(pair, rng) for _ in range(60)]
    assert {len(p.first) for p in recut} == {5, 10, 15}  # every boundary between sentences, no other
    assert all(p.first + p.second == pair.first + pair.second for p in recut)
    assert all(tok.convert_ids_to_tokens([p.first[-1]]) == ["."] for p in recut)


def test_the_training_stream_sees_a_chunk_cut_differently_across_epochs():
    tok = TinyTokenizer()
    text = " ".join(f"w{i} x{i} y{i} z{i} ." for i in range(4))
    pairs = data.document_pairs((Document("t", text),), tok, data.DataConfig(min_segment=2), seed=0)
    stream = data.batches(pairs, tok, data.DataConfig(min_segment=2), batch_size=1, seed=0)
    second_segment_lengths = {int(next(stream)["token_type_ids"].sum()) for _ in range(40)}  # one epoch per batch
    assert second_segment_lengths == {6, 11, 16}  # 15, 10 or 5 tokens, plus the final [SEP]


def tiny_model(vocab_size: int = 1000) -> AlbertForPreTraining:
    torch.manual_seed(0)
    return AlbertForPreTraining(AlbertConfig(vocab_size=vocab_size, embedding_size=8, hidden_size=16, num_attention_heads=2,
                                             intermediate_size=32, num_hidden_layers=1))


def sentence_pairs(tok, n: int = 6) -> list[data.Pair]:
    text = " ".join(f"a{i} b{i} c{i} d{i} ." for i in range(2 * n))
    docs = tuple(Document("t", " ".join(text.split()[10 * k : 10 * k + 10])) for k in range(n))  # two sentences each
    return data.document_pairs(docs, tok, data.DataConfig(min_segment=2), seed=0)


def test_a_model_that_ignores_sentence_order_scores_exactly_half_when_every_pair_is_shown_both_ways():
    tok = TinyTokenizer()
    model = tiny_model()
    with torch.no_grad():  # always answers "in order", whatever the input
        model.sop_classifier.classifier.weight.zero_()
        model.sop_classifier.classifier.bias.copy_(torch.tensor([1.0, 0.0]))
    assert heldout_report.sop_both_orders(model, sentence_pairs(tok), tok) == 0.5


def test_the_first_mlm_draw_of_the_held_out_report_is_the_running_evaluations_figure():
    tok = TinyTokenizer()
    pairs, model, config = sentence_pairs(tok), tiny_model(), data.DataConfig(min_segment=2)
    running = distill.evaluate(model, data.fixed_batches(pairs, tok, config, 32, 7), distill.TrainConfig(device="cpu"))
    draws = heldout_report.mlm_draws(model, pairs, tok, config, first_seed=7)
    assert len(draws) == heldout_report.MASK_DRAWS and draws[0] == running["mlm_top1"]


def test_the_sop_measurements_show_every_sentence_pair_in_order_then_swapped_and_skip_single_sentences():
    tok = TinyTokenizer()
    pairs = [*sentence_pairs(tok, n=3), data.Pair((5, 6, 7), ())]  # the last chunk is one sentence: no order
    model = tiny_model()
    model.train()
    states, labels = heldout_report.cls_states(model, pairs, tok)  # [2 * 3 pairs, hidden]
    assert states.shape == (6, 16) and labels.tolist() == [0, 1, 0, 1, 0, 1]
    assert model.training  # measured, then left in the mode it was in


def test_a_refitted_sop_head_learns_an_order_the_frozen_states_carry():
    model = tiny_model()
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(512, 16, generator=generator)
    labels = (states[:, 0] > 0).long()  # the order is written plainly in one dimension of [CLS]
    pooler, classifier = sop_probe.refit_order_head(model, states, labels, epochs=40, lr=1e-2)
    assert sop_probe.order_accuracy(pooler, classifier, states, labels) >= 0.95
