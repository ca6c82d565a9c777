"""What a stored file really is, read from its first bytes.

Uploaders choose their Content-Type, so it is never trusted for display: a file is shown
inline only when its bytes are a raster image, audio, video or PDF (the types a browser
renders without running a script of the file's). Everything else, HTML and SVG included,
is served as a download."""

from __future__ import annotations

# Enough for every signature below (ISO-BMFF brands sit at bytes 8..12).
HEAD_BYTES = 64


def sniff(head: bytes, declared: str | None = None) -> str | None:
    """The inline-safe media type of a file starting with `head`, or None when it is not
    one of the allowed kinds. `declared` only chooses between audio and video for
    containers that hold either (Ogg, WebM, MP4)."""
    declared = (declared or "").lower()
    video = declared.startswith("video/")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "image/bmp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "video/ogg" if video else "audio/ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm" if declared.startswith("audio/") else "video/webm"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return "audio/mpeg"  # ID3 tag, or an MPEG audio frame sync (layer III/II)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS frame
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "image/avif"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        return "audio/mp4" if declared.startswith("audio/") else "video/mp4"
    return None

