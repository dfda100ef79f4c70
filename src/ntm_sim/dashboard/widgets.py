"""Small pieces every view of the dashboard uses: HTML panes with the tables' styles, messages, guards."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Iterable

import panel as pn
from panel.theme import Inherit, Native
from panel.viewable import Viewable

from ntm_sim.messages import Catalogue
from ntm_sim.present.report_html import CSS

log = logging.getLogger("ntm_sim.dashboard")
VI = Catalogue("vi")

STATUS_CSS = """
div.miss { color: #a50e0e; }
div.met { color: #137333; }
div.warn { background: #fff3cd; border: 1px solid #d39e00; padding: 4px 10px; }
.notice { background: #eef3fb; border: 1px solid #7a9cc6; padding: 4px 10px; }
"""


#: Where keyboard focus is, shown on every control: a page's stylesheet stops at each component's shadow root,
#: and Bokeh's inputs drop the browser's own ring (``outline: 0``) for a faint border.
FOCUS_CSS = """
:focus-visible { outline: 3px solid #1a4f8b !important; outline-offset: 2px; }
.bk-tab:focus-visible { outline-offset: -3px; }  /* inside: the tab bar clips what lies outside a tab */
"""


class Reachable(Native):
    """Panel's native design with :data:`FOCUS_CSS` in every component's shadow root (``pn.extension(design=…)``)."""

    modifiers = {Viewable: {"stylesheets": [Inherit, FOCUS_CSS]}}


#: Bokeh draws a number box's up and down buttons empty: no name a screen reader can say (axe-core's
#: button-name). Hidden, the box keeps its arrow keys and its label.
NO_SPIN = [".bk-spin-btn { display: none !important; }"]


def number_input(**kwargs: object) -> pn.widgets.IntInput:
    """A whole-number box without the unnamed up/down buttons (:data:`NO_SPIN`)."""
    return pn.widgets.IntInput(stylesheets=NO_SPIN, **kwargs)


def html_pane(text: str, **kwargs: object) -> pn.pane.HTML:
    """An HTML pane with the tables' styles (each pane has its own shadow root)."""
    return pn.pane.HTML(text, stylesheets=[CSS, STATUS_CSS], **kwargs)


def message_html(lead: str, items: Iterable[str] = (), css: str = "", element_id: str = "") -> str:
    """A message: a lead sentence (HTML) and a list of plain-text items, each escaped.

    Parameters
    ----------
    lead
        The lead sentence, already HTML (its variable parts escaped by the caller).
    items
        Plain text (file names, problems from the library): escaped here.
    css, element_id
        Class and id of the enclosing ``div`` (the browser tests find messages by id).
    """
    items = list(items)
    body = f"<p>{lead}</p>"
    if items:
        body += "<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>"
    ident = f' id="{html.escape(element_id)}"' if element_id else ""
    role = ' role="status"' if element_id else ""  # read out by screen readers when it changes
    return f'<div{ident}{role} class="{html.escape(css)}">{body}</div>'


def guarded(view: Callable[..., pn.viewable.Viewable], t: Catalogue = VI) -> Callable[..., pn.viewable.Viewable]:
    """A view that shows its failure in its own section instead of breaking the page."""
    @functools.wraps(view)
    def wrapper(*args: object) -> pn.viewable.Viewable:
        try:
            return view(*args)
        except Exception as exc:
            log.exception("view %s failed", view.__name__)
            return html_pane(message_html(t("view.failed"), [f"{type(exc).__name__}: {exc}"], "miss"))
    return wrapper


def empty(t: Catalogue) -> pn.pane.HTML:
    """What a section shows when nothing is ticked."""
    return pn.pane.HTML(f"<p>{html.escape(t('view.empty'))}</p>")


def chart_pane(fig: object, alt: str, element_id: str) -> pn.Column:
    """A chart with the sentence that says what it shows: its text alternative, read before it and seen by all."""
    return pn.Column(html_pane(f'<p class="chart-alt" id="{html.escape(element_id)}">{html.escape(alt)}</p>'),
                     pn.pane.Bokeh(fig))
