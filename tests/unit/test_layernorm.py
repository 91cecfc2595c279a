"""Layer-norm statistics, γ/β and the worked LayerNorm equal direct computations on the model's own LayerNorms."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from albert_viz.model.capture import capture
from albert_viz.analysis.layernorm import (
    layer_norm_params, layer_norm_stats, outlier_dimensions, residual_norms, worked_layer_norm,
)
from albert_viz.model.loading import BUNDLED_MODEL_DIR, ModelSpec, load_model
from albert_viz.model.random_tiny import save_random_albert

SENTENCE, PAIR = "I love programming", "the cat is tired"


@pytest.fixture(scope="module")
def trained_looking_model(tmp_path_factory):
    """A grouped tiny ALBERT whose γ and β are not the 1 and 0 of initialisation, so using them matters."""
    folder = save_random_albert(tmp_path_factory.mktemp("ln"), seed=1, num_hidden_layers=4,
                                num_hidden_groups=2, inner_group_num=2)
    loaded = load_model(ModelSpec("local", str(folder), "cpu"))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in loaded.encoder.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1 + torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator))
    return loaded


@pytest.fixture(scope="module")
def result(trained_looking_model):
    return capture(trained_looking_model, SENTENCE, PAIR)


def test_stats_equal_mean_and_population_std_of_every_application(result):
    stats = layer_norm_stats(result)
    for index, application in enumerate(result.layernorms):
        inputs = torch.from_numpy(application.inputs)
        np.testing.assert_allclose(stats.input_mean[index], inputs.mean(-1).numpy(), atol=1e-5)
        np.testing.assert_allclose(stats.input_std[index], inputs.std(-1, correction=0).numpy(), atol=1e-5)
        np.testing.assert_allclose(stats.output_std[index], application.outputs.std(-1), atol=1e-5)


def test_params_are_the_modules_own_gamma_beta_and_eps(trained_looking_model, result):
    params = layer_norm_params(trained_looking_model.encoder)
    module = trained_looking_model.encoder.get_submodule(result.layernorms[1].module)
    np.testing.assert_array_equal(params[result.layernorms[1].module].gamma, module.weight.detach().numpy())
    assert params[result.layernorms[1].module].eps == module.eps


def test_worked_layer_norm_equals_torch_layer_norm_with_the_modules_parameters(trained_looking_model, result):
    params = layer_norm_params(trained_looking_model.encoder)
    application = result.layernorms[3]
    module = trained_looking_model.encoder.get_submodule(application.module)
    worked = worked_layer_norm(result, params, index=3, position=2)
    expected = F.layer_norm(torch.from_numpy(application.inputs[2]), module.normalized_shape,
                            module.weight.detach(), module.bias.detach(), module.eps)
    np.testing.assert_allclose(worked.y, expected.numpy(), atol=1e-5)
    assert worked.mean == pytest.approx(float(application.inputs[2].mean()), abs=1e-6)


def test_worked_layer_norm_matches_the_model_within_1e5_at_every_application_and_token(trained_looking_model, result):
    params = layer_norm_params(trained_looking_model.encoder)
    for index in range(len(result.layernorms)):
        for position in range(result.num_tokens):
            assert worked_layer_norm(result, params, index, position).max_abs_diff < 1e-5


def test_shared_layer_norm_reuses_one_module_at_every_depth_of_a_group(result):
    # 4 layers in 2 groups of 2 inner layers: 8 attention-LN calls over 4 distinct modules.
    names = [a.module for a in result.layernorms if a.site == "attention"]
    assert len(names) == 8 and len(set(names)) == 4
    assert names[0] == names[2]  # the same inner layer of group 0 runs again at the next outer step


def test_worked_example_csv_holds_every_dimension(trained_looking_model, result):
    worked = worked_layer_norm(result, layer_norm_params(trained_looking_model.encoder), 0, 0)
    lines = worked.to_csv().strip().splitlines()
    assert len(lines) == 1 + worked.x.shape[0] and lines[0].startswith("dim,x,")


def test_outlier_dimensions_are_the_largest_mean_abs_inputs(result):
    outliers = outlier_dimensions(result, k=3)
    hidden = [a for a in result.layernorms if a.site != "embeddings"]
    scale = np.stack([np.abs(a.inputs).mean(axis=0) for a in hidden])  # [application, dim]
    assert outliers.dims[0] == scale.max(axis=0).argmax()
    assert outliers.input_scale.shape == (len(hidden), 3)


def test_residual_norms_are_hidden_state_norms(result):
    norms = residual_norms(result)
    assert norms.shape == (result.hidden_states.shape[0], result.num_tokens)
    np.testing.assert_allclose(norms[2, 1], np.linalg.norm(result.hidden_states[2, 1]), rtol=1e-6)


def test_difference_is_a_few_float32_rounding_steps_at_most(trained_looking_model, result):
    params = layer_norm_params(trained_looking_model.encoder)
    worked = worked_layer_norm(result, params, index=5, position=1)
    ulp = np.spacing(np.abs(worked.model_output).max())
    assert worked.rounding_steps == pytest.approx(worked.max_abs_diff / ulp) and worked.rounding_steps < 16


@pytest.mark.skipif(not (BUNDLED_MODEL_DIR / "model.safetensors").exists(), reason="bundled model not built")
def test_worked_layer_norm_matches_the_bundled_model_within_1e5_everywhere():
    loaded = load_model(ModelSpec("bundled", device="cpu"))
    params = layer_norm_params(loaded.encoder)
    result = capture(loaded, "The old man and the sea.", "He was an old man who fished alone in a skiff.")
    worst = max(worked_layer_norm(result, params, index, position).max_abs_diff
                for index in range(len(result.layernorms)) for position in range(result.num_tokens))
    assert worst < 1e-5


def test_stats_chart_draws_one_line_per_token_in_each_of_the_four_panels_and_one_legend_entry(result):
    stats = layer_norm_stats(result)
    from albert_viz.figures import layernorm_charts

    figure = layernorm_charts.stats_lines(stats, [f"t{i}" for i in range(stats.input_mean.shape[1])], [0, 1],
                                          "stats", positions=[0, 2])
    assert len(figure.data) == 4 * 2
    assert {trace.xaxis for trace in figure.data} == {"x", "x2", "x3", "x4"}
    assert [trace.name for trace in figure.data if trace.showlegend] == ["0 t0", "2 t2"]
    np.testing.assert_allclose(figure.data[-1].y, stats.output_std[[0, 1], 2])


def test_every_unchecked_layer_norm_chart_sends_what_a_validated_one_would(trained_looking_model, result,
                                                                          assert_sent_as_validated):
    """plots_layernorm skips plotly's validation for speed: each chart must send the same JSON as a validated one."""
    from albert_viz.figures import layernorm_charts as charts

    stats, params = layer_norm_stats(result), layer_norm_params(trained_looking_model.encoder)
    name, first = next(iter(params.items()))
    application = result.layernorms[1]
    outliers = outlier_dimensions(result)
    figures = [
        charts.stats_lines(stats, result.tokens, [0, 1], "t"),
        charts.stats_heatmap(stats.input_mean, stats.labels(), result.tokens, "t"),
        charts.residual_norm_lines(residual_norms(result), result.tokens),
        charts.gamma_beta_histograms(first, name),
        charts.top_gamma_bars(first, name),
        charts.outlier_profile(application.inputs, application.outputs, list(outliers.dims), "t"),
        charts.outlier_ratio_heatmap(outliers),
        charts.worked_vectors(worked_layer_norm(result, params, 1, 2)),
    ]
    for figure in figures:
        assert_sent_as_validated(figure)
