"""The worked-examples page in AppTest: every mode and classroom preset renders, and the checks it prints pass."""
import pytest

from albert_viz.ui import walkthrough_panel

PAGE = "pages/worked_examples.py"


def choose_mode(at, mode: str):
    at.radio(key="_widget_wk_mode").set_value(mode).run()
    assert not at.exception, at.exception
    return at


def test_toy_mode_shows_the_article_numbers_and_why_its_rows_are_wrong(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    assert not at.exception
    latex = " ".join(element.value for element in at.latex)
    assert "2.2361" in latex and "0.2000" in latex
    assert any("sixth" in markdown.value for markdown in at.markdown)


@pytest.mark.parametrize("preset", list(walkthrough_panel.TOY_LABELS))
def test_every_toy_preset_renders(open_page, tiny_spec, preset):
    at = open_page(PAGE, tiny_spec)
    at.selectbox(key="_widget_wk_toy_preset").set_value(preset).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1


def test_real_mode_prints_passing_checks_for_the_chosen_layer_and_head(open_page, grouped_spec):
    at = choose_mode(open_page(PAGE, grouped_spec), "real")
    at.slider(key="layer_worked").set_value(5)
    at.slider(key="head_worked").set_value(3)
    at.run()
    assert not at.exception
    assert not at.error
    checks = [success.value for success in at.success]
    assert any("layer 5, head 3" in check for check in checks)
    assert any("hidden_states[6]" in check for check in checks)


@pytest.mark.parametrize("mode", ["toy", "real", "pretraining"])
@pytest.mark.parametrize("preset", list(walkthrough_panel.CLASSROOM_PRESETS))
def test_each_classroom_preset_fills_the_inputs_and_renders_each_mode(open_page, tiny_spec, mode, preset):
    at = choose_mode(open_page(PAGE, tiny_spec), mode)
    at.button(key=f"wk_preset_{preset}").click().run()
    assert not at.exception
    expected = walkthrough_panel.CLASSROOM_PRESETS[preset]
    if mode != "toy":
        assert at.text_input(key="_widget_sentence").value == expected["sentence"]
    if mode == "pretraining":
        assert at.text_input(key="_widget_wk_mask_word").value == expected["mask"]
        assert at.text_input(key="_widget_wk_sop_first").value == expected["sop"][0]
        assert len(at.dataframe) >= 2  # the MLM guesses and the SOP table
    elif mode == "real":
        assert at.text_input(key="_widget_sentence_pair").value == expected["pair"]
        assert not at.error
    else:
        assert at.selectbox(key="_widget_wk_toy_preset").value == expected["toy"]


def test_a_word_not_in_the_sentence_gets_a_message(open_page, tiny_spec):
    at = choose_mode(open_page(PAGE, tiny_spec), "pretraining")
    at.text_input(key="_widget_wk_mask_word").input("zebra").run()
    assert not at.exception
    assert any("not in the sentence" in info.value for info in at.info)


def test_a_model_without_pretraining_heads_says_so(open_page, tmp_path, tiny_spec):
    from transformers import AlbertModel, AutoTokenizer
    from albert_viz.model.loading import ModelSpec
    AlbertModel.from_pretrained(tiny_spec.location).save_pretrained(tmp_path)  # the bare encoder: no MLM, no SOP
    AutoTokenizer.from_pretrained(tiny_spec.location).save_pretrained(tmp_path)
    at = choose_mode(open_page(PAGE, ModelSpec("local", str(tmp_path), "cpu")), "pretraining")
    messages = " ".join(info.value for info in at.info)
    assert "no MLM head" in messages and "no SOP head" in messages


def test_pretraining_mode_says_plainly_whether_the_bundled_model_got_the_masked_word(open_page):
    from albert_viz.analysis import anatomy, walkthrough
    from albert_viz.model.loading import ModelSpec, load_model
    at = choose_mode(open_page(PAGE), "pretraining")
    sentence, word = at.text_input(key="_widget_sentence").value, at.text_input(key="_widget_wk_mask_word").value
    prediction = walkthrough.masked_word_predictions(load_model(ModelSpec()), sentence, word).predictions[0]
    messages = [m.value for m in (*at.success, *at.warning)]
    said = next(m for m in messages if m.startswith(f"Position {prediction.position}"))
    assert ("Right" if prediction.original_rank == 1 else f"guess number {prediction.original_rank}") in said
    assert f"{anatomy.bundled_heldout_score('mlm_top1'):.0%} of held-out masked words" in said


def test_pretraining_mode_words_the_sop_verdict_from_the_two_numbers(open_page):
    from albert_viz.analysis import walkthrough
    from albert_viz.model.loading import ModelSpec, load_model
    at = choose_mode(open_page(PAGE), "pretraining")
    first, second = at.text_input(key="_widget_wk_sop_first").value, at.text_input(key="_widget_wk_sop_second").value
    order = walkthrough.sentence_order(load_model(ModelSpec()), first, second)
    verdict = walkthrough.sop_verdict(float(order.given_order[0]), float(order.swapped_order[0]))
    assert any(verdict in m.value for m in (*at.success, *at.warning))


def test_toy_mode_names_the_article_it_corrects(open_page, tiny_spec):
    from albert_viz.teaching import article
    at = open_page(PAGE, tiny_spec)
    assert any(article.SOURCE in caption.value and "假设注意力分数为" in caption.value for caption in at.caption)


def test_after_editing_w_k_the_article_section_makes_no_claim_the_screen_contradicts(open_page, tiny_spec):
    from albert_viz.analysis import walkthrough
    at = open_page(PAGE, tiny_spec)
    editor = f"wk_wk_{walkthrough.article_preset().name}-0"  # the W_K table of the untouched article preset
    at.session_state[editor] = {"edited_rows": {0: {"c1": 3}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    claims = " ".join(markdown.value for markdown in at.markdown if markdown.value.startswith("- "))
    assert "edited" in claims and "k_1 = [3, 1, 1, 1, 1]" in claims
    assert "every weight is exactly" not in claims and "every score q_i · k_j" not in claims


def test_a_word_cut_into_pieces_gets_the_word_pieces_explained(open_page):
    from albert_viz.teaching import glossary
    at = choose_mode(open_page(PAGE), "pretraining")
    at.text_input(key="_widget_sentence").input("The animal didn't cross the street").run()
    at.text_input(key="_widget_wk_mask_word").input("animal").run()
    assert not at.exception
    assert any(glossary.explain("word pieces") in caption.value for caption in at.caption)


def test_after_the_issue_s_three_edits_the_line_above_the_matrices_says_what_they_now_give(open_page, tiny_spec):
    from albert_viz.analysis import walkthrough
    at = open_page(PAGE, tiny_spec)
    version = f"{walkthrough.article_preset().name}-0"
    for table, cell in (("wk_wk", {0: {"c1": 3}}), ("wk_wv", {1: {"c2": 0}}), ("wk_wq", {0: {"c1": 0}})):
        at.session_state[f"{table}_{version}"] = {"edited_rows": cell, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    captions = " ".join(caption.value for caption in at.caption)
    assert "every q_i, k_i and v_i is [1,1,1,1,1]" not in captions
    assert ("Edited from “The article's example”: W_Q[d1, c1] = 0 (was 1), W_K[d1, c1] = 3 (was 1), "
            "W_V[d2, c2] = 0 (was 1).") in captions
    claims = " ".join(markdown.value for markdown in at.markdown if markdown.value.startswith("- "))
    assert "row 1's scaled scores" not in claims and "rows 1 are" not in claims
    assert "row 2's scaled scores are (3.1305, 2.2361, 2.2361, 2.2361, 2.2361)" in claims
