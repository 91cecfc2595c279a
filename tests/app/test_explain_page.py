"""The Explain & compare page in AppTest: what to explain, the attribution drawn, the notes a user needs."""
import numpy as np
import pytest
import torch
from transformers import AlbertForSequenceClassification

from albert_viz.model.loading import ModelSpec
from albert_viz.model.random_tiny import tiny_config, tiny_tokenizer

PAGE = "pages/explain.py"


def said(elements) -> list[str]:
    """The messages' text as a student reads it (the Markdown escapes around user text removed)."""
    return [element.value.replace("\\", "") for element in elements]


@pytest.fixture(scope="module")
def classifier_spec(tmp_path_factory) -> ModelSpec:
    """A random tiny ALBERT saved as a 2-class sequence classifier with labels a CSV could have given it."""
    folder = tmp_path_factory.mktemp("app_classifier")
    torch.manual_seed(0)
    config = tiny_config(num_labels=2, id2label={0: "*rotten*", 1: "fresh"}, label2id={"*rotten*": 0, "fresh": 1})
    AlbertForSequenceClassification(config).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return ModelSpec("local", str(folder), "cpu")


def test_a_model_without_a_classifier_gets_a_note_and_explains_the_masked_word(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    assert not at.exception
    assert any("masked-word (MLM) guesses only" in info.value.replace("\\", "") for info in at.info)
    assert at.radio(key="explain_target").options == ["the masked-word guess"]
    at.selectbox(key="explain_mask").set_value("2: love").run()  # "love" in [CLS] i love programming [SEP]
    assert not at.exception
    bars = plotly_chart(at, 0)
    assert [trace["name"] for trace in bars["data"]] == [
        "Integrated Gradients", "gradient × input", "attention rollout", "last layer's attention"]
    assert bars["layout"]["yaxis"]["ticktext"] == ["[CLS]", "i", "[MASK]", "programming", "[SEP]"]
    assert "Masked “love” at position 2" in at.text[0].value


def test_a_classifier_explains_its_verdict_and_shows_the_label_as_plain_text(open_page, classifier_spec):
    at = open_page(PAGE, classifier_spec)
    assert not at.exception
    assert at.radio(key="explain_target").value == "classifier"
    headline = at.text[0].value
    assert "*rotten*" in headline or "fresh" in headline
    assert "f(baseline)" in headline
    assert any("Completeness" in caption.value for caption in at.caption)


def test_the_agreement_table_has_a_correlation_for_each_attention_and_gradient_view(open_page, classifier_spec):
    at = open_page(PAGE, classifier_spec)
    at.text_input(key="_widget_sentence").input("the movie was really funny and the actor was great").run()
    table = at.table[0].value
    assert table.shape == (2, 2)
    values = table.to_numpy().astype(float)
    assert np.all(np.abs(values) <= 1.0)


def test_a_sentence_too_short_to_rank_says_so(open_page, classifier_spec):
    at = open_page(PAGE, classifier_spec)
    at.text_input(key="_widget_sentence").input("funny movie").run()
    assert not at.exception
    assert set(at.table[0].value.to_numpy().flatten()) == {"2 words: fewer than 3 to rank"}
    assert any("at least 3 words" in info.value for info in at.info)


def test_a_verdict_is_explained_as_log_odds_against_a_baseline_the_user_chooses(open_page, classifier_spec):
    at = open_page(PAGE, classifier_spec)
    assert at.radio(key="explain_baseline").options == ["[PAD]", "[MASK]", "[UNK]"]
    at.radio(key="explain_baseline").set_value("[MASK]").run()
    assert not at.exception
    headline = at.text[0].value
    assert "log-odds" in headline and "every word replaced by [MASK]: f(baseline)" in headline


def test_the_page_warns_when_the_baseline_is_as_confident_as_the_sentence_and_only_then(open_page, classifier_spec):
    from albert_viz.analysis.attribution import explain_prediction
    from albert_viz.model.loading import load_model

    sentence = "the movie was really funny and the actor was great"
    loaded = load_model(classifier_spec)
    little = {token: explain_prediction(loaded, sentence, baseline_token=token).explains_little
              for token in ("[PAD]", "[UNK]")}
    assert little == {"[PAD]": True, "[UNK]": False}  # this random classifier: [PAD] scores it higher
    at = open_page(PAGE, classifier_spec)
    at.text_input(key="_widget_sentence").input(sentence).run()
    for token in little:
        at.radio(key="explain_baseline").set_value(token).run()
        assert any("These credits explain little" in warning for warning in said(at.warning)) == little[token]


def test_the_default_model_says_whether_its_masked_word_guess_is_right(open_page):
    at = open_page(PAGE)  # the bundled model: it guesses "a" for the "i" of "I love programming"
    assert not at.exception
    assert any("The guess is wrong: the masked word was “i”, the model guessed “a”" in warning
               for warning in said(at.warning))


def test_the_first_word_masked_is_one_the_default_model_restores(open_page):
    at = open_page(PAGE)
    at.text_input(key="_widget_sentence").input("The United States of America").run()
    assert not at.exception
    masked = at.selectbox(key="explain_mask").value.split(": ")[1]
    assert any(f"The guess is right: the masked word was “{masked}”" in success for success in said(at.success))


def test_the_two_gradient_methods_disagreeing_in_sign_is_said_and_explained(open_page):
    from albert_viz.analysis.attribution import MASKED_WORD, explain_prediction
    from albert_viz.model.loading import ModelSpec as Spec, load_model
    from albert_viz.ui.state import DEFAULT_SENTENCE

    result = explain_prediction(load_model(Spec()), DEFAULT_SENTENCE, kind=MASKED_WORD, mask_position=1, n_steps=32)
    words = [result.tokens[p] for p in result.sign_disagreements()]
    assert words  # the issue saw "love" at +2.5 by Integrated Gradients and −4.2 by gradient × input
    at = open_page(PAGE)
    note = next(info for info in said(at.info) if "disagree in sign" in info)
    assert all(f"“{word}”" in note for word in words) and "local slope" in note


def test_a_sentence_of_special_tokens_only_gets_a_message_not_a_traceback(open_page, classifier_spec):
    at = open_page(PAGE, classifier_spec)
    at.text_input(key="_widget_sentence").input("[CLS] [SEP]").run()
    assert not at.exception
    assert any("special tokens only" in info.value for info in at.info)


def open_side_by_side(open_page, spec):
    at = open_page(PAGE, spec)
    at.radio(key="explain_section").set_value("Side by side").run()
    return at


def test_a_minimal_pair_shows_the_difference_of_the_chosen_head(open_page, plotly_chart, tiny_spec):
    from albert_viz.analysis.compare import MINIMAL_PAIRS
    from albert_viz.model.capture import capture
    from albert_viz.model.loading import load_model

    at = open_side_by_side(open_page, tiny_spec)
    at.selectbox(key="compare_preset").set_value("loved vs hated").run()
    at.slider(key="compare_layer").set_value(1)
    at.slider(key="compare_head").set_value(3).run()
    assert not at.exception
    loaded = load_model(tiny_spec)
    first, second = (capture(loaded, text) for text in MINIMAL_PAIRS["loved vs hated"])
    difference = plotly_chart(at, 2)
    np.testing.assert_allclose(difference["data"][0]["z"], second.attentions[1, 3] - first.attentions[1, 3], atol=1e-6)
    assert "loved / hated" in difference["layout"]["xaxis"]["ticktext"]
    assert at.table[0].value.shape == (5, 3)  # the five heads that changed most


def test_sentences_of_different_lengths_get_maps_side_by_side_and_a_note(open_page, tiny_spec):
    at = open_side_by_side(open_page, tiny_spec)
    at.text_input(key="compare_second").input("the trophy did not fit at all").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    assert any("do not line up" in info.value for info in at.info)


def test_two_models_of_different_shapes_are_shown_with_a_note(open_page, tiny_spec):
    at = open_side_by_side(open_page, tiny_spec)
    at.radio(key="compare_mode").set_value("one sentence, two models").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2  # the random stand-in has 4 layers, the tiny one 3
    assert any("different shapes" in info.value for info in at.info)


def test_two_models_of_different_shapes_each_get_their_whole_range_of_layers_and_heads(open_page, plotly_chart,
                                                                                     tiny_spec):
    at = open_side_by_side(open_page, tiny_spec)
    at.radio(key="compare_mode").set_value("one sentence, two models").run()
    first, second = at.slider(key="compare_layer_first"), at.slider(key="compare_layer_second")
    assert (first.max, second.max) == (2, 3)  # the tiny model's 3 layers, the random stand-in's 4
    second.set_value(3).run()
    assert not at.exception
    assert plotly_chart(at, 1)["layout"]["title"]["text"].startswith("Second: layer 3")
    at.toggle(key="compare_relative").set_value(True).run()
    at.slider(key="compare_layer_first").set_value(2).run()
    assert plotly_chart(at, 1)["layout"]["title"]["text"].startswith("Second: layer 3")  # last to last
    assert any("the same relative depth" in caption.value for caption in at.caption)


def test_the_second_model_can_be_a_finished_fine_tuning_job_from_a_list(open_page, plotly_chart, tiny_spec):
    from tests.app.test_finetune_jobs_page import start_job
    from tests.app.test_finetune_page import wait_for_results

    at = wait_for_results(start_job(open_page, tiny_spec, steps=2))
    job_id = at.query_params["job"]
    at.switch_page(PAGE).run()
    at.radio(key="explain_section").set_value("Side by side").run()
    at.radio(key="compare_mode").set_value("one sentence, two models").run()
    at.selectbox(key="compare_source").set_value("job").run()
    picker = at.selectbox(key="compare_job")
    assert any(option.startswith(f"{job_id[:8]} · Ada") and "reviews.csv" in option for option in picker.options)
    picker.set_value(job_id).run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) >= 2
    assert at.slider(key="compare_layer").max == 2  # the job's model has its base's shape: one pair of sliders


def test_a_missing_second_model_folder_shows_an_error_not_a_traceback(open_page, tiny_spec):
    at = open_side_by_side(open_page, tiny_spec)
    at.radio(key="compare_mode").set_value("one sentence, two models").run()
    at.selectbox(key="compare_source").set_value("local").run()
    at.text_input(key="compare_location").input("/no/such/folder").run()
    assert not at.exception
    assert any("no folder" in error.value for error in at.error)


def test_the_layer_slider_moves_the_tokens_in_one_fixed_pca_plane(open_page, plotly_chart, tiny_spec):
    from albert_viz.analysis.layers import project_layers
    from albert_viz.model.capture import capture
    from albert_viz.model.loading import load_model

    at = open_page(PAGE, tiny_spec)
    at.radio(key="explain_section").set_value("What each layer knows").run()
    at.select_slider(key="layers_layer").set_value(1).run()
    assert not at.exception
    projection = project_layers(capture(load_model(tiny_spec), "I love programming"))
    scatter = plotly_chart(at, 0)
    np.testing.assert_allclose(scatter["data"][0]["x"], projection.points[1, :, 0], atol=1e-5)
    at.select_slider(key="layers_layer").set_value(3).run()
    assert plotly_chart(at, 0)["layout"]["xaxis"]["range"] == scatter["layout"]["xaxis"]["range"]


def test_what_each_layer_knows_numbers_layers_as_the_attention_page_does(open_page, plotly_chart, tiny_spec):
    """3 layers: layers 0-2 as on the attention maps, the embeddings named as such, no 'layer 3' anywhere."""
    import re
    at = open_page(PAGE, tiny_spec)
    at.radio(key="explain_section").set_value("What each layer knows").run()
    slider = at.select_slider(key="layers_layer")
    assert list(slider.options) == [
        "embeddings", "after layer 0", "after layer 1", "after layer 2"]
    titles = [plotly_chart(at, i)["layout"]["title"]["text"] for i in range(len(at.get("plotly_chart")))]
    assert titles[0] == "Token states: after layer 2"
    slider.set_value(0).run()
    titles += [plotly_chart(at, i)["layout"]["title"]["text"] for i in range(len(at.get("plotly_chart")))]
    assert "Token states: embeddings" in titles
    assert not [title for title in titles if re.search(r"layer (\d+)", title) and
                int(re.search(r"layer (\d+)", title)[1]) >= 3], titles


def test_probing_the_classroom_sample_draws_accuracy_by_layer(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.radio(key="explain_section").set_value("What each layer knows").run()
    sample = [option for option in at.radio(key="ft_source").options if "lassroom" in option][0]
    at.radio(key="ft_source").set_value(sample).run()
    assert all(radio.key != "probe_models" for radio in at.radio)  # no fine-tuning job in this session
    at.button(key="probe_start").click().run()
    run = at.session_state["probe_run"]
    run._thread.join(timeout=120)
    at.run()
    assert not at.exception
    chart = [plotly_chart(at, i) for i in range(len(at.get("plotly_chart")))][-1]
    assert [trace["name"] for trace in chart["data"]] == ["[CLS] state", "mean of the tokens"]
    assert len(chart["data"][0]["x"]) == 4  # embeddings + 3 layers
    assert chart["layout"]["xaxis"]["ticktext"] == ["embeddings", "after layer 0", "after layer 1", "after layer 2"]
    rows = len(at.session_state["probe_run"].result.results[0].validation)
    assert rows < 30 and f"scored on {rows} validation rows" in chart["layout"]["title"]["text"]
    assert chart["data"][0]["error_y"]["visible"]  # the Wilson interval drawn: a few rows say little
    assert any(f"measured on only {rows} validation rows" in warning.value for warning in at.warning)
    assert not any(markdown.value.startswith("Model") for markdown in at.markdown)


def test_once_a_fine_tuning_job_has_finished_base_and_fine_tuned_are_probed_on_one_chart(open_page, plotly_chart,
                                                                                         tiny_spec):
    from tests.app.test_finetune_jobs_page import start_job
    from tests.app.test_finetune_page import wait_for_results

    at = wait_for_results(start_job(open_page, tiny_spec, steps=3))  # a real job, in this session
    at.switch_page(PAGE).run()
    at.radio(key="explain_section").set_value("What each layer knows").run()
    sample = [option for option in at.radio(key="ft_source").options if "lassroom" in option][0]
    at.radio(key="ft_source").set_value(sample).run()
    at.radio(key="probe_models").set_value("base and fine-tuned").run()
    at.button(key="probe_start").click().run()
    at.session_state["probe_run"]._thread.join(timeout=120)
    at.run()
    assert not at.exception
    chart = plotly_chart(at, len(at.get("plotly_chart")) - 1)
    assert [trace["name"] for trace in chart["data"]] == [
        "[CLS] state · base model", "mean of the tokens · base model",
        "[CLS] state · fine-tuned model", "mean of the tokens · fine-tuned model"]
    assert any("From the base model to the fine-tuned model" in text.value for text in at.markdown)


LONG_TEXT = " ".join(["word"] * 400)  # the tiny test model reads at most 64 tokens


@pytest.mark.parametrize("section", ["Why this prediction", "What each layer knows"])
def test_an_empty_sentence_gets_a_message_and_nothing_drawn(open_page, tiny_spec, section):
    at = open_page(PAGE, tiny_spec)
    at.radio(key="explain_section").set_value(section).run()
    at.text_input(key="_widget_sentence").input("").run()
    assert not at.exception and not at.get("plotly_chart")
    assert any("the text is empty" in info.value for info in at.info)


def test_an_empty_sentence_of_a_pair_gets_a_message_and_nothing_drawn(open_page, tiny_spec):
    at = open_side_by_side(open_page, tiny_spec)
    at.text_input(key="compare_first").input("").run()
    assert not at.exception and not at.get("plotly_chart")
    assert any("The first sentence is empty" in info.value for info in at.info)


def test_special_tokens_only_get_a_message_in_each_section_instead_of_maps(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)  # a masked-word model: nothing to mask is not the reason, no word at all is
    at.text_input(key="_widget_sentence").input("[CLS] [SEP]").run()
    assert any("special tokens only" in info.value for info in at.info)
    at.radio(key="explain_section").set_value("What each layer knows").run()
    assert not at.get("plotly_chart") and any("special tokens only" in info.value for info in at.info)
    at.radio(key="explain_section").set_value("Side by side").run()
    at.text_input(key="compare_second").input("[SEP] [MASK]").run()
    assert not at.exception and not at.get("plotly_chart")
    assert any("The second sentence is made of special tokens only" in info.value for info in at.info)


def test_a_text_too_long_is_cut_with_a_note_in_each_section(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.text_input(key="_widget_sentence").input(LONG_TEXT).run()
    assert not at.exception
    assert any("attributions read the first 64" in warning.value for warning in at.warning)
    at.radio(key="explain_section").set_value("Side by side").run()
    at.text_input(key="compare_first").input(LONG_TEXT[:1990]).run()
    assert not at.exception
    assert any("first sentence" in warning.value and "cut to fit" in warning.value for warning in at.warning)


def test_the_no_classifier_note_names_a_typed_folder_as_plain_text(open_page, tmp_path):
    from albert_viz.model.random_tiny import save_random_albert

    folder = save_random_albert(tmp_path / "my_*bold*_[link](x)")
    at = open_page(PAGE, ModelSpec("local", str(folder), "cpu"))
    note = next(info.value for info in at.info if "no classification head" in info.value)
    assert "\\*bold\\*" in note and "\\[link\\]\\(x\\)" in note  # escaped: shown as typed, not as Markdown


def test_the_difference_maps_colour_range_can_be_fixed_across_layers_and_heads(open_page, plotly_chart, tiny_spec):
    from albert_viz.analysis.compare import MINIMAL_PAIRS
    from albert_viz.model.capture import capture
    from albert_viz.model.loading import load_model

    at = open_side_by_side(open_page, tiny_spec)
    at.selectbox(key="compare_preset").set_value("loved vs hated").run()
    first, second = (capture(load_model(tiny_spec), text) for text in MINIMAL_PAIRS["loved vs hated"])
    largest = float(np.abs(second.attentions - first.attentions).max())
    tops = {}
    for scope in ("all", "view", "full"):
        at.segmented_control(key="compare_colour_range").set_value(scope).run()
        tops[scope] = [plotly_chart(at, 2)["data"][0]["zmax"]]
        at.slider(key="compare_head").set_value(2).run()
        tops[scope].append(plotly_chart(at, 2)["data"][0]["zmax"])
        at.slider(key="compare_head").set_value(0).run()
    assert tops["all"] == pytest.approx([largest, largest]) and tops["full"] == [1.0, 1.0]
    assert tops["view"][0] != pytest.approx(tops["view"][1])
