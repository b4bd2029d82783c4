"""Charts drawn on the server with pygal, as SVG images inlined in the page (no script, no CDN)."""

import base64
import sys
from collections.abc import Mapping, Sequence

import pygal
from pygal.style import Style

# pygal appends a `sys.meta_path` finder for its map plugins that has only the legacy `find_module`
# (no `find_spec`): importers that call `find_spec` on every finder (pytest's importlib mode, for one)
# fail on it. The console draws no maps, so the finder goes.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1b1f23",
    foreground_strong="#1b1f23",
    foreground_subtle="#4a5560",
    colors=("#0b5cad", "#1e6b34", "#a4161a", "#7a4b00", "#5b3f9e", "#006d75"),
    font_family="system-ui, sans-serif",
)


def _data_uri(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> str:
    """A bar chart (one bar per label and series) as a `data:` URI for an <img>."""
    chart = pygal.Bar(
        style=_STYLE,
        width=720,
        height=360,
        js=[],
        disable_xml_declaration=False,
        legend_at_bottom=True,
        x_label_rotation=20 if len(labels) > 6 else 0,
        print_values=False,
        title=title,
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _data_uri(chart)
