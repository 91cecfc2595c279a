"""The switch-off controls on the attention and explain pages: each way of picking heads, a click, the notes."""
import json

import pytest
import torch
from transformers import AlbertForSequenceClassification

from albert_viz.analysis.ablation import ALL_OFF_NOTE, SHARING_NOTE
from albert_viz.model.loading import ModelSpec
from albert_viz.model.random_tiny import tiny_config, tiny_tokenizer

SENTENCE = "the cat is [MASK] today"


def said(at) -> str:
    return " ".join(element.value for element in [*at.text, *at.info, *at.caption, *at.markdown])


def attention_page(open_page, spec, sentence=SENTENCE):
    at = open_page("pages/attention.py", spec)
    at.text_input(key="_widget_sentence").input(sentence).run()
    return at


def click_head(at, chart_key: str, depth: int, head: int):
    """What Chromium sends when a marker is clicked: the chart's selection, with the marker's customdata."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(chart_key))
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {"points": [{"x": head, "y": depth, "customdata": [depth, head]}],
                                                   "point_indices": [depth * 4 + head], "box": [], "lasso": []}})
    return at._run(states)


def test_heads_picked_from_the_list_show_the_guess_before_and_after(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec)
    at.multiselect(key="ablate_heads").set_value(["L0·H1", "L2·H3"]).run()
    assert not at.exception
    assert "with all heads on" in said(at) and "2 head(s) off" in said(at)
    assert list(at.table[-1].value.columns) == ["all heads on", "heads off"]


def test_a_click_on_the_picker_switches_a_head_off_and_a_second_click_back_on(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec)
    click_head(at, "ablate_picker", 1, 2)
    assert not at.exception and at.multiselect(key="ablate_heads").value == ["L1·H2"]
    assert "1 head(s) off" in said(at)
    click_head(at, "ablate_picker", 1, 2)
    assert at.multiselect(key="ablate_heads").value == []


def test_a_click_after_a_whole_layer_switches_one_of_its_heads_back_on(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec)
    at.radio(key="ablate_how").set_value("All heads of one layer").run()
    at.selectbox(key="ablate_layer").set_value(1).run()
    assert "4 head(s) off" in said(at)
    click_head(at, "ablate_picker", 1, 0)
    assert at.radio(key="ablate_how").value == "Heads I pick"
    assert at.multiselect(key="ablate_heads").value == ["L1·H1", "L1·H2", "L1·H3"]


def test_every_head_but_one_leaves_that_head_on(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec)
    at.radio(key="ablate_how").set_value("Every head but one").run()
    at.selectbox(key="ablate_kept").set_value("L2·H1").run()
    assert not at.exception and "11 head(s) off" in said(at) and ALL_OFF_NOTE not in said(at)


def test_every_head_off_is_allowed_and_says_only_the_residual_path_is_left(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec)
    at.multiselect(key="ablate_heads").set_value(at.multiselect(key="ablate_heads").options).run()
    assert not at.exception and "12 head(s) off" in said(at) and ALL_OFF_NOTE in said(at)


def test_the_sharing_sentence_is_said_once(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec)
    assert said(at).count(SHARING_NOTE) == 1


def test_a_sentence_without_a_mask_asks_for_one(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec, "the cat is tired")
    at.radio(key="ablate_how").set_value("All heads of one layer").run()
    assert not at.exception
    assert any("MASK" in info.value and "Write" in info.value for info in at.info)


def test_a_sentence_of_special_tokens_only_gets_a_clear_message(open_page, tiny_spec):
    at = attention_page(open_page, tiny_spec, "[SEP] [CLS]")
    at.radio(key="ablate_how").set_value("All heads of one layer").run()
    assert not at.exception
    assert "special tokens only" in said(at)


@pytest.fixture(scope="module")
def classifier_spec(tmp_path_factory) -> ModelSpec:
    folder = tmp_path_factory.mktemp("switch_classifier")
    torch.manual_seed(0)
    AlbertForSequenceClassification(tiny_config(num_labels=2, initializer_range=0.5,
                                                id2label={0: "rotten", 1: "fresh"},
                                                label2id={"rotten": 0, "fresh": 1})).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return ModelSpec("local", str(folder), "cpu")


def test_the_explain_page_shows_the_verdict_before_and_after(open_page, classifier_spec):
    at = open_page("pages/explain.py", classifier_spec)
    at.radio(key="explain_ablate_how").set_value("All heads of one layer").run()
    assert not at.exception
    assert "The model's verdict" in said(at) and "4 head(s) off" in said(at)
    table = at.table[-1].value
    assert list(table.index) == ["rotten", "fresh"] and list(table.columns) == ["all heads on", "heads off"]


def test_the_explain_page_without_a_classifier_asks_about_the_masked_word_and_says_so(open_page, tiny_spec):
    at = open_page("pages/explain.py", tiny_spec)
    at.multiselect(key="explain_ablate_heads").set_value(["L0·H0"]).run()
    assert not at.exception
    assert "masked-word (MLM) guess only" in said(at) and "guess for the [MASK] at position" in said(at)
