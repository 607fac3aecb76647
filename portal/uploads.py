"""Checking and storing uploaded files: size cap, real type from the content, private storage."""
import io
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg"}
Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs


class UploadError(ValueError):
    """An upload that is refused; the message is for the user."""


def read_limited(file_storage, max_bytes: int | None = None) -> bytes:
    """The upload's bytes, or UploadError when empty or larger than the cap."""
    max_bytes = max_bytes or current_app.config["UPLOAD_MAX_BYTES"]
    data = file_storage.stream.read(max_bytes + 1)
    if not data:
        raise UploadError(_("The file is empty."))
    if len(data) > max_bytes:
        raise UploadError(_("The file is larger than %(mb)s MB.", mb=round(max_bytes / 1048576, 1)))
    return data


def check_image(file_storage, max_bytes: int | None = None) -> tuple[bytes, str]:
    """(bytes, extension) of a real PNG or JPEG image, whatever its name says."""
    data = read_limited(file_storage, max_bytes)
    fmt = _image_format(data, _("The file is not a PNG or JPEG image."))
    return data, IMAGE_FORMATS[fmt]


def _image_format(data: bytes, not_an_image: str) -> str:
    """The format of a real PNG or JPEG in `data` (UploadError `not_an_image` otherwise), refusing images with more
    pixels than MAX_IMAGE_PIXELS: Pillow itself only warns below twice that, and a small file can claim 64 million
    pixels that every later rendering (documents, thumbnails) would decompress."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            image.verify()
    except Image.DecompressionBombError:
        fmt, width, height = "PNG", Image.MAX_IMAGE_PIXELS, 2
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError(not_an_image) from None
    if fmt not in IMAGE_FORMATS:
        raise UploadError(not_an_image)
    if width * height > Image.MAX_IMAGE_PIXELS:
        raise UploadError(_("The image has too many pixels (at most %(n)d million).",
                            n=Image.MAX_IMAGE_PIXELS // 1_000_000))
    return fmt


def check_image_or_pdf(file_storage, max_bytes: int | None = None) -> tuple[bytes, str, str]:
    """(bytes, extension, content type) of a real PNG, JPEG or PDF, judged by the content alone."""
    data = read_limited(file_storage, max_bytes)
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise UploadError(_("The PDF file is incomplete or damaged."))
        return data, "pdf", "application/pdf"
    fmt = _image_format(data, _("Only PNG or JPEG images and PDF files can be uploaded."))
    extension = IMAGE_FORMATS[fmt]
    return data, extension, "image/png" if extension == "png" else "image/jpeg"


def store(data: bytes, folder: str, extension: str) -> str:
    """Write `data` under instance/uploads/<folder>/ with a generated name; return the name."""
    directory = Path(current_app.instance_path) / "uploads" / folder
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    (directory / name).write_bytes(data)
    return name


def path_of(folder: str, name: str) -> Path:
    return Path(current_app.instance_path) / "uploads" / folder / name
