"""A fine-tuned model as a zip of its save_pretrained folder, and back."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

ZIP_FOLDER = "albert-finetuned"  # the folder the zip unpacks to; pass it to from_pretrained


class ExportError(ValueError):
    """The zip is not a fine-tuned model; the message is for the user."""


def zip_model(model_dir: str | Path, folder_name: str = ZIP_FOLDER) -> bytes:
    """Every file of a save_pretrained folder, inside one top-level folder of the zip."""
    model_dir = Path(model_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(model_dir.iterdir()):
            if path.is_file():
                archive.write(path, f"{folder_name}/{path.name}")
    return buffer.getvalue()


def unzip_model(data: bytes, destination: str | Path) -> Path:
    """Unpack a zip made by zip_model; return the folder that holds config.json."""
    destination = Path(destination)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("/") or ".." in Path(name).parts:
                    raise ExportError(f"The zip holds an unsafe path {name!r}.")
            archive.extractall(destination)
    except zipfile.BadZipFile:
        raise ExportError("This is not a zip file.")
    configs = sorted(destination.rglob("config.json"))
    if not configs:
        raise ExportError("The zip holds no config.json: it is not a saved model.")
    return configs[0].parent
