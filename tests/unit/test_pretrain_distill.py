"""Distillation recipe: which positions and depths are matched to the teacher, and resuming after a recipe change."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from transformers import AlbertConfig, AlbertForPreTraining

from albert_viz.pretrain import distill
from albert_viz.pretrain.__main__ import parse_config
from albert_viz.pretrain.losses import sentence_cosine
from albert_viz.pretrain.pipeline import BUNDLE_DIR
from albert_viz.pretrain.student import widen_feed_forward

BATCH, SEQ, HIDDEN, HEADS, DEPTH = 2, 5, 8, 2, 6


def outputs(seed: int):
    """Fake model outputs: DEPTH attention maps (rows sum to 1) and DEPTH + 1 hidden states."""
    g = torch.Generator().manual_seed(seed)
    att = [torch.softmax(torch.randn(BATCH, HEADS, SEQ, SEQ, generator=g), -1) for _ in range(DEPTH)]
    hid = [torch.randn(BATCH, SEQ, HIDDEN, generator=g) for _ in range(DEPTH + 1)]
    return SimpleNamespace(attentions=att, hidden_states=hid)


def losses_for(teacher, student, cfg):
    mask = distill.distillation_mask(torch.ones(BATCH, SEQ, dtype=torch.long), cfg)
    att, hid = distill.distillation_losses(teacher, student, mask, cfg)
    return att.item(), hid.item()


def test_cls_position_is_not_distilled_so_sop_can_use_it():
    teacher = outputs(0)
    student = outputs(0)
    for h in student.hidden_states:
        h[:, 0] += 5.0  # the student's [CLS] state goes its own way
    for a in student.attentions:
        a[:, :, 0] = torch.roll(a[:, :, 0], 1, dims=-1)  # and so does the [CLS] attention row
    assert losses_for(teacher, student, distill.TrainConfig()) == (0.0, 0.0)
    assert min(losses_for(teacher, student, replace(distill.TrainConfig(), distill_cls=True))) > 0


def test_depths_with_zero_attention_weight_are_free():
    cfg = distill.TrainConfig()
    teacher, student = outputs(0), outputs(0)
    free = cfg.attention_layer_weights.index(0.0)
    student.attentions[free] = outputs(1).attentions[free]
    assert losses_for(teacher, student, cfg)[0] == 0.0


def test_next_token_depth_counts_more_than_previous_token_depth():
    cfg = distill.TrainConfig()
    teacher = outputs(0)
    off = outputs(1)
    only_depth = []
    for depth in (0, 1):
        student = outputs(0)
        student.attentions[depth] = off.attentions[depth]
        kl = losses_for(teacher, student, replace(cfg, attention_layer_weights=(1.0,) * DEPTH))[0]
        only_depth.append(losses_for(teacher, student, cfg)[0] / kl)  # the weighted share of that depth
    assert only_depth[1] == pytest.approx(cfg.attention_layer_weights[1] * only_depth[0])


def tiny_pretraining_model(seed: int) -> AlbertForPreTraining:
    torch.manual_seed(seed)
    return AlbertForPreTraining(AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_attention_heads=2,
                                             intermediate_size=32, num_hidden_layers=2))


def test_checkpoint_from_an_older_recipe_resumes_with_its_weights(tmp_path):
    trained = tiny_pretraining_model(seed=0)
    old_recipe = torch.optim.AdamW([{"params": list(trained.parameters())}])  # one group: a different layout
    distill.save_checkpoint(tmp_path / "ckpt.pt", trained, old_recipe, distill.RunState(step=7, elapsed=30.0))
    fresh = tiny_pretraining_model(seed=1)
    state = distill.load_checkpoint(tmp_path / "ckpt.pt", fresh, distill.make_optimizer(fresh, distill.TrainConfig()))
    assert state.step == 7
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), fresh.state_dict().values()))


def test_default_run_is_ninety_minutes_on_cpu_and_short_on_a_gpu(monkeypatch):
    from albert_viz.pretrain import pipeline

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pipeline.config_from_args(None, None, None).train.budget_minutes == 90
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    gpu = pipeline.config_from_args(None, None, None).train
    assert (gpu.device, gpu.budget_minutes) == ("cuda", pipeline.GPU_BUDGET_MINUTES)
    assert pipeline.config_from_args(5, None, None).train.budget_minutes == 5


def test_continued_training_starts_from_the_saved_model_heads_included(tmp_path):
    from albert_viz.pretrain import pipeline

    saved = tiny_pretraining_model(seed=0)
    saved.save_pretrained(tmp_path)
    continued = pipeline.continued_student(tmp_path)
    assert continued.config._attn_implementation == "eager"  # attention distillation needs the probabilities
    assert all(torch.equal(a, b) for a, b in zip(saved.state_dict().values(), continued.state_dict().values()))


def test_sentence_term_asks_only_the_direction_of_cls_to_follow_the_teachers_sentence_embedding():
    g = torch.Generator().manual_seed(0)
    teacher_last = torch.randn(BATCH, SEQ, HIDDEN, generator=g)  # [batch, seq, hidden]
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])  # the first sentence is padded
    sentence = (teacher_last * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)  # mean over real tokens
    assert sentence_cosine(teacher_last, 3.0 * sentence, mask).item() == pytest.approx(0.0, abs=1e-6)
    assert sentence_cosine(teacher_last, -sentence, mask).item() == pytest.approx(2.0, abs=1e-6)


def test_a_run_from_the_teacher_leaves_the_sentence_term_out_and_the_command_line_can_turn_it_on():
    assert parse_config([]).train.w_sentence == 0.0
    assert parse_config(["--sentence-weight", "10"]).train.w_sentence == 10.0


def test_a_negative_sentence_weight_is_refused_with_a_message(capsys):
    with pytest.raises(SystemExit):
        parse_config(["--sentence-weight", "-1"])
    assert "must be 0 or more" in capsys.readouterr().err


def masked_batch() -> dict:
    """Two tiny two-segment examples, two masked positions each, one in each sentence order."""
    ids = torch.tensor([[2, 5, 6, 3, 7, 8, 3], [2, 9, 10, 3, 11, 12, 3]])  # [batch, seq]
    labels = torch.full_like(ids, -100)
    labels[:, 1], labels[:, 4] = ids[:, 1], ids[:, 4]
    return {"input_ids": ids, "teacher_input_ids": ids, "token_type_ids": torch.tensor([[0, 0, 0, 0, 1, 1, 1]] * 2),
            "attention_mask": torch.ones_like(ids), "labels": labels, "sentence_order_label": torch.tensor([0, 1])}


def test_objectives_only_trains_on_mlm_and_sop_without_running_the_teacher():
    cfg = parse_config(["--objectives-only"]).train
    assert not distill.uses_teacher(cfg)
    total, parts = distill.forward_losses(tiny_pretraining_model(0), None, masked_batch(), replace(cfg, bf16=False))
    assert (parts.attention, parts.hidden, parts.sentence) == (0.0, 0.0, 0.0)
    assert total.item() == pytest.approx(cfg.w_mlm * parts.mlm + cfg.w_sop * parts.sop, rel=1e-5)
    assert total.requires_grad


def test_widening_the_shared_feed_forward_keeps_every_prediction_and_the_sharing():
    model = tiny_pretraining_model(0).eval()
    wider = widen_feed_forward(model, 48).eval()
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    assert wider.config.intermediate_size == 48 and wider.config.num_hidden_groups == 1
    assert torch.equal(model(ids).prediction_logits, wider(ids).prediction_logits)
    assert torch.equal(model(ids).sop_logits, wider(ids).sop_logits)


def test_the_widened_units_start_silent_and_can_learn():
    wider = widen_feed_forward(tiny_pretraining_model(0), 48)
    out = wider.albert.encoder.albert_layer_groups[0].albert_layers[0].ffn_output.weight  # [hidden, intermediate]
    assert torch.count_nonzero(out[:, 32:]) == 0
    wider(torch.tensor([[1, 5, 7, 9, 2]])).prediction_logits.sum().backward()
    assert out.grad[:, 32:].abs().sum() > 0


def test_a_float16_bundle_stores_half_precision_and_loads_with_plain_transformers(tmp_path):
    from safetensors import safe_open
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from albert_viz.pretrain.pipeline import save_bundle

    save_bundle(tiny_pretraining_model(0), AutoTokenizer.from_pretrained(BUNDLE_DIR), tmp_path, {}, "float16")
    with safe_open(tmp_path / "model.safetensors", "pt") as weights:
        assert {weights.get_slice(k).get_dtype() for k in weights.keys()} == {"F16"}
    assert AutoModelForMaskedLM.from_pretrained(tmp_path).config.model_type == "albert"


def test_the_command_line_can_widen_the_layer_and_halve_the_bundle():
    cfg = parse_config(["--init-from", str(BUNDLE_DIR), "--widen-ffn", "3072", "--bundle-dtype", "float16"])
    assert (cfg.widen_ffn_to, cfg.bundle_dtype) == (3072, "float16")
    assert (parse_config([]).widen_ffn_to, parse_config([]).bundle_dtype) == (None, "float32")


def test_the_finetune_check_trains_a_float16_bundle_in_float32(tmp_path):
    from albert_viz.pretrain.finetune_check import classifier_to_finetune

    tiny_pretraining_model(0).half().save_pretrained(tmp_path)
    classifier = classifier_to_finetune(tmp_path, num_labels=2)
    assert {p.dtype for p in classifier.parameters()} == {torch.float32}
    assert classifier.config.num_labels == 2


def test_widening_to_no_more_units_than_the_model_has_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit):
        parse_config(["--init-from", str(BUNDLE_DIR), "--widen-ffn", "1536"])
    assert "more than the 1536 feed-forward units" in capsys.readouterr().err


def test_a_missing_init_from_folder_is_named_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_config(["--init-from", str(tmp_path / "missing"), "--widen-ffn", "3072"])
    assert "no config.json there" in capsys.readouterr().err


def test_objectives_only_refuses_a_sentence_weight_it_would_ignore(capsys):
    with pytest.raises(SystemExit):
        parse_config(["--objectives-only", "--sentence-weight", "5"])
    assert "--objectives-only leaves the teacher out" in capsys.readouterr().err
