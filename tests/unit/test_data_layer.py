"""The data layer on SQLite and on a real PostgreSQL: records, migrations, slots shared by servers, and faults."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import CANCELLED, DONE, QUEUED, RUNNING, FinetuneConfig, FinetuneResult, ProgressSnapshot
from albert_viz.finetune.metrics import ClassScore, EvaluationReport
from albert_viz.finetune.store import JobStore
from albert_viz.model.loading import ModelSpec
from albert_viz.store import migrations
from albert_viz.store.engine import URL_VARIABLE, DatabaseUnavailable, open_engine
from albert_viz.store.jobs import JobTable
from tests.unit import legacy_store_v1

SPEC, CONFIG = ModelSpec("bundled"), FinetuneConfig(max_steps=3)
DATASET = LabelledDataset(texts=("good film", "bad film"), labels=("pos", "neg"), label_names=("neg", "pos"),
                          text_column="text", label_column="label")


def a_result(model_dir) -> FinetuneResult:
    report = EvaluationReport(label_names=("neg", "pos"), accuracy=0.75, macro_f1=0.7,
                              per_class=(ClassScore("neg", 0.5, 1.0, 0.67, 2), ClassScore("pos", 1.0, 0.5, 0.67, 2)),
                              confusion=np.array([[2, 0], [1, 1]]), misclassified=(), size=4)
    return FinetuneResult(model_dir=model_dir, report=report, validation_texts=("a", "b", "c", "d"), train_size=16,
                          steps=3, seconds=1.5, samples_per_second=10.0, config=CONFIG, base_label="bundled")


def test_a_jobs_record_and_dataset_survive_a_reopen(database_url, tmp_path):
    store = JobStore(tmp_path, database_url)
    store.create("a", SPEC, CONFIG, owner="Ada", dataset=DATASET)
    store.publish("a", ProgressSnapshot(state=RUNNING, step=2, total_steps=3, losses=((1, 0.7), (2, float("nan")))))
    reopened = JobStore(tmp_path, database_url)
    record = reopened.get("a")
    assert record.state == RUNNING and record.owner == "Ada" and record.spec == SPEC and record.config == CONFIG
    assert record.snapshot.losses == ((1, 0.7), (2, None))  # PostgreSQL's JSON has no NaN: a gap in the curve
    assert reopened.dataset("a") == DATASET


def test_a_finished_jobs_result_reads_back_and_its_inputs_are_dropped(database_url, tmp_path):
    store = JobStore(tmp_path, database_url)
    store.create("a", SPEC, CONFIG, dataset=DATASET)
    assert store.finish("a", DONE, result=a_result(tmp_path / "model"))
    assert not store.finish("a", CANCELLED)  # the first ending wins
    result = JobStore(tmp_path, database_url).get("a").result
    assert result.report.accuracy == 0.75 and result.report.confusion.tolist() == [[2, 0], [1, 1]]
    assert store.dataset("a") is None


def test_two_servers_migrating_at_once_migrate_once(database_url):
    engines, applied, start = [open_engine(database_url) for _ in range(3)], [], threading.Barrier(3)

    def migrate(engine) -> None:
        start.wait()
        applied.append(migrations.migrate(engine))

    threads = [threading.Thread(target=migrate, args=(engine,)) for engine in engines]
    [thread.start() for thread in threads]
    [thread.join(60) for thread in threads]
    assert sorted(applied) == [[], [], list(range(1, migrations.LATEST + 1))]
    with engines[0].connect() as connection:
        assert migrations.current_version(connection) == migrations.LATEST


def test_servers_never_fill_more_slots_than_there_are(database_url):
    """Six servers race for three slots over six waiting jobs: exactly three jobs start, each once."""
    tables = [JobTable(database_url) for _ in range(6)]
    tables[0].ensure_slots(3)
    store = JobStore(url=database_url)
    for number in range(6):
        store.create(f"job{number}", SPEC, CONFIG, runner="local", dataset=DATASET)
    claims, start = [], threading.Barrier(len(tables))

    def claim(table: JobTable, server: str) -> None:
        start.wait()
        claims.append(table.claim_next(server, 3, QUEUED, runner="local"))

    threads = [threading.Thread(target=claim, args=(table, f"server{n}")) for n, table in enumerate(tables)]
    [thread.start() for thread in threads]
    [thread.join(60) for thread in threads]
    started = [job for job in claims if job]
    assert len(started) == 3 and len(set(started)) == 3 and started.count(None) == 0
    assert sorted(started) == ["job0", "job1", "job2"]  # the oldest waiting jobs, first come first served
    assert tables[0].claim_next("late", 3, QUEUED, runner="local") is None


def test_a_jobs_end_frees_its_slot_for_the_next(database_url):
    table, store = JobTable(database_url), JobStore(url=database_url)
    table.ensure_slots(1)
    for job_id in ("first", "second"):
        store.create(job_id, SPEC, CONFIG, runner="local", dataset=DATASET)
        time.sleep(0.01)
    assert table.claim_next("a", 1, QUEUED, runner="local") == "first"
    assert table.claim_next("b", 1, QUEUED, runner="local") is None
    store.finish("first", DONE)
    assert table.claim_next("b", 1, QUEUED, runner="local") == "second"


def test_a_waiting_job_cancelled_on_another_server_never_starts(database_url):
    table, other = JobTable(database_url), JobStore(url=database_url)
    table.ensure_slots(1)
    other.create("a", SPEC, CONFIG, runner="local", dataset=DATASET)
    assert other.cancel_if_waiting("a", "Cancelled by the teacher.")
    assert table.claim_next("server", 1, QUEUED, runner="local") is None
    assert other.get("a").state == CANCELLED and other.get("a").snapshot.error == "Cancelled by the teacher."


def test_a_claimed_job_is_not_cancelled_as_waiting(database_url):
    table, store = JobTable(database_url), JobStore(url=database_url)
    table.ensure_slots(1)
    store.create("a", SPEC, CONFIG, runner="local", dataset=DATASET)
    table.claim_next("server", 1, QUEUED, runner="local")
    assert not store.cancel_if_waiting("a") and store.get("a").state == QUEUED  # its server stops it instead


def test_an_old_sqlite_store_is_migrated_in_place_with_its_finished_jobs(tmp_path):
    old = legacy_store_v1.JobStore(tmp_path)  # today's code writes the store
    old.create("done", SPEC, CONFIG, owner="Ada", runner="local")
    old.publish("done", ProgressSnapshot(state=RUNNING, step=3, total_steps=3, losses=((1, 0.7), (3, 0.4))))
    old.finish("done", DONE, result=a_result(tmp_path / "results" / "done" / "model"))
    old.create("gone", SPEC, CONFIG, runner="local")
    old.finish("gone", CANCELLED, error="Cancelled by the teacher.")
    store = JobStore(tmp_path)  # the new app's first start on the same folder
    done = store.get("done")
    assert done.state == DONE and done.owner == "Ada" and done.snapshot.losses == ((1, 0.7), (3, 0.4))
    assert done.result.report.accuracy == 0.75 and done.result.model_dir == tmp_path / "results" / "done" / "model"
    assert store.get("gone").snapshot.error == "Cancelled by the teacher."
    with store.table.engine.connect() as connection:
        assert migrations.current_version(connection) == migrations.LATEST
    store.create("new", SPEC, CONFIG, dataset=DATASET)  # and the migrated store takes new jobs
    assert [record.id for record in store.jobs()] == ["new", "gone", "done"]


def test_an_unreachable_database_names_the_variable():
    url = "postgresql+psycopg://teacher:hunter2@127.0.0.1:1/albert_viz"  # nothing listens on port 1
    with pytest.raises(DatabaseUnavailable) as error:
        JobStore(url=url)
    message = str(error.value)
    assert URL_VARIABLE in message and "127.0.0.1:1" in message and "hunter2" not in message


def test_a_wrong_password_is_refused_and_never_shown(postgres):
    url = postgres.url(password="not-the-Password-77")
    with pytest.raises(DatabaseUnavailable) as error:
        JobStore(url=url)
    assert "password authentication failed" in str(error.value)
    assert "not-the-Password-77" not in str(error.value) and "***" in str(error.value)


def test_an_unknown_database_is_named(postgres):
    with pytest.raises(DatabaseUnavailable) as error:
        JobStore(url=postgres.url("no_such_db"))
    assert 'database "no_such_db" does not exist' in str(error.value)


def test_a_url_that_is_not_one_says_what_to_write():
    with pytest.raises(DatabaseUnavailable, match="postgresql\\+psycopg://"):
        JobStore(url="localhost:5432")


@pytest.fixture
def own_postgres():
    """A server of its own, for the test that stops it."""
    from tests.postgres import remove, start_postgres

    server = start_postgres()
    yield server
    remove(server)


def test_a_job_that_finishes_while_the_database_is_down_is_recorded_when_it_returns(own_postgres, tmp_path):
    url = own_postgres.new_database()
    store = JobStore(tmp_path, url)
    store.create("a", SPEC, CONFIG, dataset=DATASET)
    own_postgres.stop()
    with pytest.raises(DatabaseUnavailable, match=URL_VARIABLE):
        store.get("a")  # what a page shows while it is down
    recorded = []
    finisher = threading.Thread(target=lambda: recorded.append(store.finish_when_back("a", 120, DONE)))
    finisher.start()
    time.sleep(2)
    assert recorded == []  # still waiting for the database
    own_postgres.start()
    finisher.join(120)
    assert recorded == [True] and store.get("a").state == DONE  # and the store works again, same engine
