"""The CSV uploader in a real browser: one upload limit on screen, and a file over it is refused by the page itself."""
TIMEOUT_MS = 120_000
SMALL = ("text,label\n" + "".join(f"a good great movie {i},pos\na bad boring movie {i},neg\n" for i in range(12))).encode()
BIG = b"text,label\n" + b"a review that goes on and on,pos\nanother one that does too,neg\n" * 87_000  # 5.5 MB


def upload(page, name: str, payload: bytes) -> None:
    page.locator("input[type=file]").set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": payload}])


def test_a_file_over_the_limit_is_named_refused_and_replaces_the_old_one(page, app_url):
    page.goto(f"{app_url}/finetune", wait_until="domcontentloaded")
    uploader = page.locator("[data-testid='stFileUploader']")
    uploader.wait_for(timeout=TIMEOUT_MS)
    assert "(at most 5 MB)" in uploader.inner_text() and "per file" not in uploader.inner_text()  # one number
    upload(page, "small.csv", SMALL)
    page.get_by_text("Rows per label").wait_for(timeout=TIMEOUT_MS)
    upload(page, "big.csv", BIG)  # the browser lets it through (server.maxUploadSize), so the page can say why
    error = page.get_by_text("cannot be used")
    error.wait_for(timeout=TIMEOUT_MS)
    assert "big.csv" in error.inner_text() and "the limit is 5 MB" in error.inner_text()
    assert page.get_by_text("Rows per label").count() == 0  # the old file's preview is gone
