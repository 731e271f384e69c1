"""Draw the pictures of ``ops.architecture`` with the AWS icons of the `diagrams` package, through Graphviz.

`diagrams` (PyPI) builds the Graphviz source (icons, clusters, its house style); this module keeps that source
portable (icon paths relative to the package's ``resources`` folder, so the committed ``.dot`` files do not
depend on where the virtualenv lives), renders SVG and PNG with Graphviz's ``dot``, and embeds the icons in
the SVG (an SVG that links local PNG files shows empty boxes anywhere else).
"""

from __future__ import annotations

import base64
import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import diagrams

from ops.architecture import Picture

STYLES = {  # edge style -> Graphviz attributes
    "solid": {"color": "#3B4B5C", "penwidth": "1.6"},
    "dashed": {"color": "#2F6EBA", "style": "dashed", "penwidth": "1.4"},
    "dotted": {"color": "#8A97A6", "style": "dotted", "penwidth": "1.4"},
    "bold": {"color": "#C0392B", "style": "bold", "penwidth": "2.0"},
}
LEGEND = {
    "overview": "solid: requests and calls (tcp/port: a security-group rule)\\ldashed: assumes a role\\l",
    "stack": "solid: reference   dotted: value from another stack\\ldashed: IAM grant or role trust   "
    "bold: security-group rule (port)\\l",
}


def resources_root() -> Path:
    """The folder holding the `diagrams` package's ``resources/`` icons (its site-packages)."""
    return Path(diagrams.__file__).resolve().parent.parent


def _icon_class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(f"diagrams.{module}"), name)


def to_dot(picture: Picture, legend: str) -> str:
    """Graphviz source of ``picture``, with icon paths relative to ``resources_root()``."""

    class Drawing(diagrams.Diagram):  # type: ignore[misc]
        """A diagram that only builds its source: rendering is ours (no file written on exit)."""

        def __exit__(self, *exc: object) -> None:
            diagrams.setdiagram(None)

    graph_attr = {
        "splines": "spline", "nodesep": "0.5", "ranksep": "1.1", "pad": "0.4", "fontsize": "22",
        "labelloc": "t", "newrank": "true", "compound": "true",
    }  # fmt: skip
    node_attr = {"fontsize": "12", "width": "1.1", "imagepos": "tc"}
    with Drawing(picture.title, filename="-", direction="LR", show=False, graph_attr=graph_attr,
                 node_attr=node_attr, edge_attr={"fontsize": "11", "fontname": "Sans-Serif"}) as drawing:  # fmt: skip
        clusters: dict[str, list[str]] = {}
        for node in picture.nodes.values():
            clusters.setdefault(node.cluster, []).append(node.id)
        for stack in sorted(clusters, key=lambda s: (s != "", s != picture.home, s)):
            ids = sorted(clusters[stack])
            if not stack:
                for node_id in ids:
                    _node(picture, node_id)
                continue
            elsewhere = bool(picture.home) and stack != picture.home
            label = f"{stack} stack (what this stack uses from it)" if elsewhere else f"{stack} stack"
            attrs = {"fontsize": "16", "margin": "18", **({"bgcolor": "#F2F3F5"} if elsewhere else {})}
            with diagrams.Cluster(label, graph_attr=attrs) as cluster:
                for node_id in ids:
                    _node(picture, node_id)
                # Nodes with no edge would sit in the first column; keep them beside their stack's others.
                linked = {n for e in picture.edges for n in (e.source, e.target)}
                alone = [n for n in ids if n not in linked]
                anchor = [n for n in ids if n in linked]
                if alone and anchor:
                    cluster.dot.body.append(f"\t{{rank=same; {anchor[-1]}; {'; '.join(alone)}}}\n")
        drawing.node(
            "legend",
            label=LEGEND[legend],
            shape="note",
            fixedsize="false",
            fontsize="11",
            style="solid",
            color="#AEB6BE",
            height="0.4",
            width="0",
            labelloc="c",
        )
        for edge in picture.edges:
            attrs = {**STYLES[edge.style], **({"label": edge.label} if edge.label else {})}
            drawing.dot.edge(edge.source, edge.target, **attrs)
    source: str = drawing.dot.source
    return source.replace(f"{resources_root()}/", "")


def _node(picture: Picture, node_id: str) -> None:
    node = picture.nodes[node_id]
    lines = node.label.count("\n") + 1
    _icon_class(node.icon)(node.label, nodeid=node.id, height=f"{1.1 + 0.2 * lines:.2f}")


def render(source: str, out_stem: Path) -> list[Path]:
    """SVG (icons embedded) and PNG next to ``out_stem``, with Graphviz's `dot`."""
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError("Graphviz `dot` is not installed (Debian: apt-get install graphviz)")
    root = resources_root()
    written = []
    for fmt in ("svg", "png"):
        target = out_stem.with_suffix(f".{fmt}")
        command = [dot, f"-Gimagepath={root}", f"-T{fmt}", "-Gdpi=72" if fmt == "svg" else "-Gdpi=80"]
        result = subprocess.run(command, input=source.encode(), check=True, capture_output=True)  # noqa: S603
        data = result.stdout
        if fmt == "svg":
            data = embed_images(data.decode(), root).encode()
        target.write_bytes(data)
        written.append(target)
    return written


_HREF = re.compile(r'xlink:href="([^"]+\.png)"')


def embed_images(svg: str, root: Path) -> str:
    """Replace every linked PNG (absolute, or relative to ``root``) by a data: URI."""
    cache: dict[str, str] = {}

    def inline(match: re.Match[str]) -> str:
        href = match.group(1)
        if href not in cache:
            path = Path(href) if Path(href).is_absolute() else root / href
            cache[href] = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        return f'xlink:href="{cache[href]}"'

    return _HREF.sub(inline, svg)
