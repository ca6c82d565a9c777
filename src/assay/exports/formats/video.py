"""Video tracks: MOT challenge text and CVAT for video 1.1 XML, one sequence per task.
An object is a track by its `uuid` across frames (the inline response form of
videoannotation). Boxes only (MOT and CVAT tracks are boxes; polygons by their bounding
box); a response given as a URL of a JSON file is not fetched and is listed in warnings.txt."""

from __future__ import annotations

from typing import Any, Iterator
from xml.sax.saxutils import escape

from assay.exports.formats import vision
from assay.exports.formats.base import Context, Format, Pages, answer_of


def frames(row: dict[str, Any], context: Context) -> list[list[dict[str, Any]]]:
    response = answer_of(row) or {}
    annotations = response.get("annotations") or {}
    if "frames" not in annotations:
        if annotations.get("url"):
            context.warnings.append(f"{row['task_id']}: the answer is a URL ({str(annotations['url'])[:200]}); not fetched, left out")
        return []
    return [[a for a in (f.get("annotations") or []) if isinstance(a, dict)] for f in annotations["frames"]]


def tracks(row: dict[str, Any], context: Context) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """uuid → [(frame index, shape)], in order of first appearance."""
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, shapes in enumerate(frames(row, context)):
        for shape in shapes:
            out.setdefault(shape["uuid"], []).append((index, shape))
    return out


def mot(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    """<task>/gt/gt.txt: `frame,id,left,top,width,height,1,class,1` (frames and ids from 1),
    <task>/seqinfo.ini, and labels.txt (class ids from 1)."""
    labels = vision.Labels(vision.project_labels(context))
    for page in pages:
        for row in page:
            lines = []
            for track_id, (_, shapes) in enumerate(tracks(row, context).items(), start=1):
                for index, shape in shapes:
                    box = vision.box_of(shape)
                    if box is None:
                        continue
                    left, top, width, height = box
                    lines.append((index + 1, track_id, f"{index + 1},{track_id},{left:g},{top:g},{width:g},{height:g},1,"
                                                       f"{labels.id(shape['label']) + 1},1"))
            lines.sort()
            count = len((row.get("params") or {}).get("attachments") or []) or len(frames(row, context))
            yield f"{row['task_id']}/gt/gt.txt", "".join(line + "\n" for *_, line in lines).encode()
            yield f"{row['task_id']}/seqinfo.ini", (f"[Sequence]\nname={row['task_id']}\nimDir=img1\nseqLength={count}\nimExt=.jpg\n").encode()
    yield "labels.txt", "".join(f"{name}\n" for name in labels.names).encode()


def cvat(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    """<task>.xml in CVAT for video 1.1: one <track> per object with a <box> per frame it
    is in, and an `outside` box on the frame after it leaves."""
    labels = vision.Labels(vision.project_labels(context))
    for page in pages:
        for row in page:
            body = []
            count = len(frames(row, context))
            for track_id, (_, shapes) in enumerate(tracks(row, context).items()):
                label = shapes[0][1]["label"]
                labels.id(label)
                boxes = []
                for index, shape in shapes:
                    box = vision.box_of(shape)
                    if box is None:
                        continue
                    left, top, width, height = box
                    boxes.append(f'<box frame="{index}" outside="0" occluded="0" keyframe="1" xtl="{left:.2f}" ytl="{top:.2f}" '
                                 f'xbr="{left + width:.2f}" ybr="{top + height:.2f}" z_order="0"></box>')
                last = shapes[-1][0]
                if boxes and last + 1 < count:
                    boxes.append(boxes[-1].replace(f'frame="{last}" outside="0"', f'frame="{last + 1}" outside="1"'))
                body.append(f'<track id="{track_id}" label="{escape(label)}" source="manual">{"".join(boxes)}</track>')
            meta = (f"<meta><task><name>{escape(row['task_id'])}</name><size>{count}</size><mode>interpolation</mode>"
                    f"<labels>{''.join(f'<label><name>{escape(n)}</name></label>' for n in labels.names)}</labels></task></meta>")
            yield f"{row['task_id']}.xml", f'<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version>{meta}{"".join(body)}</annotations>\n'.encode()


MOT = Format("mot", "MOT challenge tracks (zip)", "zip", "application/zip", vision.VIDEO_TYPES, files=mot)
CVAT = Format("cvat", "CVAT for video 1.1 XML (zip)", "zip", "application/zip", vision.VIDEO_TYPES, files=cvat)
