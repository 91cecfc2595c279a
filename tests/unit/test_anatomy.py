"""Anatomy: parameter counts from instantiated configs, factorization, sharing on the loaded model, SOP, misconceptions."""
import numpy as np
import pytest
import torch
from transformers import AlbertConfig, AlbertModel

from albert_viz.analysis import anatomy
from albert_viz.model.capture import capture


@pytest.fixture(scope="module")
def table():
    return {count.name: count for count in anatomy.parameter_table()}


def test_albert_base_has_exactly_11_683_584_parameters(table):
    assert table["ALBERT base"].total == 11_683_584


def test_components_add_up_to_the_instantiated_total(table):
    for count in table.values():
        assert sum(count.by_component) == count.total, count.name


def test_counts_equal_a_real_cpu_instantiation():
    config = AlbertConfig(vocab_size=100, embedding_size=8, hidden_size=16, num_hidden_layers=3,
                          num_attention_heads=2, intermediate_size=32, max_position_embeddings=20)
    real = sum(p.numel() for p in AlbertModel(config).parameters())
    assert anatomy.count_parameters("toy", config).total == real


def test_every_model_lands_near_the_papers_table_1(table):
    # xxlarge is the known outlier: its released configuration instantiates to 222.6M, the paper says 235M.
    for name, count in table.items():
        if count.paper_millions and name != "ALBERT xxlarge":
            assert abs(count.total / 1e6 - count.paper_millions) / count.paper_millions < 0.05, name


def test_bert_has_no_projection_and_every_layer_has_its_own_weights(table):
    bert = table["BERT base"]
    assert bert.by_component[anatomy.COMPONENTS.index("E→H projection")] == 0
    assert bert.distinct_layers == bert.layers == 12


def test_sharing_saves_eleven_layers_of_weights_in_albert_base(table):
    base = table["ALBERT base"]
    assert base.unshared_total - base.total == 11 * base.per_layer


def test_factorized_embeddings_of_albert_base_match_the_paper():
    base = anatomy.count_parameters("ALBERT base", anatomy.official_configs()["ALBERT base"])
    factors = anatomy.factorization_of(base)
    assert factors.unfactorized == 23_040_000 and factors.factorized == 3_938_304


def test_projection_by_hand_equals_the_models_first_hidden_state(tiny_model):
    result = capture(tiny_model, "I love programming")
    assert anatomy.projection(tiny_model, result, 2).max_abs_diff < 1e-5


def test_one_weight_tensor_serves_every_depth_in_the_released_layout(tiny_model):
    sharing = anatomy.sharing(tiny_model, capture(tiny_model, "I love programming"))
    assert len(sharing.layer_modules) == tiny_model.config.num_hidden_layers
    assert sharing.distinct_weights == 1


def test_grouped_layout_uses_groups_times_inner_layers_weight_tensors(grouped_model):
    sharing = anatomy.sharing(grouped_model, capture(grouped_model, "I love programming"))
    assert len(sharing.layer_modules) == 8 and sharing.distinct_weights == 4
    assert sharing.weight_addresses[0] == sharing.weight_addresses[2] != sharing.weight_addresses[1]


def test_hidden_change_is_measured_per_layer(grouped_model):
    result = capture(grouped_model, "I love programming")
    sharing = anatomy.sharing(grouped_model, result)
    h = result.hidden_states
    expected = (np.linalg.norm(h[4] - h[3], axis=-1) / np.linalg.norm(h[3], axis=-1)).mean()
    assert sharing.hidden_change[3] == pytest.approx(expected, rel=1e-5)
    assert np.isnan(sharing.attention_change[0]) and sharing.attention_change.shape == (8,)


def test_sop_probabilities_equal_softmax_of_the_sop_head(tiny_model):
    prediction = anatomy.sop_prediction(tiny_model, "the cat is tired", "i love programming")
    encoded = tiny_model.tokenizer("the cat is tired", "i love programming", return_tensors="pt")
    segments = torch.tensor([[0] * 6 + [1] * 4])  # [CLS] the cat is tired [SEP] | i love programming [SEP]
    with torch.no_grad():
        logits = tiny_model.model(input_ids=encoded["input_ids"], token_type_ids=segments).sop_logits[0]
    assert prediction.in_order_given_ab == pytest.approx(float(torch.softmax(logits, -1)[0]), abs=1e-6)


def test_a_model_without_an_sop_head_is_refused_with_a_reason(tiny_model):
    bare = type(tiny_model)(spec=tiny_model.spec, model=tiny_model.encoder, tokenizer=tiny_model.tokenizer,
                            device=tiny_model.device)
    with pytest.raises(ValueError, match="sentence-order head"):
        anatomy.sop_prediction(bare, "a", "b")


def test_example_pair_falls_back_to_moby_dick_without_a_pair_file(tmp_path):
    assert anatomy.example_pair(tmp_path) == anatomy.MOBY_DICK_PAIR


def test_example_pair_reads_the_bundles_pair_file(tmp_path):
    (tmp_path / anatomy.PAIR_FILE).write_text('[{"first": "A b.", "second": "C d.", "source": "corpus"}]')
    assert anatomy.example_pair(tmp_path) == ("A b.", "C d.", "corpus")


def test_models_outside_the_paper_have_no_paper_total(table):
    tiny = next(count for name, count in table.items() if name.startswith("ALBERT tiny"))
    assert tiny.size_row()["paper (M)"] is None and table["ALBERT base"].size_row()["paper (M)"] == 12


def test_sharing_says_which_depths_run_the_same_tensor_as_layer_0(grouped_model):
    sharing = anatomy.sharing(grouped_model, capture(grouped_model, "I love programming"))
    assert sharing.same_as_first == (True, False, True, False, False, False, False, False)


def test_sop_prediction_words_its_verdict_from_both_numbers(tiny_model):
    prediction = anatomy.sop_prediction(tiny_model, "the cat is tired", "i love programming")
    assert f"{prediction.in_order_given_ab:.1%} for A then B" in prediction.verdict


def test_bundled_sop_accuracy_comes_from_the_training_summary(tmp_path):
    assert anatomy.bundled_sop_accuracy(tmp_path) is None
    (tmp_path / "training_summary.json").write_text('{"heldout": {"sop_acc": 0.61}}')
    assert anatomy.bundled_sop_accuracy(tmp_path) == 0.61


def test_every_unchecked_anatomy_chart_sends_what_a_validated_one_would(table, tiny_model, assert_sent_as_validated):
    """plots_anatomy skips plotly's validation for speed: each chart must send the same JSON as a validated one."""
    from albert_viz.figures import anatomy_charts as charts

    result, counts = capture(tiny_model, "I love programming"), list(table.values())
    factorized = next(count for count in counts if count.embedding != count.hidden)
    figures = [
        charts.parameter_stack(counts), charts.parameter_stack(counts, log=True), charts.component_shares(counts),
        charts.sharing_savings(counts), charts.factorization_bars(anatomy.factorization_of(factorized)),
        charts.projection_vectors(anatomy.projection(tiny_model, result, 1)),
        charts.layer_change(anatomy.sharing(tiny_model, result)),
        charts.sop_bars(anatomy.sop_prediction(tiny_model, "the cat sat.", "it was tired.")),
    ]
    for figure in figures:
        assert_sent_as_validated(figure)
