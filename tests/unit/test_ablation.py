"""Switching heads off: the hook equals a hand computation, leaves no trace, and finds the head a task needs."""
import math

import numpy as np
import pytest
import torch
from transformers import AlbertForPreTraining, AlbertForSequenceClassification

from albert_viz.analysis import ablation
from albert_viz.analysis.attribution import CLASSIFIER, MASKED_WORD
from albert_viz.analysis.walkthrough import albert_layer
from albert_viz.model.interventions import heads_switched_off
from albert_viz.model.loading import LoadedModel, ModelSpec, load_model
from albert_viz.model.random_tiny import tiny_config, tiny_tokenizer

SENTENCES = ["the movie was really funny", "the cat and the dog were tired", "i love programming",
             "a student can read a book", "the teacher was very good", "we loved the story"]


def wide_random_albert(folder, model_class, **overrides) -> LoadedModel:
    """A random tiny ALBERT with a widened initialiser, so that switching a head off visibly moves its outputs."""
    torch.manual_seed(0)
    model_class(tiny_config(initializer_range=0.5, **overrides)).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return load_model(ModelSpec("local", str(folder), "cpu"))


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    return wide_random_albert(tmp_path_factory.mktemp("ablation_classifier"), AlbertForSequenceClassification,
                              num_labels=3)


@pytest.fixture(scope="module")
def mlm(tmp_path_factory):
    return wide_random_albert(tmp_path_factory.mktemp("ablation_mlm"), AlbertForPreTraining)


def by_hand(loaded: LoadedModel, ids: torch.Tensor, off: set[tuple[int, int]]) -> torch.Tensor:
    """The encoder's last hidden state computed from the weights, with head h's context slice zeroed at depth d."""
    config, encoder = loaded.config, loaded.encoder
    heads, d_k = config.num_attention_heads, config.hidden_size // config.num_attention_heads
    hidden = encoder.encoder.embedding_hidden_mapping_in(encoder.embeddings(ids))[0]  # [token, H]
    for depth in range(config.num_hidden_layers * config.inner_group_num):
        layer = albert_layer(loaded, depth)
        attention = layer.attention
        split = lambda x: x.reshape(len(x), heads, d_k).transpose(0, 1)  # [token, H] -> [head, token, d_k]
        q, k, v = split(attention.query(hidden)), split(attention.key(hidden)), split(attention.value(hidden))
        weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d_k), dim=-1)  # [head, query, key]
        context = weights @ v  # [head, token, d_k]
        for d, h in off:
            if d == depth:
                context[h] = 0
        context = context.transpose(0, 1).reshape(len(hidden), -1)  # [token, head * d_k]
        after_attention = attention.LayerNorm(hidden + attention.dense(context))
        feed_forward = layer.ffn_output(layer.activation(layer.ffn(after_attention)))
        hidden = layer.full_layer_layer_norm(after_attention + feed_forward)
    return hidden


@pytest.mark.parametrize("model_name", ["classifier", "grouped_model"])
def test_switching_heads_off_equals_zeroing_their_context_by_hand(model_name, request):
    loaded = request.getfixturevalue(model_name)
    ids = loaded.tokenizer("the movie was really funny", return_tensors="pt")["input_ids"]
    off = {(0, 1), (2, 3), (2, 0)}
    with torch.no_grad(), heads_switched_off(loaded, ablation.keep_mask(loaded, off)):
        hooked = loaded.encoder(input_ids=ids).last_hidden_state[0]
    with torch.no_grad():
        expected = by_hand(loaded, ids, off)
        untouched = loaded.encoder(input_ids=ids).last_hidden_state[0]
    assert (hooked - expected).abs().max() < 1e-5
    assert (hooked - untouched).abs().max() > 1e-2  # the heads did matter: the equality above proves something


def test_the_model_is_unchanged_afterwards_even_after_an_exception(classifier):
    ids = classifier.tokenizer("i love programming", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        before = classifier.model(input_ids=ids).logits
    with pytest.raises(RuntimeError, match="boom"), heads_switched_off(classifier, ablation.keep_mask(classifier, {(1, 2)})):
        raise RuntimeError("boom")
    dense = classifier.encoder.encoder.albert_layer_groups[0].albert_layers[0].attention.dense
    assert not dense._forward_pre_hooks
    with torch.no_grad():
        assert torch.equal(classifier.model(input_ids=ids).logits, before)


def test_switch_off_reports_the_prediction_before_and_after(classifier):
    outcome = ablation.switch_off(classifier, "the movie was really funny", None, {(0, h) for h in range(4)})
    assert outcome.kind == CLASSIFIER
    assert np.isclose(outcome.before.probabilities.sum(), 1) and np.isclose(outcome.after.probabilities.sum(), 1)
    assert not np.allclose(outcome.before.probabilities, outcome.after.probabilities)
    change = outcome.attention_change()
    assert change[0].max() == 0  # the maps of the depth switched off are computed before the heads are zeroed
    assert change[1:].max() > 0  # the maps downstream move


def test_masked_word_guesses_need_a_mask_and_every_head_off_is_allowed(mlm):
    with pytest.raises(ablation.ExplainError, match=r"\[MASK\]"):
        ablation.switch_off(mlm, "the movie was funny", None, set(), kind=MASKED_WORD)
    every_head = {(d, h) for d in range(3) for h in range(4)}
    outcome = ablation.switch_off(mlm, "the movie was [MASK]", None, every_head, kind=MASKED_WORD)
    assert outcome.all_off and len(outcome.after.labels) == ablation.TOP_GUESSES


def test_a_chosen_word_is_masked_as_if_the_sentence_had_mask_there(mlm):
    typed = ablation.switch_off(mlm, "the movie was [MASK]", None, {(0, 1)}, kind=MASKED_WORD)
    chosen = ablation.switch_off(mlm, "the movie was funny", None, {(0, 1)}, kind=MASKED_WORD,
                                 mask_position=typed.position)
    assert chosen.tokens == typed.tokens and chosen.position == typed.position
    np.testing.assert_allclose(chosen.after.probabilities, typed.after.probabilities, atol=1e-6)


def test_the_most_changed_head_lies_above_the_switched_off_depth_and_none_moves_below_the_top(mlm):
    outcome = ablation.switch_off(mlm, "the movie was [MASK]", None, {(1, 2)}, kind=MASKED_WORD)
    assert outcome.most_changed_head()[0] == 2
    assert ablation.switch_off(mlm, "the movie was [MASK]", None, {(2, 0)}).most_changed_head() is None


def naive_scores(loaded, task, keeps):
    """One row and one pattern per full forward pass: the reference the batched way must match."""
    accuracy, probability = [], []
    for keep in keeps:
        right = []
        for row in range(len(task)):
            length = int(task.attention_mask[row].sum())
            ids = torch.as_tensor(task.input_ids[row:row + 1, :length])
            with torch.no_grad(), heads_switched_off(loaded, keep):
                hidden = loaded.encoder(input_ids=ids, token_type_ids=torch.as_tensor(
                    task.token_type_ids[row:row + 1, :length])).last_hidden_state
                if task.kind == MASKED_WORD:
                    hidden = hidden[:, task.positions[row]]
                probabilities = ablation._probabilities(loaded, task.kind, hidden)[0]
            right.append((float(probabilities[task.answers[row]]), int(probabilities.argmax()) == task.answers[row]))
        probability.append(np.mean([p for p, _ in right]))
        accuracy.append(np.mean([c for _, c in right]))
    return np.array(accuracy), np.array(probability)


@pytest.mark.parametrize("kind", [CLASSIFIER, MASKED_WORD])
def test_batched_scores_equal_the_one_by_one_loop(kind, classifier, mlm):
    loaded = classifier if kind == CLASSIFIER else mlm
    task = (ablation.classifier_task(loaded, SENTENCES, [0, 1, 2, 0, 1, 2]) if kind == CLASSIFIER
            else ablation.masked_word_task(loaded, SENTENCES, seed=1))
    keeps = torch.cat([ablation.single_head_patterns(loaded)[[0, 5, 11]],
                       ablation.keep_mask(loaded, {(1, 0), (2, 2)})[None]])
    scores = ablation.score_patterns(loaded, task, keeps, batch_rows=4)
    accuracy, probability = naive_scores(loaded, task, keeps)
    assert np.allclose(scores.probability, probability, atol=1e-5)
    assert np.array_equal(scores.accuracy, accuracy)


def test_reading_one_position_at_the_top_changes_no_number(grouped_model):
    from albert_viz.model.interventions import run_layers, run_layers_read_at
    encoded = grouped_model.tokenizer(["the movie was really funny", "i love it"], padding=True, return_tensors="pt")
    mask, positions = encoded["attention_mask"], torch.tensor([3, 1])
    keep = ablation.keep_mask(grouped_model, {(1, 0), (3, 2)})
    with torch.no_grad():
        hidden = grouped_model.encoder(**encoded, output_hidden_states=True).hidden_states[1]  # depth 1's input
        with heads_switched_off(grouped_model, keep, first_depth=1):
            full = run_layers(grouped_model, hidden, mask, 1)[torch.arange(2), positions]
        with heads_switched_off(grouped_model, keep, first_depth=1):
            read = run_layers_read_at(grouped_model, hidden, mask, 1, positions)
    assert (read - full).abs().max() < 1e-5


def copy_task_model(carrier: int) -> tuple[LoadedModel, ablation.AblationTask]:
    """A one-layer classifier trained to name the class of the word after [CLS]; only head `carrier` has values,
    so only it can carry that word to [CLS]."""
    torch.manual_seed(0)
    config = tiny_config(num_hidden_layers=1, num_labels=2, attn_implementation="eager")
    model = AlbertForSequenceClassification(config)
    value = model.albert.encoder.albert_layer_groups[0].albert_layers[0].attention.value
    d_k = config.hidden_size // config.num_attention_heads
    frozen = torch.ones(config.hidden_size, 1)
    frozen[carrier * d_k:(carrier + 1) * d_k] = 0  # [H, 1]: 0 on the carrier's rows of W_V
    with torch.no_grad():
        value.weight.mul_(1 - frozen)
        value.bias.mul_(1 - frozen[:, 0])
    value.weight.register_hook(lambda grad: grad * (1 - frozen))
    value.bias.register_hook(lambda grad: grad * (1 - frozen[:, 0]))
    generator = torch.Generator().manual_seed(0)
    words = torch.arange(40, 60)  # 20 ordinary words; the first 10 are class 0

    def batch(size):
        ids = words[torch.randint(0, 20, (size, 5), generator=generator)]
        ids = torch.cat([torch.full((size, 1), 2), ids, torch.full((size, 1), 3)], dim=1)  # [CLS] ... [SEP]
        return ids, (ids[:, 1] >= 50).long()

    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        ids, labels = batch(64)
        loss = model(input_ids=ids, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    loaded = LoadedModel(ModelSpec("random"), model, tiny_tokenizer(), torch.device("cpu"))
    ids, labels = batch(64)
    task = ablation.AblationTask(CLASSIFIER, ids.numpy(), np.ones_like(ids.numpy()), np.zeros_like(ids.numpy()),
                                 np.zeros(64, dtype=np.int64), labels.numpy())
    return loaded, task


def test_the_importance_map_finds_the_head_a_trained_task_runs_through():
    loaded, task = copy_task_model(carrier=2)
    importance = ablation.head_importance(loaded, task)
    assert importance.accuracy > 0.95  # it learnt the task
    assert importance.accuracy_drop[0, 2] > 0.3  # without the carrier it is back near chance
    assert np.abs(np.delete(importance.accuracy_drop[0], 2)).max() < 0.05
    assert importance.least_important_first()[-1] == (0, 2)


def test_the_pruning_curve_runs_from_the_untouched_model_to_every_head_off(mlm):
    task = ablation.masked_word_task(mlm, SENTENCES, seed=0)
    importance = ablation.head_importance(mlm, task, batch_rows=4)
    curve = ablation.pruning_curve(mlm, task, importance, batch_rows=4)
    every_head_off = ablation.score_patterns(mlm, task, ablation.keep_mask(mlm, set(curve.order))[None])
    assert len(curve.accuracy) == 3 * 4 + 1 and len(set(curve.order)) == 12
    assert curve.probability[0] == pytest.approx(importance.probability)
    assert curve.probability[-1] == pytest.approx(float(every_head_off.probability[0]))


def test_a_cancelled_importance_map_stops(mlm):
    import threading
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(ablation.AblationCancelled):
        ablation.head_importance(mlm, ablation.masked_word_task(mlm, SENTENCES), cancelled=cancelled)
