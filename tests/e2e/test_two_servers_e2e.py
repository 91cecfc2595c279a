"""Two app servers on one PostgreSQL: a job started in a browser on the first is watched to the end and
downloaded in a browser on the second."""
import io
import zipfile

from server import running_app

from test_finetune_e2e import CSV, TIMEOUT_MS


def test_a_job_started_on_one_server_is_watched_and_downloaded_on_the_other(page, postgres, tmp_path):
    shared = {"ALBERT_VIZ_DATABASE_URL": postgres.new_database(), "ALBERT_VIZ_DATA": str(tmp_path / "data")}
    with running_app(env=shared) as first, running_app(env=shared) as second:
        page.goto(f"{first}/finetune", wait_until="domcontentloaded")
        page.locator("input[type=file]").wait_for(state="attached", timeout=TIMEOUT_MS)  # a cold server: slow
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "reviews.csv", "mimeType": "text/csv", "buffer": CSV}])
        page.get_by_text("Rows per label").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("More settings").click()
        steps = page.get_by_label("Stop after steps (0 = all epochs)")
        steps.fill("20")
        steps.press("Enter")
        page.get_by_role("button", name="Start fine-tuning").click()
        page.wait_for_url("**job=*", timeout=TIMEOUT_MS)
        job = page.url.split("job=")[1].split("&")[0]

        other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        other.goto(f"{second}/finetune?job={job}", wait_until="domcontentloaded")  # another student's device
        other.get_by_text("Confusion matrix (validation rows)").wait_for(timeout=TIMEOUT_MS)
        assert "does not know" not in other.inner_text("body")
        with other.expect_download(timeout=TIMEOUT_MS) as download:
            other.get_by_text("Download the fine-tuned model (.zip)").click()
        names = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())).namelist()
        assert any(name.endswith("config.json") for name in names), names
        assert any(name.endswith("model.safetensors") for name in names), names
