"""Two sections of the Explain page that intervene: which heads a task needs, and which explanation is faithful.

Both score many rows, so they run in a background thread (albert_viz.analysis.background.BackgroundRun) that
never calls st.*: the page starts it, a fragment polls its progress every second and offers Cancel, and the
finished result stays in the session until the next run.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from albert_viz.analysis import ablation, faithfulness as faith
from albert_viz.analysis.attribution import CLASSIFIER, MASKED_WORD, has_classifier
from albert_viz.analysis.background import BackgroundRun
from albert_viz.figures import intervention_charts
from albert_viz.finetune.data import SAMPLES_DIR
from albert_viz.finetune.metrics import accuracy_text, too_few_rows_note
from albert_viz.finetune.store import DatabaseUnavailable
from albert_viz.model.loading import LoadedModel, ModelSpec
from albert_viz.ui import explain_panel, figures, finetune_panel
from albert_viz.ui.resources import get_model
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model, current_spec

HEADS_RUN, FAITH_RUN = "importance_run", "faithfulness_run"  # session keys of the two sections' BackgroundRuns
HELD_OUT = SAMPLES_DIR / "movie_reviews_test.csv"
HEAD_ROWS = (50, 100, 200)  # rows to score every head on (the bundled model on 2 cores, per 100 rows: map ~28 s + pruning curve ~60 s)
FAITH_ROWS = (10, 20, 50)  # sentences for the deletion curves (each one needs Integrated Gradients)
METHOD_HEADERS = {"comprehensiveness": "comprehensiveness (higher: its top words were needed)",
                  "sufficiency": "sufficiency (lower: its top words alone suffice)",
                  "aopc": "AOPC (higher: its ranking predicts the model)"}
HEADS_NOTE = ("Michel et al. (2019) asked whether all those heads are needed. The map switches each head off "
              "alone and colours how much the model's probability of the right answer falls; the curve then "
              "switches heads off one more at a time, least important first, and shows how long the accuracy "
              "holds up.")
FAITH_NOTE = ("An explanation is faithful if the words it ranks highest are the ones the model needs: delete "
              "them, most important first, and its confidence in its original answer should fall fast "
              "(DeYoung et al. 2020, ERASER). Each line is one explanation; the dashed grey one deletes words in "
              "a random order, the floor to beat.")


@dataclass(frozen=True, eq=False)
class TaskChoice:
    """Rows to score and the model that answers them: a fine-tuned classifier's validation rows, or masked words."""

    name: str  # plain words for the page
    kind: str
    model: LoadedModel
    texts: tuple[str, ...]
    labels: tuple[int, ...] = ()
    max_tokens: int = 64


def _job_task(most: int) -> TaskChoice | None:
    """The session's finished fine-tuning job, scored on its own validation rows (a note if it cannot be)."""
    try:
        finished = finetune_panel.finished_model()
    except DatabaseUnavailable as error:
        st.caption(plain(str(error)))
        return None
    if finished is None:
        return None
    job, tuned = finished
    result = job.result
    if len(result.validation_labels) != len(result.validation_texts):
        st.caption("Your fine-tuning job is from before jobs kept their validation labels, so its classifier "
                   "cannot be scored here. Fine-tune again to score it.")
        return None
    rows = min(len(result.validation_texts), most)
    first = f"the first {rows:,} of its {len(result.validation_texts):,}" if rows < len(result.validation_texts) \
        else f"its {rows:,}"
    return TaskChoice(f"Classifier: the fine-tuned model of job {job.id[:8]} on {first} validation rows (never "
                      "trained on)", CLASSIFIER, tuned, result.validation_texts[:rows], result.validation_labels[:rows],
                      result.config.max_length)


@st.cache_data(show_spinner=False)
def _held_out_texts() -> tuple[str, ...]:
    return tuple(pd.read_csv(HELD_OUT)["text"].dropna().astype(str))


def _masked_word_task(loaded: LoadedModel, rows: int) -> TaskChoice:
    return TaskChoice(f"Masked word: {loaded.spec.label} guesses one hidden word in each of {rows:,} held-out "
                      "movie-review snippets (the sample data's test file, kept out of the bundled model's "
                      "pretraining)", MASKED_WORD, loaded, _held_out_texts()[:rows])


def _choose_task(key: str, row_choices: tuple[int, ...]) -> TaskChoice | None:
    """The tasks this session can score, said plainly; a radio when there are two."""
    loaded = current_model()
    if loaded is None:
        return None
    rows = st.select_slider("Rows", row_choices, value=row_choices[1], key=f"{key}_rows",
                            help="At most this many rows: more give steadier numbers and take longer.")
    tasks = [task for task in (_job_task(rows), _masked_word_task(loaded, rows) if loaded.has_mlm_head else None)
             if task]
    if not tasks:
        st.info(plain(_no_task_note(loaded)))
        return None
    if len(tasks) == 1:
        st.text(f"Task: {tasks[0].name}.")
        if tasks[0].kind == MASKED_WORD:
            st.caption(_masked_only_note(loaded))
        return tasks[0]
    names = [task.name for task in tasks]
    chosen = st.radio("Task", names, key=f"{key}_task")
    return tasks[names.index(chosen)]


def _masked_only_note(loaded: LoadedModel) -> str:
    if has_classifier(loaded):
        return ("This model has a classifier, but this page knows no labelled rows for it; a fine-tuning job of "
                "this session would be scored on its own validation rows.")
    return ("This model has no classifier, so only the masked-word task is offered. Fine-tune it on the "
            "Fine-tuning page to score a classifier on its own validation rows.")


def _no_task_note(loaded: LoadedModel) -> str:
    if has_classifier(loaded):
        return (f"{loaded.spec.label} has a classifier but no masked-word head, and this page knows no labelled "
                "rows for it. Fine-tune a model on the Fine-tuning page (in this session) to score its "
                "classifier on its own validation rows.")
    return f"{loaded.spec.label} has neither a classifier nor a masked-word head: there is no answer to score."


def _start(key: str, button: str, task: TaskChoice, work) -> None:
    """The start button; a click while this session's run is still going starts nothing."""
    run: BackgroundRun | None = st.session_state.get(key)
    busy = run is not None and run.running
    if st.button(button, type="primary", disabled=busy, key=f"{key}_start") and not busy:
        st.session_state[key] = BackgroundRun(work, task.name).start()
        st.rerun()  # draw the button disabled and the progress at once


def _progress(key: str, what: str) -> None:
    """While the run goes: its progress and Cancel, redrawn every second; once it ends, the whole page again."""
    run: BackgroundRun | None = st.session_state.get(key)
    if run is None:
        return
    if run.running:
        st.progress(run.fraction, text=f"{what}: {run.fraction:.0%}")
        st.button("Cancel", on_click=run.cancelled.set, key=f"{key}_cancel")
        if run.cancelled.is_set():
            st.caption("Stopping after the current batch…")
        return
    st.rerun(scope="app")  # it has just finished: draw the result outside this fragment


_live_progress = st.fragment(_progress, run_every=1.0)


def _finished(key: str, what: str) -> BackgroundRun | None:
    """The session's run once it has ended (its message shown if it was cancelled or failed); None while it goes."""
    run: BackgroundRun | None = st.session_state.get(key)
    if run is None:
        return None
    if run.running:
        _live_progress(key, what)
        return None
    if run.error:
        st.info(plain(run.error))
        return None
    return run


def heads_that_matter() -> None:
    """Which heads matter: the task, a start button, the run's progress, the importance map and pruning curve."""
    st.caption(HEADS_NOTE)
    task = _choose_task("heads", HEAD_ROWS)
    if task is not None:
        _start(HEADS_RUN, "Switch every head off in turn", task, lambda progress, cancelled: ablation.study_heads(
            task.model, _ablation_task(task), progress=progress, cancelled=cancelled))
    if (run := _finished(HEADS_RUN, "Switching each head off, then removing them one by one")) is not None:
        _show_heads(run.result, run.label)


def _ablation_task(task: TaskChoice) -> ablation.AblationTask:
    if task.kind == CLASSIFIER:
        return ablation.classifier_task(task.model, task.texts, task.labels, task.max_tokens)
    return ablation.masked_word_task(task.model, task.texts, seed=0, max_tokens=task.max_tokens)


def _show_heads(study: ablation.HeadStudy, label: str) -> None:
    importance, curve = study.importance, study.pruning
    rows = importance.rows
    st.subheader("The heads this task needs")
    st.caption(plain(f"Task: {label}."))
    what = "right class" if importance.kind == CLASSIFIER else "hidden word"
    st.text(f"All heads on: accuracy {accuracy_text(importance.accuracy, rows)}; mean probability of the "
            f"{what} {importance.probability:.3f}.")
    if note := too_few_rows_note(rows, "Every accuracy here"):
        st.warning(note)
    left, right = st.columns(2)
    figures.show(intervention_charts.importance_map(importance), "heads_map", "head_importance_map", where=left)
    figures.show(intervention_charts.pruning_chart(curve, rows), "heads_pruning", "head_pruning_curve", where=right)
    st.table(_most_important(importance))
    st.text(_pruning_line(curve, rows))
    st.caption(ablation.SHARING_NOTE)


def _most_important(importance: ablation.HeadImportance, count: int = 5) -> pd.DataFrame:
    """The heads whose loss hurts most, with the accuracy (and its rows) when each is off alone."""
    heads = importance.least_important_first()[::-1][:count]
    return pd.DataFrame({
        "head": [ablation.head_name(*head) for head in heads],
        "probability drop": [round(float(importance.probability_drop[head]), 4) for head in heads],
        "accuracy with it off": [accuracy_text(float(importance.ablated_accuracy[head]), importance.rows)
                                 for head in heads],
    }).set_index("head")


def _pruning_line(curve: ablation.PruningCurve, rows: int) -> str:
    half = len(curve.order) // 2
    return (f"With the {half} least important heads of {len(curve.order)} switched off, accuracy is "
            f"{accuracy_text(float(curve.accuracy[half]), rows)} (all on: {curve.accuracy[0]:.1%}); with every "
            f"head off, {accuracy_text(float(curve.accuracy[-1]), rows)}.")


@st.cache_data(show_spinner="Deleting words in each explanation's order…", max_entries=16)
def _faithful_sentence(spec: ModelSpec, text: str, text_pair: str | None, kind: str, mask_position: int | None,
                       baseline: str, _attribution) -> faith.Faithfulness:
    return faith.faithfulness(get_model(spec), text, text_pair, kind, mask_position, explain_panel.STEPS,
                              attribution=_attribution)


def faithful(capture) -> None:
    """Deletion curves for the page's sentence, then (in the background) averaged over a validation set."""
    st.caption(FAITH_NOTE + " " + faith.REPLACEMENT_NOTE)
    asked = explain_panel.question(capture)
    attribution = explain_panel.attribution_or_stop(capture, asked)
    result = _faithful_sentence(current_spec(), capture.text, capture.text_pair, asked.kind, asked.mask_position,
                                asked.baseline, attribution)
    _show_sentence(result)
    st.subheader("Over a validation set")
    task = _choose_task("faith", FAITH_ROWS)
    if task is not None:
        _start(FAITH_RUN, "Delete words on every row", task, lambda progress, cancelled: _faithful_over(
            task, progress, cancelled))
    if (run := _finished(FAITH_RUN, "Explaining each row and deleting its words")) is not None:
        _show_summary(run.result, run.label)


def _faithful_over(task: TaskChoice, progress, cancelled) -> faith.FaithfulnessSummary:
    """The deletion curves over the task's rows; a masked-word row explains the guess at its hidden word (the
    word chosen as for the head map, by seed, inside the tokens the model reads)."""
    if task.kind == CLASSIFIER:
        return faith.faithfulness_over(task.model, task.texts, task.kind, n_steps=16, progress=progress,
                                       cancelled=cancelled)
    masked = ablation.masked_word_task(task.model, task.texts, seed=0, max_tokens=task.max_tokens)
    return faith.faithfulness_over(task.model, masked.texts, task.kind, n_steps=16, progress=progress,
                                   cancelled=cancelled, mask_positions=masked.positions)


def _show_sentence(result: faith.Faithfulness) -> None:
    st.subheader("This sentence")
    st.text(f"The model's answer: “{result.target}”, probability {result.probability:.3f} with nothing deleted.")
    curves = {method: (curve.shares, curve.probabilities) for method, curve in result.curves.items()}
    figures.show(intervention_charts.deletion_chart(curves, "Deleting this sentence's words, most important first"),
                 "faith_sentence_chart", "deletion_curves_sentence")
    st.table(_numbers({m: c.comprehensiveness for m, c in result.curves.items()},
                      {m: c.sufficiency for m, c in result.curves.items()},
                      {m: c.aopc for m, c in result.curves.items()}))
    st.success(plain(faith.verdict({m: c.aopc for m, c in result.curves.items()})))
    tied = {faith.METHODS[m]: c.tied for m, c in result.curves.items() if c.tied and m != "random"}
    if tied:
        st.caption(plain("Equal scores: " + ", ".join(f"{name} gives {count} words the same score"
                                                      for name, count in tied.items())
                         + ". Words with equal scores are deleted in sentence order (a stable order), so the same "
                           "scores always give the same curve."))


def _show_summary(summary: faith.FaithfulnessSummary, label: str) -> None:
    st.caption(plain(f"Task: {label}."))
    figures.show(intervention_charts.deletion_chart(intervention_charts.summary_curves(summary.curves),
                                                    f"Deleting words, most important first: mean over "
                                                    f"{summary.rows:,} rows"),
                 "faith_summary_chart", "deletion_curves_validation")
    st.table(_numbers(summary.comprehensiveness, summary.sufficiency, summary.aopc))
    st.success(plain(faith.verdict(summary.aopc, summary.rows)))


def _numbers(comprehensiveness: dict, sufficiency: dict, aopc: dict) -> pd.DataFrame:
    """One row per explanation (the random floor last), its three numbers rounded for reading."""
    return pd.DataFrame({METHOD_HEADERS["comprehensiveness"]: comprehensiveness,
                         METHOD_HEADERS["sufficiency"]: sufficiency, METHOD_HEADERS["aopc"]: aopc}
                        ).rename(index=faith.METHODS).round(3)
