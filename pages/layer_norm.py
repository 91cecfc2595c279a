"""Layer norm: statistics at every LayerNorm application, shared γ/β, outlier dimensions, one LayerNorm by hand."""
import streamlit as st

from albert_viz.analysis import layernorm

from albert_viz.figures import layernorm_charts

from albert_viz.teaching import glossary
from albert_viz.ui import figures, model_facts, token_picker, widgets
from albert_viz.ui.text import safe_file_name

st.title("Layer norm")
st.caption("LayerNorm rescales every token's vector on its own: y = γ · (x − μ) / √(σ² + ε) + β, with μ and σ² "
           "the mean and variance over that token's dimensions and γ, β learned per dimension. ALBERT runs one at "
           "the embeddings (size E) and two in every layer (after attention, after the feed-forward block).")

text, text_pair = widgets.sentence_inputs(with_pair=True)
capture = widgets.capture_or_stop(text, text_pair, exact=True)
params = model_facts.get_layernorm_params(widgets.current_spec())
stats = layernorm.layer_norm_stats(capture)
labels = stats.labels()
with st.expander("Tokens drawn as lines"):
    lines_for = token_picker.tokens_multiselect(capture, "ln_tokens", "Tokens drawn as lines")

across_depth, heatmaps, residual, shared, outliers, worked_tab = st.tabs(
    ["Across depth", "Token × depth", "Vector length", "Shared γ and β", "Outlier dimensions", "Worked LayerNorm"])

with across_depth:
    sites = st.multiselect("LayerNorms to show", ["embeddings", "attention", "full_layer"],
                           default=["attention", "full_layer"], key="ln_sites",
                           format_func={"embeddings": "embeddings (size E)", "attention": "after attention",
                                        "full_layer": "after feed-forward (full layer)"}.get)
    chosen = [i for i, site in enumerate(stats.sites) if site in sites]
    if chosen:
        figures.show(layernorm_charts.stats_lines(stats, capture.tokens, chosen,
                                                  "Mean and spread of each token, going in and coming out",
                                                  lines_for),
                     "ln_lines", "layernorm_token_mean_and_spread")
        st.caption("Inputs drift with depth; outputs stay where γ and β put them, whatever came in: "
                   "that is LayerNorm keeping the numbers in range. Click a token in the legend to hide it.")
    else:
        st.info("Choose at least one kind of LayerNorm.")

with heatmaps:
    quantity = st.radio("Statistic", list(layernorm_charts.QUANTITIES), horizontal=True, key="ln_quantity",
                        format_func=layernorm_charts.QUANTITIES.get)
    figures.show(layernorm_charts.stats_heatmap(getattr(stats, quantity), labels, capture.tokens,
                                                layernorm_charts.QUANTITIES[quantity]),
                 "ln_heatmap", f"layernorm_{quantity}")

with residual:
    figures.show(layernorm_charts.residual_norm_lines(layernorm.residual_norms(capture), capture.tokens, lines_for),
                 "ln_residual", "layernorm_residual_norms")
    st.caption("Each block adds its result to the token's running vector (the residual stream) and only then "
               "normalises (post-LN, as in BERT), so what leaves every layer is a LayerNorm output: x̂ always has "
               "length √H (up to ε), and γ and β set the rest. Depth 0 is the embedding lifted from E to H, which "
               "no LayerNorm follows.")
    st.caption(glossary.caption("residual stream", "post-LN"))

with shared:
    modules = list(dict.fromkeys(stats.modules))  # distinct modules, in the order they first ran
    config = widgets.current_model().config
    readable = {module: glossary.layernorm_name(module, config.num_hidden_groups, config.inner_group_num)
                for module in modules}
    module = st.selectbox("LayerNorm module", modules, index=min(1, len(modules) - 1), key="ln_module",
                          format_func=readable.get, help="Its name inside the model: "
                          "encoder.albert_layer_groups.G.albert_layers.L.… for layer L of shared group G.")
    ran_at = [label for label, name in zip(labels, stats.modules) if name == module]
    times = "once" if len(ran_at) == 1 else f"**{len(ran_at)}** times"
    st.markdown(f"The {readable[module]} ran {times} on this sentence, with the very same γ and β: "
                + ", ".join(ran_at) + ".")
    st.caption(f"In the model's code: `{module}`.")
    left, right = st.columns(2)
    figures.show(layernorm_charts.gamma_beta_histograms(params[module], readable[module]),
                 "ln_hist", "layernorm_gamma_beta", where=left)
    figures.show(layernorm_charts.top_gamma_bars(params[module], readable[module]),
                 "ln_top_gamma", "layernorm_largest_gamma", where=right)
    runs = [i for i, name in enumerate(stats.modules) if name == module]
    st.dataframe({"application": [labels[i] for i in runs],
                  "mean input std (over tokens)": [float(stats.input_std[i].mean()) for i in runs],
                  "mean output std (over tokens)": [float(stats.output_std[i].mean()) for i in runs]},
                 hide_index=True)
    st.caption("Same γ and β at every depth, different inputs every time: that is cross-layer sharing.")

with outliers:
    st.caption("Outlier dimensions are a few hidden dimensions whose values are many times larger than the rest "
               "(Kovaleva et al. 2021 found them in BERT's LayerNorms). This tab takes the dimensions with the "
               "largest mean |input| and shows how many times the median dimension's size each one is, at every "
               "LayerNorm: near 1× means no outlier. Below, every dimension before and after one LayerNorm, the "
               "chosen ones in red.")
    found = layernorm.outlier_dimensions(capture, k=st.slider("How many dimensions", 1, 12, 5, key="ln_k"))
    figures.show(layernorm_charts.outlier_ratio_heatmap(found), "ln_outlier_ratio", "layernorm_outlier_dimensions")
    hidden = [i for i, site in enumerate(stats.sites) if site != "embeddings"]
    index = token_picker.labelled_selectbox("Application", hidden, labels, "ln_outlier_application")
    application = capture.layernorms[index]
    figures.show(layernorm_charts.outlier_profile(application.inputs, application.outputs, found.dims,
                                                  f"Every hidden dimension at {labels[index]}"),
                 "ln_profile", "layernorm_dimension_profile")

with worked_tab:
    left, right = st.columns(2)
    with left:
        index = token_picker.labelled_selectbox("Application", range(len(labels)), labels, "ln_worked_application", 1)
    with right:
        position = token_picker.token_selectbox(capture, "ln_worked_token")
    worked = layernorm.worked_layer_norm(capture, params, index, position)
    metrics = st.columns(4)
    metrics[0].metric("μ (mean of x)", f"{worked.mean:.6g}")
    metrics[1].metric("σ² (variance of x)", f"{worked.variance:.6g}")
    metrics[2].metric("√(σ² + ε)", f"{(worked.variance + worked.eps) ** 0.5:.6g}", help=f"ε = {worked.eps:g}")
    metrics[3].metric("largest |ours − model|", f"{worked.max_abs_diff:.2e}")
    if worked.max_abs_diff < 1e-5:
        st.success(f"Our γ·x̂ + β equals the model's LayerNorm output in all {worked.x.shape[0]} dimensions "
                   "to better than 1e-5.")
    elif worked.rounding_steps < 16:
        st.warning(f"Our result differs from the model's by {worked.max_abs_diff:.2e}: a few float32 rounding steps "
                   "at outputs this large, not a different formula.")
    else:
        st.error(f"Our result differs from the model's by {worked.max_abs_diff:.2e}; expected below 1e-5.")
    st.caption(f"We compute in float64; the model in float32. The difference is {worked.rounding_steps:.1f} "
               "float32 rounding step(s) at the largest output value.")
    st.dataframe(worked.head(8), hide_index=True)
    st.download_button("Download every dimension (CSV)", worked.to_csv(), mime="text/csv", key="ln_csv",
                       file_name=safe_file_name(f"layernorm_{labels[index]}_token{position}.csv"))
    figures.show(layernorm_charts.worked_vectors(worked), "ln_worked", "layernorm_worked_example")
