"""Streamlit parts of the fine-tuning page: data choice, settings, the live job, the results.

The job itself trains out of this process (albert_viz.finetune.runner: a process of its own, or a
Ray worker); everything here submits it, reads its record from the store and draws it. The job id
is in the page's URL (?job=...), so a reloaded tab or another device opens the same job.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st

from albert_viz.figures import attention_maps

from albert_viz.analysis.compare import side_by_side
from albert_viz.figures import finetune_charts
from albert_viz.model.capture import Capture, CaptureError, capture, token_cap
from albert_viz.teaching import glossary
from albert_viz.finetune.data import (
    LIMIT_TEXT, MAX_CLASSES, MAX_ROWS, SAMPLES, SAMPLES_DIR, CsvError, LabelledDataset, RawTable, TruncationAdvice,
    build_dataset, check_size, guess_columns, label_variants, read_table, truncation_advice,
)
from albert_viz.finetune.export import ZIP_FOLDER, zip_model
from albert_viz.finetune.job import (
    CANCELLED, DONE, FAILED, INTERRUPTED, MAX_LENGTH_LIMIT, FinetuneConfig, FinetuneResult, JobError,
    format_duration, time_left, token_lengths,
)
from albert_viz.finetune.metrics import accuracy_text, too_few_rows_note
from albert_viz.finetune.predict import classify
from albert_viz.finetune.runner import class_rows
from albert_viz.finetune.store import DatabaseUnavailable
from albert_viz.model.loading import LoadedModel, ModelLoadError, ModelSpec, load_model
from albert_viz.model.text_limits import SENTENCE_CHARS, excerpt
from albert_viz.ui import compare_panel, figures, state, timeline_panel, widgets
from albert_viz.ui.resources import get_capture, get_model, get_runner
from albert_viz.ui.text import plain

JOB = "finetune_job"  # id of the session's latest job (the URL's ?job= wins: it survives a reload)
TUNED = "finetune_tuned"  # (job id, LoadedModel) of the finished job's model, loaded once
SHOWN = "finetune_shown"  # id of the job whose finish already triggered a full rerun
UPLOAD = "Upload a CSV"
DEFAULTS = FinetuneConfig()




@dataclass(frozen=True)
class DataChoice:
    """The validated dataset, where it came from (file or sample name) and a digest of its bytes (a cache key)."""

    dataset: LabelledDataset
    digest: str
    name: str = ""


@st.cache_data(show_spinner=False, max_entries=16)
def _read(data: bytes, first_row_is_data: bool = False) -> RawTable:
    return read_table(data, first_row_is_data)


@st.cache_data(show_spinner="Counting tokens…", max_entries=16)
def _lengths(spec: ModelSpec, digest: str, text_column: str, _dataset: LabelledDataset) -> np.ndarray:
    return token_lengths(get_model(spec), _dataset.texts)


# The uploader prints the browser's limit (server.maxUploadSize, 50 MB, so that a larger file reaches our check
# and its message); the label says the app's limit instead, so the page gives one number.
_HIDE_UPLOADER_LIMIT = ("<style>.st-key-ft_upload [data-testid='stFileUploaderDropzoneInstructions']"
                        "{display: none}</style>")


def choose_data() -> DataChoice | None:
    """Upload or sample -> columns -> validated dataset; a clear message (and None) for any problem."""
    source = st.radio("Data", [UPLOAD, *SAMPLES], key="ft_source", horizontal=True)
    if source == UPLOAD:
        st.html(_HIDE_UPLOADER_LIMIT)
        upload = st.file_uploader(f"CSV file with a text column and a label column (at most {LIMIT_TEXT})",
                                  key="ft_upload", help=f"A header row, then one example per row, e.g. `text,label`. "
                                  f"At most {LIMIT_TEXT}, {MAX_ROWS:,} rows and {MAX_CLASSES} labels.")
        if upload is None:
            st.info("Upload a CSV, or pick one of the samples above.")
            return None
        name, data = upload.name, upload.getvalue()
    else:
        name, data = source, (SAMPLES_DIR / SAMPLES[source]).read_bytes()
    try:
        check_size(data)  # before hashing or caching megabytes we will not use
        digest = hashlib.sha256(data).hexdigest()[:16]
        first_row_is_data = _first_row_choice(data, digest)
        table = _read(data, first_row_is_data)
        # the pickers' keys carry the file's digest and header choice so a new reading starts from its own guesses
        text_column, label_column = _column_pickers(table, f"{digest}_{first_row_is_data}")
        merge = _label_merge_choice(table, label_column, digest)
        dataset = build_dataset(table, text_column, label_column, merge_label_variants=merge)
    except CsvError as error:
        st.error(plain(f"“{excerpt(name)}” cannot be used. {error}"))
        return None
    for note in dataset.notes:
        st.info(plain(note))
    return DataChoice(replace(dataset, name=name), digest, name)  # the job's results are titled with the name


def _first_row_choice(data: bytes, digest: str) -> bool:
    """Whether to read the first row as an example: offered when it looks like one rather than column names."""
    table = _read(data)
    if not table.header_looks_like_data:
        return False
    cells = ", ".join(f"“{excerpt(cell, 30)}”" for cell in table.first_row[:4])
    st.warning(plain(f"The first row ({cells}) looks like an example, not column names: this file may have no "
                     "header row. If so, tick the box below so that row is used as an example too."))
    return st.checkbox("The first row is data (the file has no header row)", key=f"ft_no_header_{digest}")


def _column_pickers(table: RawTable, reading: str) -> tuple[str, str]:
    text_guess, label_guess = guess_columns(table)
    columns = list(table.columns)
    left, right = st.columns(2)
    text = left.selectbox("Text column", columns, index=columns.index(text_guess), key=f"ft_text_{reading}")
    label = right.selectbox("Label column", columns, index=columns.index(label_guess), key=f"ft_label_{reading}")
    return text, label


def _label_merge_choice(table: RawTable, label_column: str, digest: str) -> bool:
    """Whether to merge labels that differ only in capitals or spaces: offered when there are any."""
    groups = label_variants(table.frame[label_column])
    if not groups:
        return False
    shown = "; ".join(" / ".join(f"“{excerpt(label, 20)}”" for label in group) for group in groups[:5])
    st.warning(plain(f"Some labels differ only in capitals or spaces, so each spelling would be a class of its "
                     f"own: {shown}. Tick the box below to merge them."))
    return st.checkbox("Merge labels that differ only in capitals or spaces", key=f"ft_merge_{digest}_{label_column}")


def describe_data(choice: DataChoice, loaded: LoadedModel, max_length: int) -> None:
    """Preview, class balance, token lengths, and a warning when most texts are cut."""
    dataset = choice.dataset
    st.caption(plain(f"Using “{excerpt(choice.name)}”: {len(dataset):,} rows, {len(dataset.label_names)} labels. "
                     "Texts are shown as plain text."))
    st.dataframe(dataset.frame().head(200), hide_index=True, height=250, key="ft_preview")
    balance, lengths = st.columns(2)
    figures.show(finetune_charts.class_balance(dataset.class_counts), "ft_balance", "finetune_class_balance",
                 where=balance)
    counts = _lengths(loaded.spec, choice.digest, dataset.text_column, dataset)
    figures.show(finetune_charts.length_histogram(counts, max_length), "ft_lengths", "finetune_text_lengths",
                 where=lengths)
    if advice := truncation_advice(counts, max_length, _length_limit(loaded)):
        _offer_longer_texts(advice)


def _offer_longer_texts(advice: TruncationAdvice) -> None:
    cut = f"{advice.cut:,} of {advice.total:,} texts ({advice.cut / advice.total:.0%})"
    if advice.suggested == advice.max_length:
        st.warning(f"{cut} are longer than {advice.max_length} tokens, the most this model can train on here: "
                   "it learns from their beginnings only.")
        return
    st.warning(f"{cut} are longer than the maximum length of {advice.max_length} tokens and are cut: the model "
               f"learns from their beginnings only. A maximum of {advice.suggested} tokens leaves "
               f"{advice.cut_at_suggested:,} cut, and training takes roughly {advice.time_ratio:.1f}× as long: "
               f"the model reads {advice.time_ratio:.1f}× as many tokens.")
    st.button(f"Use a maximum length of {advice.suggested} tokens", on_click=_set_max_length,
              args=(advice.suggested,), key="ft_longer")


def _set_max_length(tokens: int) -> None:
    st.session_state["ft_max_length"] = tokens


def _length_limit(loaded: LoadedModel) -> int:
    return min(MAX_LENGTH_LIMIT, loaded.max_tokens)


# Settings a student may turn, with their defaults. Streamlit forgets a widget's value in any run that does not
# draw it (no file chosen yet, a refused file), so each value is also kept under KEPT and put back from there.
SETTINGS = {"ft_epochs": DEFAULTS.epochs, "ft_lr": DEFAULTS.learning_rate, "ft_batch": DEFAULTS.batch_size,
            "ft_max_length": DEFAULTS.max_length, "ft_val_fraction": DEFAULTS.validation_fraction,
            "ft_seed": DEFAULTS.seed, "ft_max_steps": DEFAULTS.max_steps}
KEPT = "_kept"


def settings(loaded: LoadedModel) -> FinetuneConfig:
    """The knobs a student may turn; defaults suit the bundled model on a 2-core CPU; they survive data changes."""
    limit = _length_limit(loaded)
    _restore_settings(limit)
    columns = st.columns(4)
    epochs = columns[0].number_input("Epochs", 0.5, 20.0, step=0.5, format="%.1f", key="ft_epochs")
    rate = columns[1].select_slider("Learning rate", [1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3],
                                    format_func="{:.0e}".format, key="ft_lr")
    batch = columns[2].select_slider("Batch size", [4, 8, 16, 32, 64], key="ft_batch")
    length = columns[3].number_input("Max length (tokens)", 8, limit, step=8, key="ft_max_length")
    with st.expander("More settings"):
        more = st.columns(3)
        fraction = more[0].slider("Validation fraction", 0.05, 0.5, step=0.05, key="ft_val_fraction",
                                  help="Held out (stratified by label) to measure accuracy.")
        seed = more[1].number_input("Seed", 0, 2**31 - 1, key="ft_seed")
        steps = more[2].number_input("Stop after steps (0 = all epochs)", 0, 100_000, key="ft_max_steps")
    for key in SETTINGS:
        st.session_state[key + KEPT] = st.session_state[key]
    return FinetuneConfig(epochs=float(epochs), learning_rate=float(rate), batch_size=int(batch),
                          max_length=int(length), validation_fraction=float(fraction), seed=int(seed),
                          max_steps=int(steps), device=loaded.spec.device)


def _restore_settings(limit: int) -> None:
    """Put back every setting Streamlit forgot; a max length over this model's limit comes down to it, saying so."""
    for key, default in SETTINGS.items():
        if key not in st.session_state:
            st.session_state[key] = st.session_state.get(key + KEPT, default)
    if st.session_state["ft_max_length"] > limit:
        st.info(f"Max length was {st.session_state['ft_max_length']} tokens; this model takes at most {limit}, "
                f"so it is now {limit}.")
        st.session_state["ft_max_length"] = limit


@dataclass(frozen=True)
class FinishedJob:
    """What the results views read: the job's id, its result, and the (shared, read-only) base model."""

    id: str
    result: FinetuneResult
    base: LoadedModel
    submitted_at: float = 0.0  # the store's `created`: when Start was clicked

    @property
    def title(self) -> str:
        """Which job these results are of: its data and its settings."""
        result, config = self.result, self.result.config
        data = f"“{excerpt(result.data_name)}”" if result.data_name else "data not named"
        rows = f"{result.train_size + result.report.size:,} rows: {result.train_size:,} to train on, " \
               f"{result.report.size:,} to validate"
        steps = f", stopped after {config.max_steps} steps" if config.max_steps else ""
        return (f"Job {self.id[:8]} · {data} ({rows}) · {config.epochs:g} epochs, learning rate "
                f"{config.learning_rate:.0e}, batch {config.batch_size}, max length {config.max_length} tokens, "
                f"validation fraction {config.validation_fraction:g}, seed {config.seed}{steps} · from "
                f"{result.base_label}")

    def matches(self, choice: DataChoice | None, config: FinetuneConfig | None) -> bool:
        """Whether the page's data and settings are the ones this job ran with."""
        return (choice is not None and config is not None and self.result.config == config
                and choice.dataset.fingerprint == self.result.data_fingerprint)


def needs_database(draw):
    """A part of the page that reads the job store says so while the database is out of reach (and, polled or
    reloaded, works again once it is back) instead of showing a traceback."""
    @functools.wraps(draw)
    def guarded(*args, **kwargs):
        try:
            return draw(*args, **kwargs)
        except DatabaseUnavailable as error:
            st.warning(plain(str(error)))
    return guarded


def current_job_id() -> str | None:
    """The job this page shows: the URL's ?job= (a reload or a second device), else this session's latest."""
    job_id = st.query_params.get("job") or st.session_state.get(JOB)
    return job_id if job_id and re.fullmatch(r"[0-9a-f]{8,32}", job_id) else None


@needs_database
def start_button(loaded: LoadedModel, choice: DataChoice, config: FinetuneConfig) -> None:
    """Submit a job to the runner, unless this session's job is still waiting or training."""
    runner = get_runner()
    for note in runner.notes:
        st.info(note)
    job_id = current_job_id()
    record = runner.record(job_id) if job_id else None
    busy = record is not None and not record.snapshot.finished
    owner = st.text_input("Your name, for the teacher's list of jobs (optional)", key="ft_owner", max_chars=40)
    clicked = st.button("Start fine-tuning", type="primary", disabled=busy, key="ft_start")
    if busy:
        st.caption("Your fine-tuning job is still running (below), so you cannot start another yet: "
                   "cancel it or wait until it has finished.")
    if not clicked:
        return
    try:
        job_id = runner.submit(loaded.spec, choice.dataset, config, owner=owner.strip())
    except JobError as error:
        st.error(plain(str(error)))
        return
    st.session_state[JOB] = job_id
    st.query_params["job"] = job_id  # the page's address now leads back to this job
    st.rerun()  # draw the button disabled and the job's progress at once


@needs_database
def progress() -> None:
    """The job's live progress: redrawn every second while it runs, once when it has finished."""
    job_id = current_job_id()
    if job_id is None:
        return
    record = get_runner().record(job_id)
    if record is None:
        st.warning("This page's address names a fine-tuning job this server does not know (it may have been "
                   "started on another server, or cleaned up). Start a new one above.")
        return
    (_live_progress if not record.snapshot.finished else _draw_progress)(job_id)


@needs_database
def _draw_progress(job_id: str) -> None:
    runner = get_runner()
    snapshot = runner.snapshot(job_id)  # reading it tells the runner someone still watches this job
    if snapshot.queue_position:
        st.info(f"Waiting for the machine: you are number {snapshot.queue_position} in line. "
                "Training starts by itself when the jobs ahead finish.")
    left = time_left(snapshot)
    trained = f" · training {format_duration(snapshot.elapsed_s)}" if snapshot.step else ""
    st.progress(snapshot.fraction, text=f"{snapshot.message}: step {snapshot.step} of {snapshot.total_steps or '…'}"
                                        f"{trained}" + (f" · {left}" if left else ""))
    if snapshot.losses or snapshot.evaluations:
        figures.show(finetune_charts.training_curves(snapshot), "ft_curves", "finetune_training_curves")
        if snapshot.evaluations and snapshot.validation_rows and \
                (note := too_few_rows_note(snapshot.validation_rows, "The validation accuracy")):
            st.warning(note)
    if not snapshot.finished:
        st.button("Cancel training", on_click=runner.cancel, args=(job_id,), key="ft_cancel")
        st.caption("Training runs on the server, not in this tab: closing or reloading the tab does not stop it, "
                   "and this page's address brings you back to it (also from another device). A job that no "
                   "open page has shown for a long time is stopped, to free the machine.")
    elif snapshot.state in (FAILED, INTERRUPTED):
        st.error(plain(snapshot.error or "Training failed."))
    elif snapshot.state == CANCELLED:
        st.warning(plain("Training was cancelled. " + (snapshot.error or "")).strip()
                   + " Change the settings and start again when you like.")
    if snapshot.finished and st.session_state.get(SHOWN) != job_id:
        st.session_state[SHOWN] = job_id
        st.rerun(scope="app")  # draw the results outside this fragment


_live_progress = st.fragment(_draw_progress, run_every=1.0)


def _finished_job() -> FinishedJob | None:
    """The shown job if it finished with a model still on disk; otherwise None (with a word if it was deleted)."""
    job_id = current_job_id()
    record = get_runner().record(job_id) if job_id else None
    if record is None or record.state != DONE:
        return None
    if record.result is None or not (record.result.model_dir / "config.json").exists():
        st.info(plain(record.snapshot.error or "This job's model is no longer on the server. Train it again."))
        return None
    try:
        base = get_model(record.spec)
    except ModelLoadError as error:
        st.error(plain(f"The model this job started from cannot be loaded any more: {error}"))
        return None
    return FinishedJob(job_id, record.result, base, record.created)


def _tuned_model(job: FinishedJob) -> LoadedModel | None:
    """The finished job's model, loaded once per session from its save_pretrained folder (eager attention)."""
    held = st.session_state.get(TUNED)
    if held and held[0] == job.id:
        return held[1]
    try:
        tuned = load_model(ModelSpec("local", str(job.result.model_dir), job.base.spec.device))
    except ModelLoadError as error:
        st.error(plain(f"The fine-tuned model could not be loaded back: {error}"))
        return None
    st.session_state[TUNED] = (job.id, tuned)
    return tuned


# few entries: a 512-token capture of the bundled model is ~100 MB, and st.cache_data counts entries, not bytes
@st.cache_data(show_spinner=False, max_entries=4)
def _tuned_capture(job_id: str, text: str, _tuned: LoadedModel) -> Capture:
    cap = token_cap(_tuned.config)  # the same cap as get_capture: before ~ after
    return capture(_tuned, text, max_tokens=cap.tokens, limit_reason=cap.reason)


@st.cache_data(show_spinner=False, max_entries=4)
def _zip(job_id: str, _model_dir: str) -> bytes:
    return zip_model(_model_dir)


def finished_model() -> tuple[FinishedJob, LoadedModel] | None:
    """The session's finished job and its fine-tuned model (loaded once), or None (with a word when it is gone)."""
    job = _finished_job()
    tuned = _tuned_model(job) if job is not None else None
    return None if tuned is None else (job, tuned)


@needs_database
def results(choice: DataChoice | None = None, config: FinetuneConfig | None = None) -> None:
    """Everything after a finished job: scores, mistakes, try-it, before/after, download.

    Titled with the job's data and settings; folded away once the page's data or settings differ from them,
    so old results never stand under new data as if they were its own."""
    if (finished := finished_model()) is None:
        return
    job, tuned = finished
    if job.matches(choice, config) or (choice is None and _nothing_chosen()):
        st.header("Results")
        st.caption(plain(job.title))
        _results_body(job, tuned)
        return
    st.header("Results of an earlier job")
    now = "the data above" if choice is not None else "no usable data is chosen above"
    st.info(plain(f"These results are of a job on other data or settings than the page shows now ({now}). "
                  "Start fine-tuning to get results for what is chosen; open this to see the earlier ones."))
    with st.expander(plain(job.title), expanded=False):
        _results_body(job, tuned)


def _nothing_chosen() -> bool:
    """No data tried on this page yet (a job's link opened on another device): its results are not 'earlier'."""
    return st.session_state.get("ft_source", UPLOAD) == UPLOAD and st.session_state.get("ft_upload") is None


def _results_body(job: FinishedJob, tuned: LoadedModel) -> None:
    _scores(job)
    _watch_it_learn(job)
    _mistakes(job, tuned)
    _try_it(job, tuned)
    _before_after(job, tuned)
    _download(job)


def _scores(job: FinishedJob) -> None:
    result, report = job.result, job.result.report
    parts = result.durations(job.submitted_at)
    columns = st.columns(4)
    columns[0].metric("Accuracy", f"{report.accuracy:.1%}", help=f"On {report.size:,} validation rows.")
    columns[1].metric("Macro-F1", f"{report.macro_f1:.3f}", help=glossary.explain("Macro-F1"))
    columns[2].metric("Rows (train / validation)", f"{result.train_size} / {report.size}")
    columns[3].metric("Total time", format_duration(parts.total),
                      help=f"From the click on Start to the saved model. Training alone: {result.steps} steps, "
                           f"{result.samples_per_second:.1f} samples/s.")
    st.caption(f"Accuracy {accuracy_text(report.accuracy, report.size)}: the validation rows, never trained on. "
               f"Time: {parts.describe()}.")
    if note := too_few_rows_note(report.size):
        st.warning(note)
    left, right = st.columns(2)
    figures.show(finetune_charts.confusion_matrix(report), "ft_confusion", "finetune_confusion_matrix", where=left)
    per_class = pd.DataFrame([vars(score) for score in report.per_class])
    right.dataframe(per_class, hide_index=True, key="ft_per_class",
                    column_config={"name": "label", "support": "validation rows"})


def _watch_it_learn(job: FinishedJob) -> None:
    st.subheader("Watch it learn")
    st.caption("While it trained, the job recorded a few validation rows at step 0 and at up to ten evenly spaced "
               "steps. Move the slider or press Play: the predictions, one head's attention and the loss move "
               "together.")
    timeline_panel.show_job(job.id)


def _mistakes(job: FinishedJob, tuned: LoadedModel) -> None:
    st.subheader("What it still gets wrong")
    wrong = job.result.report.misclassified
    if not wrong:
        st.success("Every validation row is classified correctly.")
        return
    table = pd.DataFrame([{"text": row.text, "true label": row.true_label, "predicted": row.predicted_label,
                           "confidence": row.confidence} for row in wrong])
    st.caption("The most confident mistakes first. Select a row to see its attention in the fine-tuned model.")
    event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="ft_wrong",
                         column_config={"confidence": st.column_config.ProgressColumn(min_value=0, max_value=1)})
    selected = event.selection.rows if event is not None else []
    if selected:
        _attention_of(job, tuned, wrong[selected[0]].text, key="_ft_wrong")


def _attention_of(job: FinishedJob, tuned: LoadedModel, text: str, key: str) -> None:
    try:
        result = _tuned_capture(job.id, text, tuned)
    except CaptureError as error:
        st.info(plain(str(error)))
        return
    layer, head = widgets.layer_head_selectors(result, key=key)
    figures.show(attention_maps.attention_heatmap(result.attentions[layer, head], result.tokens,
                                                  f"Fine-tuned model · layer {layer}, head {head}"),
                 f"map{key}", f"finetuned_attention_layer{layer}_head{head}")


def _try_it(job: FinishedJob, tuned: LoadedModel) -> None:
    """Classify a sentence; the box starts from a held-out row of the job's own data."""
    st.subheader("Try it")
    text = widgets.limited_text_input(st, "A sentence for the fine-tuned model", SENTENCE_CHARS,
                                      value=_held_out_example(job.result.validation_texts), key=f"ft_try_{job.id}")
    st.caption("It starts from a validation row of your data: the model was checked on it, never trained on it. "
               "Type your own to try it.")
    try:
        prediction = classify(tuned, text)
    except CaptureError as error:
        st.info(plain(str(error)))
        return
    left, right = st.columns([1, 2])
    left.metric("Predicted label", plain(prediction.label))
    figures.show(finetune_charts.probabilities(prediction.probabilities), "ft_probabilities", "finetune_prediction",
                 where=right)


def _held_out_example(texts: tuple[str, ...]) -> str:
    """The first validation text that fits the box (else the start of the first)."""
    return next((text for text in texts if len(text) <= SENTENCE_CHARS), texts[0][:SENTENCE_CHARS] if texts else "")


def _before_after(job: FinishedJob, tuned: LoadedModel) -> None:
    """The Explain page's side-by-side view, for one sentence through the base model and the fine-tuned one."""
    st.subheader("Before and after: what changed inside")
    text = widgets.limited_text_input(st, "Sentence to compare", SENTENCE_CHARS, key="ft_compare_text",
                                      value=st.session_state.get(state.SENTENCE, state.DEFAULT_SENTENCE))
    try:
        before = get_capture(job.base.spec, text)
        after = _tuned_capture(job.id, text, tuned)
    except (CaptureError, ModelLoadError) as error:
        st.info(plain(str(error)))
        return
    compare_panel.render(side_by_side(before, after), names=("Before", "After"), key="ft_compare")
    st.caption(plain(f"Before is {job.base.spec.label}, the model the job started from. Fine-tuning updates the "
                     "one shared layer, so every depth can change."))


def _download(job: FinishedJob) -> None:
    st.subheader("Take it with you")
    st.download_button("Download the fine-tuned model (.zip)", _zip(job.id, str(job.result.model_dir)),
                       file_name=f"{ZIP_FOLDER}.zip", mime="application/zip", key="ft_download")
    st.caption(f"Unzip it and load the `{ZIP_FOLDER}` folder with "
               "`AutoModelForSequenceClassification.from_pretrained(...)`, or choose *Local folder* "
               "as the model source in the sidebar.")
    st.button("Use the fine-tuned model on every page", on_click=_use_everywhere, args=(job,), key="ft_use")


def _use_everywhere(job: FinishedJob) -> None:
    """Make the fine-tuned folder the session's model source (the sidebar shows it as a local folder)."""
    st.session_state[state.MODEL_SPEC] = ModelSpec("local", str(job.result.model_dir), job.base.spec.device)
    st.session_state["model_source"] = "local"


def teacher_view() -> None:
    """The class's jobs, with cancel; only when ALBERT_VIZ_TEACHER_PASSPHRASE is set, and only with it."""
    secret = os.environ.get("ALBERT_VIZ_TEACHER_PASSPHRASE", "")
    if not secret:
        return
    with st.expander("Teacher's view: every fine-tuning job on this server"):
        typed = st.text_input("Teacher's passphrase", type="password", key="ft_teacher_passphrase")
        if not typed:
            return
        if not hmac.compare_digest(typed.encode(), secret.encode()):
            st.error("That is not the teacher's passphrase.")
            return
        _class_jobs()


@st.fragment(run_every=2.0)
@needs_database
def _class_jobs() -> None:
    runner = get_runner()
    records = runner.jobs()
    if not records:
        st.caption("No fine-tuning jobs yet.")
        return
    st.dataframe(pd.DataFrame(class_rows(records, time.time())), hide_index=True, key="ft_class_jobs")
    active = {record.id: record for record in records if not record.snapshot.finished}
    if not active:
        return
    left, right = st.columns([3, 1])
    chosen = left.selectbox("Job to cancel", list(active), key="ft_teacher_job",
                            format_func=lambda job_id: f"{job_id[:8]} · {active[job_id].owner or 'no name'}"
                                                       f" · {active[job_id].state}")
    if right.button("Cancel this job", key="ft_teacher_cancel"):
        runner.cancel(chosen, "Cancelled by the teacher.")
        st.toast(f"Cancelling job {chosen[:8]}.")
