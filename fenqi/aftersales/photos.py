"""Photos a shopper attaches to an after-sales request: JPEG or PNG only (checked by their first bytes, not
the name), at most 5 MB each and 3 per case, stored under FENQI_AFTERSALES_PHOTO_DIR with random names."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from fenqi.aftersales.errors import InvalidPhoto

MAX_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 3
SIGNATURES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}


class PhotoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FENQI_AFTERSALES_")

    photo_dir: Path = Path("aftersales-photos")


@lru_cache
def photo_settings() -> PhotoSettings:
    return PhotoSettings()


def check_photo(data: bytes) -> str:
    """The file's extension if it is an acceptable photo; InvalidPhoto otherwise."""
    if len(data) > MAX_BYTES:
        raise InvalidPhoto(zh="照片无效：文件过大（每张不超过 5 MB）", en="Invalid photo: larger than 5 MB")
    for magic, ext in SIGNATURES.items():
        if data.startswith(magic):
            return ext
    raise InvalidPhoto(zh="照片无效：仅支持 JPEG/PNG 格式的照片", en="Invalid photo: not a JPEG or PNG")


def store_photos(case_id: int, files: list[bytes]) -> list[str]:
    """Check every photo first (nothing is written if one is bad), then store them; returns their names."""
    files = [f for f in files if f]
    if len(files) > MAX_PHOTOS:
        raise InvalidPhoto(zh=f"照片无效：最多 {MAX_PHOTOS} 张", en=f"Invalid photo: at most {MAX_PHOTOS}")
    exts = [check_photo(f) for f in files]
    folder = photo_settings().photo_dir / str(case_id)
    names = []
    for data, ext in zip(files, exts, strict=True):
        folder.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(12) + ext
        (folder / name).write_bytes(data)
        names.append(f"{case_id}/{name}")
    return names
