"""The fine-tuning page in a real browser: upload a CSV, train a few steps, see the confusion matrix."""
TIMEOUT_MS = 120_000
CSV = ("text,label\n" + "".join(f"a good great movie {i},pos\na bad boring movie {i},neg\n" for i in range(12))).encode()


def test_upload_train_and_see_the_confusion_matrix(page, app_url):
    page.goto(f"{app_url}/finetune", wait_until="domcontentloaded")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "reviews.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_text("Rows per label").wait_for(timeout=TIMEOUT_MS)  # the upload was read and validated
    page.get_by_text("More settings").click()
    steps = page.get_by_label("Stop after steps (0 = all epochs)")
    steps.fill("3")
    steps.press("Enter")
    page.get_by_role("button", name="Start fine-tuning").click()
    page.get_by_text("Confusion matrix (validation rows)").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_text("Accuracy").first.is_visible()
    page.get_by_text("Download the fine-tuned model (.zip)").wait_for(timeout=TIMEOUT_MS)


def test_a_reloaded_tab_finds_its_training_job_by_the_url(page, app_url):
    page.goto(f"{app_url}/finetune", wait_until="domcontentloaded")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "reviews.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_text("Rows per label").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("More settings").click()
    steps = page.get_by_label("Stop after steps (0 = all epochs)")
    steps.fill("5000")  # far longer than the test: it is cancelled below
    steps.press("Enter")
    page.get_by_role("button", name="Start fine-tuning").click()
    page.get_by_text("Training: step").wait_for(timeout=TIMEOUT_MS)  # training, not just queued
    assert "job=" in page.url
    address = page.url
    page.reload(wait_until="domcontentloaded")  # the tab's session is gone; the job is not
    page.get_by_text("Training: step").wait_for(timeout=TIMEOUT_MS)
    assert page.url == address
    page.get_by_role("button", name="Cancel training").click()
    page.get_by_text("Training was cancelled").wait_for(timeout=TIMEOUT_MS)
